import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE, DetectionSampler } from '../../boards/sim/detection.ts';
import { EXAMPLE_SEARCH_START, EXAMPLE_TLE, Orbit, bestPass } from '../../boards/sim/orbit.ts';
import { DEFAULT_POLARISATION, PolarisationTrack, foldAxisRad, frameAngleRad, polarisationErrorProfile } from '../../boards/sim/polarisation-frame.ts';
import { stationByName } from '../../boards/sim/stations.ts';
import { packedSettings, settingsTable } from '../../qkd/settings.ts';

const DEG = Math.PI / 180;

describe('polarisation frame angle', () => {
  // Station on the x axis, vertical +x; satellite 500 km up and 100 km off along z.
  const station = { x: 6378, y: 0, z: 0 };
  const up = { x: 1, y: 0, z: 0 };
  const sat = { x: 6878, y: 0, z: 100 };

  it('is 0 when the payload axis lies along the telescope elevation axis (either way round: an axis)', () => {
    // up x los points along -y: the elevation axis.
    expect(frameAngleRad(sat, { x: 0, y: -1, z: 0 }, station, up)).toBeCloseTo(0, 12);
    expect(frameAngleRad(sat, { x: 0, y: 1, z: 0 }, station, up)).toBeCloseTo(0, 12);
  });

  it('is 90 deg when the payload axis lies in the vertical plane of the line of sight', () => {
    expect(Math.abs(frameAngleRad(sat, { x: 0, y: 0, z: 1 }, station, up))).toBeCloseTo(Math.PI / 2, 12);
  });

  it('is signed about the line of sight, and only the part perpendicular to it counts', () => {
    const los = { x: 500, y: 0, z: 100 };
    const n = Math.hypot(500, 100);
    // In the image plane: e1 = elevation axis (0,-1,0), e2 = los x e1 = (100, 0, -500)/n.
    const e2 = { x: 100 / n, y: 0, z: -500 / n };
    const axis = (deg: number, alongLos: number) => ({
      x: Math.sin(deg * DEG) * e2.x + alongLos * los.x,
      y: -Math.cos(deg * DEG),
      z: Math.sin(deg * DEG) * e2.z + alongLos * los.z,
    });
    expect(frameAngleRad(sat, axis(30, 0), station, up) / DEG).toBeCloseTo(30, 9);
    expect(frameAngleRad(sat, axis(-45, 0.01), station, up) / DEG).toBeCloseTo(-45, 9);
  });

  it('folds axis angles into (-90, 90] deg', () => {
    expect(foldAxisRad(170 * DEG) / DEG).toBeCloseTo(-10, 12);
    expect(foldAxisRad(-100 * DEG) / DEG).toBeCloseTo(80, 12);
    expect(foldAxisRad(90 * DEG) / DEG).toBeCloseTo(90, 12);
  });
});

describe('the frame over the Beijing pass', () => {
  const station = stationByName('beijing');
  const pass = bestPass(new Orbit(EXAMPLE_TLE), station, EXAMPLE_SEARCH_START, 72, 10);
  const start = new Date(pass.tca.getTime() - 150_000);
  const track = new PolarisationTrack(EXAMPLE_TLE, station, start, 300);

  it('rotates through the pass: small at culmination, large at the ends', () => {
    const atCulmination = Math.min(...[145, 150, 155].map((t) => Math.abs(track.angleRad(t))));
    expect(atCulmination).toBeLessThan(30 * DEG);
    expect(Math.abs(track.angleRad(0))).toBeGreaterThan(60 * DEG);
    expect(Math.abs(track.angleRad(300))).toBeGreaterThan(60 * DEG);
  });

  it('compensated, only the plate calibration offset is left; uncompensated, all of the angle', () => {
    const on = polarisationErrorProfile(EXAMPLE_TLE, station, start, 300, true);
    const off = polarisationErrorProfile(EXAMPLE_TLE, station, start, 300, false);
    const cal = Math.sin(DEFAULT_POLARISATION.calibrationOffsetDeg * DEG) ** 2;
    for (const t of [0, 100, 150, 250]) {
      expect(on(t)).toBeCloseTo(cal, 15);
      expect(off(t)).toBeCloseTo(Math.sin(track.angleRad(t)) ** 2, 12);
    }
    expect(cal).toBeGreaterThan(0);
    expect(cal).toBeLessThan(1e-3);
  });

  it('uncompensated, the QBER by time grows with |angle| (sampled detections against Alice)', () => {
    const off = polarisationErrorProfile(EXAMPLE_TLE, station, start, 300, false);
    const seed = 8;
    const sampler = new DetectionSampler(DEFAULT_SOURCE, DEFAULT_DETECTOR, seed, 9);
    const table = settingsTable(seed, { p: DEFAULT_SOURCE.p, pKeyBasis: DEFAULT_SOURCE.pKeyBasis });
    const rows: { angle: number; qber: number }[] = [];
    const slice = 6_250_000;
    for (let t = 100; t <= 200; t += 10) {
      const p0 = t * 625e6;
      for (let s = 0; s < 10; s++) sampler.sample(p0 + s * slice, p0 + (s + 1) * slice, 2e-3, { polarisationErrorProb: off(t) });
      const n = sampler.tags.length;
      let sifted = 0;
      let errors = 0;
      for (let i = 0; i < n; i++) {
        const a = packedSettings(table, sampler.tags.pulseBuffer[i]);
        const d = sampler.tags.detectorBuffer[i];
        if (a >>> 2 !== 0 || ((a >>> 1) & 1) !== d >>> 1) continue; // signal class, bases agree
        sifted++;
        if ((a & 1) !== (d & 1)) errors++;
      }
      sampler.tags.length = 0;
      rows.push({ angle: Math.abs(track.angleRad(t)), qber: errors / sifted });
    }
    for (const r of rows) expect(r.qber).toBeCloseTo(DEFAULT_DETECTOR.misalignment + Math.sin(r.angle) ** 2 * (1 - 2 * DEFAULT_DETECTOR.misalignment), 1);
    // Ordered by |angle|, the QBER ascends wherever the angles differ by more than 5 deg.
    rows.sort((a, b) => a.angle - b.angle);
    for (let i = 1; i < rows.length; i++) if (rows[i].angle - rows[i - 1].angle > 5 * DEG) expect(rows[i].qber).toBeGreaterThan(rows[i - 1].qber);
    expect(rows.at(-1)!.qber).toBeGreaterThan(0.3);
  });
});
