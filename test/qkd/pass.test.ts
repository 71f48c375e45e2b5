import { describe, expect, it } from 'vitest';
import { DEFAULT_CHANNEL, channelTransmittance, lossDb } from '../../boards/sim/channel.ts';
import { DEFAULT_DETECTOR } from '../../boards/sim/detection.ts';
import { EXAMPLE_SEARCH_START, Orbit, bestPass, sampleGeometry } from '../../boards/sim/orbit.ts';
import { runPass } from '../../hil/mission/physics-pass.ts';
import { STATIONS } from '../../boards/sim/stations.ts';

const small = { blockBits: 300_000, minBlockBits: 50_000 };

describe('pass simulation', () => {
  it('every station gets a pass from the example TLE; loss stays in the 30-45 dB class', () => {
    const orbit = new Orbit();
    for (const st of Object.values(STATIONS)) {
      const p = bestPass(orbit, st, EXAMPLE_SEARCH_START);
      expect(p.maxElevationDeg).toBeGreaterThan(30);
      const start = new Date(p.tca.getTime() - 150_000);
      for (const g of sampleGeometry(orbit, st, start, 300, 10)) {
        if (g.elevationDeg < 15) continue;
        expect(g.rangeKm).toBeGreaterThan(490);
        expect(g.rangeKm).toBeLessThan(1700);
        const l = lossDb(channelTransmittance(DEFAULT_CHANNEL, g.rangeKm, g.elevationDeg, 1) * DEFAULT_DETECTOR.efficiency);
        expect(l).toBeGreaterThan(30);
        expect(l).toBeLessThan(45);
      }
    }
  });

  it('pointing jitter from the hook costs key', () => {
    const steady = runPass({ station: 'beijing', seed: 21, durationS: 6, distill: small });
    const shaky = runPass({ station: 'beijing', seed: 21, durationS: 6, distill: small, jitterUrad: (t) => 3 + Math.sin(t) });
    expect(shaky.summary.lossDbMin).toBeGreaterThan(steady.summary.lossDbMin + 0.5);
    expect(shaky.summary.detections).toBeLessThan(steady.summary.detections);
  });

  it('is reproducible bit for bit for a seed, and a different seed differs', () => {
    const a = runPass({ station: 'beijing', seed: 5, durationS: 20, distill: small });
    const b = runPass({ station: 'beijing', seed: 5, durationS: 20, distill: small });
    const c = runPass({ station: 'beijing', seed: 6, durationS: 20, distill: small });
    const strip = (s: typeof a.summary) => ({ ...s, wallS: 0 });
    expect(a.summary.finalKeyBits).toBeGreaterThan(0);
    expect(strip(b.summary)).toEqual(strip(a.summary));
    expect(b.pools.alice.fingerprint()).toBe(a.pools.alice.fingerprint());
    expect(c.summary.keySha256).not.toBe(a.summary.keySha256);
    expect(c.summary.detections).not.toBe(a.summary.detections);
  });

  it('the default 300 s pass over Beijing yields 0.25-1.1 Mbit of key at 1-3 % QBER', () => {
    const r = runPass({ station: 'beijing', seed: 1 });
    const s = r.summary;
    expect(s.durationS).toBe(300);
    expect(s.pulses).toBeGreaterThan(1.8e11);
    expect(s.finalKeyBits).toBeGreaterThanOrEqual(250_000);
    expect(s.finalKeyBits).toBeLessThanOrEqual(1_100_000);
    expect(s.qber).toBeGreaterThanOrEqual(0.01);
    expect(s.qber).toBeLessThanOrEqual(0.03);
    expect(s.lossDbMin).toBeGreaterThanOrEqual(30);
    expect(s.lossDbMax).toBeLessThanOrEqual(45);
    expect(s.keysEqual).toBe(true);
    // Authentication (transcript tags, docs/qkd.md) costs at most 5 % of the key.
    expect(s.authKeyConsumedBits).toBeLessThanOrEqual(0.05 * s.finalKeyBits);
    expect(s.ecEfficiency).toBeLessThan(1.15);
    expect(s.blocksDelivered).toBeGreaterThanOrEqual(3);
    // Key was delivered during the pass, block by block.
    const times = r.bobBlocks.filter((b) => b.status === 'delivered').map((b) => b.settledAtS!);
    expect(Math.min(...times)).toBeLessThan(200);
  });
});
