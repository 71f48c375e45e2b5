import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimeSync, roundHalfUp } from '../../boards/ground/time-sync.ts';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE, DetectionSampler } from '../../boards/sim/detection.ts';
import { LightTime } from '../../boards/sim/light-time.ts';
import { EXAMPLE_SEARCH_START, EXAMPLE_TLE, Orbit, bestPass, sampleGeometry } from '../../boards/sim/orbit.ts';
import { continuousSchedule, gatedSchedule, type ScheduledFrame } from '../../boards/sim/pulse-schedule.ts';
import { stationByName } from '../../boards/sim/stations.ts';
import { DEFAULT_TIME_TAGGER, GroundTimeTagger, type TimeTaggerConfig } from '../../boards/sim/time-tagger.ts';
import { TimeTagBuffer, type TimeTags } from '../../boards/sim/time-tags.ts';
import { TimePath } from '../../hil/mission/time-path.ts';
import { packedSettings, settingsTable } from '../../qkd/settings.ts';

const RATE_HZ = 625e6;
const PPF = 1 << 20;
const PULSES_PER_S = RATE_HZ;

/** Slant range of a straight-line flyby: closest approach dKm at t0S, speed vKmS (a LEO pass's Doppler swing). */
const flyby = (dKm: number, vKmS: number, t0S: number) => (tS: number) => Math.hypot(dKm, vKmS * (tS - t0S));

/** The real Beijing pass of the example TLE, 300 s around culmination. */
function beijingRange(): (tS: number) => number {
  const station = stationByName('beijing');
  const orbit = new Orbit(EXAMPLE_TLE);
  const pass = bestPass(orbit, station, EXAMPLE_SEARCH_START, 72, 10);
  const geo = sampleGeometry(orbit, station, new Date(pass.tca.getTime() - 150_000), 300, 1);
  return (tS) => geo[Math.max(0, Math.min(geo.length - 1, tS))].rangeKm;
}

const indexOf = (t: TimeTags, i: number) => t.frameNumber[i] * t.pulsesPerFrame + t.offsetInFrame[i];

/**
 * Runs pulses [0, seconds * rate) in 1 s batches with `perBatch` tags at spaced pseudo-random
 * pulses through a time path; returns the true and the resolved indices.
 */
function roundTrip(path: TimePath, seconds: number, perBatch: number, salt: number): { truth: number[]; got: number[] } {
  const buf = new TimeTagBuffer(PPF);
  const truth: number[] = [];
  const got: number[] = [];
  const step = Math.floor(PULSES_PER_S / perBatch);
  for (let b = 0; b < seconds; b++) {
    const p0 = b * PULSES_PER_S;
    path.emitted(p0, p0 + PULSES_PER_S);
    for (let k = 0; k < perBatch; k++) {
      const idx = p0 + k * step + ((Math.imul(k + 1, 0x9e3779b1) ^ salt) >>> 0) % (step - 2);
      buf.push(idx, k & 1, (k >>> 1) & 1);
      truth.push(idx);
    }
    const out = path.take(buf);
    for (let i = 0; i < out.frameNumber.length; i++) got.push(indexOf(out, i));
  }
  return { truth, got };
}

describe('time tagger and time sync', () => {
  it('round-trip: at zero jitter every tag comes back on its own pulse, for any clock offset and drift (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -0.8e9, max: 0.8e9, noNaN: true }),
        fc.double({ min: -1e-6, max: 1e-6, noNaN: true }),
        fc.integer({ min: 480, max: 1500 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (clockOffsetPs, clockDrift, closestKm, salt) => {
          const path = new TimePath({
            schedule: continuousSchedule(RATE_HZ),
            rangeKmAtS: flyby(closestKm, 7.6, 4),
            originPs: 0,
            pulsesPerFrame: PPF,
            seed: salt,
            tagger: { clockOffsetPs, clockDrift, jitterPs: 0, syncLossProb: 0.05 },
          });
          const { truth, got } = roundTrip(path, 8, 300, salt);
          expect(got).toEqual(truth);
          expect(path.stats.outsideWindow + path.stats.beforeSync + path.stats.sameSlot).toBe(0);
        },
      ),
      { seed: 14, numRuns: 25 },
    );
  });

  it('acquisition finds an offset it is not told, from the sync pulse train alone', () => {
    for (const clockOffsetPs of [-0.8e9, -0.31e9, 0, 0.123456e9, 0.79e9]) {
      const path = new TimePath({
        schedule: continuousSchedule(RATE_HZ),
        rangeKmAtS: flyby(700, 7.6, 1),
        originPs: 0,
        pulsesPerFrame: PPF,
        seed: 3,
        tagger: { clockOffsetPs, clockDrift: 0, jitterPs: 0 },
      });
      roundTrip(path, 1, 10, 1);
      expect(path.stats.acquired).toBe(true);
      // Within a few sync jitters (50 ps sigma).
      expect(Math.abs(path.stats.acquiredOffsetPs - clockOffsetPs)).toBeLessThan(300);
    }
  });

  it("tracking holds through the Beijing pass's Doppler swing: at zero jitter all tags land on their true slot", () => {
    const rangeKmAtS = beijingRange();
    const light = new LightTime(rangeKmAtS);
    // The swing the tracker has to follow: the light time moves by microseconds (thousands of slots) ...
    const swingPs = light.ps(0) - light.ps(150e12);
    expect(swingPs).toBeGreaterThan(1e6);
    // ... and the Doppler runs from about +2e-5 to -2e-5.
    expect(light.rate(1e12)).toBeLessThan(-1.5e-5);
    expect(light.rate(299e12)).toBeGreaterThan(1.5e-5);
    const path = new TimePath({ schedule: continuousSchedule(RATE_HZ), rangeKmAtS, originPs: 0, pulsesPerFrame: PPF, seed: 9, tagger: { jitterPs: 0, clockDrift: 1e-6 } });
    const { truth, got } = roundTrip(path, 300, 200, 77);
    expect(got.length).toBe(truth.length);
    expect(got).toEqual(truth);
  });

  it('follows a gated source: frames with gaps between them (the mission), indices exact at zero jitter', () => {
    // Frames of 2^20 pulses opened at whole ms, with a 40 ms gap after every fifth.
    const frames: ScheduledFrame[] = [];
    let startMs = 3;
    for (let n = 0; n < 400; n++) {
      frames.push({ frameNumber: 100 + n, startMs, stopMs: startMs + PPF / 625_000, pulsesPlanned: PPF, ratePerMs: 625_000 });
      startMs = Math.ceil(startMs + PPF / 625_000) + (n % 5 === 4 ? 40 : 0);
    }
    const schedule = gatedSchedule(frames, PPF, RATE_HZ);
    const path = new TimePath({ schedule, rangeKmAtS: flyby(600, 7.6, 0.5), originPs: 0, pulsesPerFrame: PPF, seed: 4, tagger: { jitterPs: 0, clockOffsetPs: -0.5e9 } });
    const buf = new TimeTagBuffer(PPF);
    const truth: number[] = [];
    const got: number[] = [];
    for (const f of frames) {
      const base = f.frameNumber * PPF;
      path.emitted(base, base + PPF);
      for (let k = 0; k < 20; k++) {
        buf.push(base + k * 50_000 + ((k * 7919) % 40_000), 1, 0);
        truth.push(base + k * 50_000 + ((k * 7919) % 40_000));
      }
      if (f.frameNumber % 10 === 0) {
        const out = path.take(buf);
        for (let i = 0; i < out.frameNumber.length; i++) got.push(indexOf(out, i));
      }
    }
    const out = path.take(buf);
    for (let i = 0; i < out.frameNumber.length; i++) got.push(indexOf(out, i));
    expect(got).toEqual(truth);
  });

  it('rejects a bad tagger configuration by name', () => {
    const light = new LightTime(() => 800);
    const make = (c: Partial<TimeTaggerConfig>) => () => new GroundTimeTagger({ ...DEFAULT_TIME_TAGGER, ...c }, continuousSchedule(RATE_HZ), light, 1);
    expect(make({ syncEveryPulses: 0 })).toThrow(/syncEveryPulses/);
    expect(make({ syncLossProb: 1 })).toThrow(/syncLossProb/);
    expect(make({ jitterPs: -1 })).toThrow(/jitterPs/);
    expect(() => new TimeSync(continuousSchedule(RATE_HZ), light, PPF, PPF, { windowPs: 0 })).toThrow(/windowPs/);
    expect(() => new TimeSync(continuousSchedule(RATE_HZ), light, PPF, PPF, { fitSyncs: 1 })).toThrow(/fitSyncs/);
  });
});

/**
 * Detections of a steady link through the time path; QBER over all sifted tags (every
 * intensity class) against Alice's settings, and how many tags came through.
 */
function siftedQber(o: { jitterPs: number; windowPs?: number; trackingOff?: boolean }): { qber: number; tags: number } {
  const seed = 41;
  const sampler = new DetectionSampler(DEFAULT_SOURCE, DEFAULT_DETECTOR, seed, 42);
  const path = new TimePath({
    schedule: continuousSchedule(RATE_HZ),
    rangeKmAtS: flyby(900, 7.6, 1.5),
    originPs: 0,
    pulsesPerFrame: PPF,
    seed: 43,
    tagger: { jitterPs: o.jitterPs },
    sync: o.windowPs === undefined ? {} : { windowPs: o.windowPs },
    trackingOff: o.trackingOff,
  });
  const table = settingsTable(seed, { p: DEFAULT_SOURCE.p, pKeyBasis: DEFAULT_SOURCE.pKeyBasis });
  let sifted = 0;
  let errors = 0;
  let tags = 0;
  const slice = 6_250_000;
  for (let s = 0; s < 300; s++) {
    sampler.sample(s * slice, (s + 1) * slice, 2e-3);
    path.emitted(s * slice, (s + 1) * slice);
    if (s % 100 !== 99) continue;
    const t = path.take(sampler.tags);
    for (let i = 0; i < t.frameNumber.length; i++) {
      const a = packedSettings(table, indexOf(t, i));
      if (((a >>> 1) & 1) !== t.detector[i] >>> 1) continue;
      sifted++;
      if ((a & 1) !== (t.detector[i] & 1)) errors++;
    }
    tags += t.frameNumber.length;
  }
  return { qber: errors / sifted, tags };
}

/** P(|x| > a) for a standard normal x (Abramowitz-Stegun 7.1.26 erfc, 1.5e-7). */
function twoSidedTail(a: number): number {
  const x = a / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return poly * Math.exp(-x * x);
}

describe('timing jitter and the coincidence window', () => {
  const base = siftedQber({ jitterPs: 0 });

  it('jitter spills tags into neighbouring slots: QBER rises by half the fraction outside +-0.8 ns', () => {
    const jittery = siftedQber({ jitterPs: 400 });
    // A tag in a neighbouring slot meets independent settings: sifted as often, wrong half the time.
    const spilled = twoSidedTail(800 / 400); // 4.6 %
    const expected = spilled * (0.5 - base.qber);
    expect(base.qber).toBeLessThan(0.02);
    // The default window (the slot) keeps every tag but a few second clicks jitter put in a taken slot.
    expect(jittery.tags).toBeGreaterThan(base.tags * 0.9995);
    expect(jittery.qber - base.qber).toBeGreaterThan(expected * 0.8);
    expect(jittery.qber - base.qber).toBeLessThan(expected * 1.2);
  });

  it('a window narrower than the slot trades rate for QBER', () => {
    const wide = siftedQber({ jitterPs: 400 });
    const narrow = siftedQber({ jitterPs: 400, windowPs: 800 });
    // +-0.4 ns keeps P(|x| < 1 sigma) = 68 % of the tags.
    expect(narrow.tags / wide.tags).toBeGreaterThan(0.65);
    expect(narrow.tags / wide.tags).toBeLessThan(0.71);
    expect(narrow.qber).toBeLessThan(wide.qber - 0.01);
  });

  it('without tracking (disable time-sync) the ground reads the wrong pulses: QBER about 50 %', () => {
    const off = siftedQber({ jitterPs: 300, trackingOff: true });
    expect(off.qber).toBeGreaterThan(0.46);
    expect(off.qber).toBeLessThan(0.54);
  });
});

describe('pulse schedules', () => {
  it('continuous: pulse i leaves at i / rate; nothing before pulse 0 unless clamped', () => {
    const s = continuousSchedule(RATE_HZ);
    expect(s.periodPs).toBe(1600);
    expect(s.emitPs(1_000_000)).toBe(1.6e9);
    expect(s.nearestPulse(1.6e9 + 799)).toBe(1_000_000);
    expect(s.nearestPulse(-801)).toBe(-1);
    expect(s.nearestPulse(-5e6, true)).toBe(0);
  });

  it('gated: frames at their start times, nothing in the gaps (but the nearest edge when clamped)', () => {
    const frames: ScheduledFrame[] = [
      { frameNumber: 3, startMs: 10, stopMs: 10 + 1000 / 625_000, pulsesPlanned: 2000, ratePerMs: 625_000 }, // cut after 1000 pulses
      { frameNumber: 5, startMs: 20, stopMs: null, pulsesPlanned: 2000, ratePerMs: 625_000 },
    ];
    const s = gatedSchedule(frames, 4096, RATE_HZ);
    expect(s.emitPs(3 * 4096 + 10)).toBe(10e9 + 16_000);
    expect(s.emitPs(3 * 4096 + 1000)).toBeNaN(); // after the cut
    expect(s.emitPs(4 * 4096)).toBeNaN(); // never emitted
    expect(s.nearestPulse(20e9 - 700)).toBe(5 * 4096); // within half a slot of the first pulse
    expect(s.nearestPulse(20e9 - 900)).toBe(-1);
    expect(s.nearestPulse(15e9)).toBe(-1);
    expect(s.nearestPulse(15e9, true)).toBe(3 * 4096 + 999);
    expect(s.nearestPulse(19e9, true)).toBe(5 * 4096);
    expect(s.nearestPulse(10e9 + 1600 * 1999)).toBe(-1); // the cut frame's planned but unsent pulses
  });
});

describe('time sync fast path', () => {
  it('a uniform schedule (the inlined loop) resolves exactly as the schedule calls do, jitter and sync losses included (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -0.8e9, max: 0.8e9, noNaN: true }),
        fc.double({ min: -1e-6, max: 1e-6, noNaN: true }),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (clockOffsetPs, clockDrift, jitterPs, salt) => {
          const run = (schedule: ReturnType<typeof continuousSchedule>) => {
            const path = new TimePath({ schedule, rangeKmAtS: flyby(700, 7.6, 3), originPs: 0, pulsesPerFrame: PPF, seed: salt, tagger: { clockOffsetPs, clockDrift, jitterPs, syncLossProb: 0.2 } });
            const { got } = roundTrip(path, 5, 400, salt);
            return { got, stats: path.stats };
          };
          const fast = run(continuousSchedule(RATE_HZ));
          const plain = run({ ...continuousSchedule(RATE_HZ), uniform: false });
          expect(fast.got.length).toBeGreaterThan(1000);
          expect(fast).toEqual(plain);
        },
      ),
      { seed: 1418, numRuns: 15 },
    );
  });

  it("resolveDetections (Bob's form) gives the very tags of resolve: pulse index, basis, bit (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -0.8e9, max: 0.8e9, noNaN: true }),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 600 }),
        (clockOffsetPs, jitterPs, salt, perBatch) => {
          const path = (): TimePath =>
            new TimePath({ schedule: continuousSchedule(RATE_HZ), rangeKmAtS: flyby(700, 7.6, 3), originPs: 0, pulsesPerFrame: PPF, seed: salt, tagger: { clockOffsetPs, jitterPs, syncLossProb: 0.1 } });
          const plain = path();
          const fast = path();
          const bufPlain = new TimeTagBuffer(PPF);
          const bufFast = new TimeTagBuffer(PPF);
          for (let b = 0; b < 4; b++) {
            const p0 = b * PULSES_PER_S;
            plain.emitted(p0, p0 + PULSES_PER_S);
            fast.emitted(p0, p0 + PULSES_PER_S);
            for (let k = 0; k < perBatch; k++) {
              const idx = p0 + k * 1_000_000 + ((Math.imul(k + 1, 0x9e3779b1) ^ salt) >>> 0) % 999_000;
              const basis = (k ^ salt) & 1;
              const bit = ((k >>> 1) ^ (salt >>> 3)) & 1;
              bufPlain.push(idx, basis, bit);
              bufFast.push(idx, basis, bit);
            }
            const want = plain.take(bufPlain);
            const got = fast.resolveDetections(fast.stamp(bufFast));
            const n = want.detector.length;
            expect(got.pulseIndex.length).toBe(n);
            expect(Array.from(got.pulseIndex)).toEqual(Array.from({ length: n }, (_, i) => indexOf(want, i)));
            expect(Array.from(got.basis)).toEqual(Array.from(want.detector, (d) => d >>> 1));
            expect(Array.from(got.bit)).toEqual(Array.from(want.detector, (d) => d & 1));
          }
          expect(fast.stats).toEqual(plain.stats);
        },
      ),
      { seed: 1420, numRuns: 15 },
    );
  });
});

describe('roundHalfUp', () => {
  it('equals Math.max(0, Math.round(x)) from -0.5 to 2^52, at the halves and next to them too (property)', () => {
    const near = (x: number) => [x, x - Number.EPSILON * Math.max(1, Math.abs(x)), x + Number.EPSILON * Math.max(1, Math.abs(x))];
    const edges = [-0.5, -0.49999999999999994, -0, 0, 0.49999999999999994, 0.5, 1.5, 2 ** 52 - 0.5, 2 ** 40 + 0.5];
    for (const x of edges.flatMap(near).filter((v) => v >= -0.5 && v < 2 ** 52)) expect(Object.is(roundHalfUp(x), Math.max(0, Math.round(x)))).toBe(true);
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: -0.5, max: 2 ** 45, noNaN: true }), fc.integer({ min: 0, max: 2 ** 40 }).map((k) => k + 0.5), fc.double({ min: -0.5, max: 4, noNaN: true })), (x) => {
        expect(Object.is(roundHalfUp(x), Math.max(0, Math.round(x)))).toBe(true);
      }),
      { seed: 1419, numRuns: 2000 },
    );
  });
});
