import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { syncDueBound } from '../../boards/ground/time-sync.ts';
import { LightTime } from '../../boards/sim/light-time.ts';
import { normals, zigguratInner, zigguratOuter, zigguratPoint } from '../../boards/sim/normal.ts';
import { continuousSchedule } from '../../boards/sim/pulse-schedule.ts';
import { DEFAULT_TIME_TAGGER, GroundTimeTagger } from '../../boards/sim/time-tagger.ts';
import { TimeTagBuffer } from '../../boards/sim/time-tags.ts';
import { Rng } from '../../qkd/random.ts';

const RATE_HZ = 625e6;

/** Slant range of a straight-line flyby (a LEO pass's Doppler swing), km. */
const flyby = (dKm: number, vKmS: number, t0S: number) => (tS: number) => Math.hypot(dKm, vKmS * (tS - t0S));

describe('GroundTimeTagger.take', () => {
  it("a uniform schedule's fused loop stamps what the plain reference (groundTimePs + jitter * normals, then sorted) does, bit for bit: times, their order, sync pulses and the generators after, batch by batch (property)", () => {
    // Pulses as the sampler makes them (ascending, a few apart so that jitter swaps some;
    // across a second of the light-time table) or anything (any order, never emitted).
    const batch = fc.record({
      base: fc.oneof(fc.integer({ min: 0, max: 300 }).map((s) => s * RATE_HZ - 40_000), fc.double({ min: 0, max: 300 * RATE_HZ, noNaN: true }).map(Math.floor)),
      gaps: fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 120 }),
      odd: fc.array(fc.tuple(fc.nat(), fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: 0, max: 300 * RATE_HZ, noNaN: true }).map(Math.floor))), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(batch, { minLength: 1, maxLength: 4 }),
        fc.double({ min: -0.8e9, max: 0.8e9, noNaN: true }),
        fc.double({ min: -1e-6, max: 1e-6, noNaN: true }),
        fc.double({ min: -2e12, max: 2e12, noNaN: true }),
        fc.oneof(fc.constant(0), fc.constant(300), fc.double({ min: 1, max: 3e6, noNaN: true })),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (batches, clockOffsetPs, clockDrift, originPs, jitterPs, seed) => {
          const config = { ...DEFAULT_TIME_TAGGER, clockOffsetPs, clockDrift, jitterPs, syncEveryPulses: 1 << 16 };
          const make = (uniform: boolean) => new GroundTimeTagger(config, { ...continuousSchedule(RATE_HZ), uniform }, new LightTime(flyby(600, 7.6, 150), originPs), seed);
          const fused = make(true);
          const plain = make(false);
          const tagsOf = (pulses: number[]) => {
            const tags = new TimeTagBuffer(1 << 20);
            pulses.forEach((p, i) => tags.push(p, (i >> 1) & 1, i & 1));
            return tags;
          };
          for (const { base, gaps, odd } of batches) {
            let p = base;
            const pulses = gaps.map((g) => (p += g));
            for (const [at, v] of odd) pulses.splice(at % (pulses.length + 1), 0, v);
            const got = fused.take(tagsOf(pulses));
            const want = plain.take(tagsOf(pulses));
            expect(Array.from(got.arrivalPs)).toEqual(Array.from(want.arrivalPs));
            expect(Array.from(got.detector)).toEqual(Array.from(want.detector));
            for (const t of [fused, plain]) t.emitted(base, base + 200_000);
            // The sync pulses draw both generators after the detections' jitter.
            expect(Array.from(fused.take(tagsOf([])).syncArrivalPs)).toEqual(Array.from(plain.take(tagsOf([])).syncArrivalPs));
          }
        },
      ),
      { seed: 1421, numRuns: 400 },
    );
  });

  it('stamps a pass-sized batch as the reference does, with 300 ps of jitter', () => {
    const make = (uniform: boolean) => new GroundTimeTagger(DEFAULT_TIME_TAGGER, { ...continuousSchedule(RATE_HZ), uniform }, new LightTime(flyby(600, 7.6, 150), 0), 7);
    const n = 100_000;
    const pulse = Float64Array.from({ length: n }, (_, i) => 120 * RATE_HZ + i * 6250 + (i % 7));
    const take = (t: GroundTimeTagger) => {
      const tags = new TimeTagBuffer(1 << 20);
      for (const p of pulse) tags.push(p, 0, 0);
      return t.take(tags).arrivalPs.slice();
    };
    const fused = make(true);
    const got = take(fused);
    expect(Array.from(got)).toEqual(Array.from(take(make(false))));
    const jitter = got.map((t, i) => t - fused.groundTimePs(pulse[i]));
    const sigma = Math.sqrt(jitter.reduce((a, v) => a + v * v, 0) / n);
    expect(Math.abs(sigma / DEFAULT_TIME_TAGGER.jitterPs - 1)).toBeLessThan(0.01);
  });
});

/** Standard normal CDF (erfc by Abramowitz-Stegun 7.1.26, error 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-z * z);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

interface Normality {
  /** Kolmogorov-Smirnov distance to the normal CDF, times sqrt(n) (p = 0.001 at 1.95). */
  ks: number;
  /** Chi-square over 0.1-sigma bins from -4 to 4 plus the two tails (82 bins), as z-score of its 81 degrees of freedom. */
  chi2z: number;
  /** Observed over expected count beyond 2.67 sigma (800 ps at 300 ps jitter: spill into the next slot) and beyond 4 sigma. */
  tail267: number;
  tail4: number;
}

function normality(x: Float64Array): Normality {
  const n = x.length;
  const s = x.slice().sort();
  let d = 0;
  for (let i = 0; i < n; i++) {
    const c = normalCdf(s[i]);
    d = Math.max(d, (i + 1) / n - c, c - i / n);
  }
  const edges = Array.from({ length: 81 }, (_, i) => -4 + i * 0.1);
  const counts = new Float64Array(82);
  for (const v of x) counts[v < -4 ? 0 : v >= 4 ? 81 : Math.min(80, Math.floor((v + 4) / 0.1)) + 1]++;
  let chi2 = 0;
  for (let b = 0; b < 82; b++) {
    const lo = b === 0 ? 0 : normalCdf(edges[b - 1]);
    const hi = b === 81 ? 1 : normalCdf(edges[b]);
    const e = n * (hi - lo);
    chi2 += (counts[b] - e) ** 2 / e;
  }
  const beyond = (a: number) => x.reduce((c, v) => c + (Math.abs(v) > a ? 1 : 0), 0) / (n * 2 * (1 - normalCdf(a)));
  return { ks: d * Math.sqrt(n), chi2z: (chi2 - 81) / Math.sqrt(2 * 81), tail267: beyond(2.67), tail4: beyond(4) };
}

/** What a normal sample of this size shows (seeded, so fixed; the bounds are p ~ 0.001 each). */
function looksNormal(r: Normality): boolean {
  return r.ks < 1.95 && r.chi2z < 4 && Math.abs(r.tail267 - 1) < 0.06 && Math.abs(r.tail4 - 1) < 0.7;
}

describe('normal deviates (ziggurat)', () => {
  const N = 400_000;

  it('are standard normal: KS, chi-square, the tail beyond 2.67 sigma that sets the slot spill, and beyond 4 sigma', () => {
    for (const seed of [1, 2, 3]) {
      const x = new Float64Array(N);
      normals(new Rng(seed, 0x7a6), new Rng(seed, 0x7a7), x, N);
      const r = normality(x);
      expect(looksNormal(r), JSON.stringify(r)).toBe(true);
      const mean = x.reduce((a, v) => a + v, 0) / N;
      const variance = x.reduce((a, v) => a + v * v, 0) / N - mean * mean;
      expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(N));
      expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    }
  });

  it('the checks catch wrong samplers: uniform, the tail cut at 3 sigma, the wedges not tested', () => {
    const rng = new Rng(4, 1);
    const uniform = Float64Array.from({ length: N }, () => (2 * rng.next() - 1) * Math.sqrt(3));
    const cut = new Float64Array(N);
    normals(new Rng(5, 1), new Rng(5, 2), cut, N);
    for (let i = 0; i < N; i++) while (Math.abs(cut[i]) > 3) cut[i] = zigguratPoint(rng.nextU32());
    // Every point of a layer taken (no rejection): the staircase, not the curve.
    const noWedge = Float64Array.from({ length: N }, () => zigguratPoint(rng.nextU32()));
    for (const bad of [uniform, cut, noWedge]) expect(looksNormal(normality(bad))).toBe(false);
  });

  it('normals is the plain loop (rng.nextU32, zigguratPoint, zigguratInner, zigguratOuter with the slow stream), deviates and both generators\' state, in any chunks (property)', () => {
    const plain = (rng: Rng, slow: Rng): number => {
      const t = rng.nextU32();
      const x = zigguratPoint(t);
      return zigguratInner(t, x) ? x : zigguratOuter(t, slow);
    };
    fc.assert(
      fc.property(fc.nat(), fc.array(fc.nat({ max: 300 }), { maxLength: 8 }), (seed, chunks) => {
        const fast = [new Rng(seed, 9), new Rng(seed, 10)] as const;
        const ref = [new Rng(seed, 9), new Rng(seed, 10)] as const;
        for (const n of chunks) {
          const out = new Float64Array(n);
          normals(fast[0], fast[1], out, n);
          expect(Array.from(out)).toEqual(Array.from({ length: n }, () => plain(ref[0], ref[1])));
        }
        expect(fast.map((r) => r.state())).toEqual(ref.map((r) => r.state()));
      }),
      { seed: 1422, numRuns: 60 },
    );
  });

  it("the tagger's gaussian() and gaussians() are the same deviates", () => {
    const make = () => new GroundTimeTagger(DEFAULT_TIME_TAGGER, continuousSchedule(RATE_HZ), new LightTime(() => 800), 3);
    const bulk = make();
    const one = make();
    const out = new Float64Array(1000);
    bulk.gaussians(out, 1000);
    expect(Array.from(out)).toEqual(Array.from(out, () => one.gaussian()));
  });
});

describe('time sync: syncDueBound', () => {
  it('no t below the bound has nextSync <= t + horizonPs (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e16, max: 1e16, noNaN: true }), fc.double({ min: 0, max: 1e15, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true }), (nextSync, horizonPs, dt) => {
        const bound = syncDueBound(nextSync, horizonPs);
        // Times just below the bound, down to the last representable ones.
        for (const t of [bound - Math.abs(dt), bound * (1 - 2 ** -52 * Math.sign(bound)), bound - Number.MIN_VALUE]) if (t < bound) expect(nextSync <= t + horizonPs).toBe(false);
      }),
      { seed: 1423, numRuns: 3000 },
    );
    expect(syncDueBound(Infinity, 1e9)).toBe(Infinity);
  });
});
