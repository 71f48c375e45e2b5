/**
 * The source and detector model of the gap-sampling engine (boards/sim/detection.ts):
 * the intensities the source actually emits, per-detector dead time, afterpulsing,
 * efficiency mismatch and dark counts, each against what it must give.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE, DetectionSampler, clickTables, type DetectorConfig, type SliceConditions } from '../../boards/sim/detection.ts';
import { pulseIndexOf, type TimeTags } from '../../boards/sim/time-tags.ts';
import type { Triple } from '../../qkd/keyrate.ts';
import { packedSettingsInto, settingsTable } from '../../qkd/settings.ts';

/** No noise, no afterpulses, no misalignment, matched detectors: the pure signal. */
const QUIET: DetectorConfig = {
  ...DEFAULT_DETECTOR,
  relativeEfficiency: [1, 1, 1, 1],
  darkCountsPerS: [0, 0, 0, 0],
  backgroundCountsPerS: 0,
  misalignment: 0,
  afterpulseProb: 0,
};
const SEED = 11;

function run(det: DetectorConfig, p0: number, p1: number, eta: number, conditions: SliceConditions = {}, seeds: [number, number] = [SEED, 7]) {
  const s = new DetectionSampler(DEFAULT_SOURCE, det, seeds[0], seeds[1]);
  s.sample(p0, p1, eta, conditions);
  return { sampler: s, tags: s.tags.take() };
}

/** Alice's packed settings of every tag's pulse, and the pulse indices. */
function aliceOf(t: TimeTags): { idx: Float64Array; settings: Uint8Array } {
  const idx = new Float64Array(t.frameNumber.length);
  for (let i = 0; i < idx.length; i++) idx[i] = pulseIndexOf(t.pulsesPerFrame, t.frameNumber[i], t.offsetInFrame[i]);
  const settings = new Uint8Array(idx.length);
  packedSettingsInto(settingsTable(SEED, { p: DEFAULT_SOURCE.p, pKeyBasis: DEFAULT_SOURCE.pKeyBasis }), idx, settings);
  return { idx, settings };
}

/** Sifted QBER: tags whose detector basis is Alice's basis, wrong bit among them. */
function siftedQber(t: TimeTags): number {
  const { settings } = aliceOf(t);
  let sifted = 0;
  let errors = 0;
  for (let i = 0; i < settings.length; i++) {
    if (t.detector[i] >> 1 !== ((settings[i] >> 1) & 1)) continue;
    sifted++;
    if ((t.detector[i] & 1) !== (settings[i] & 1)) errors++;
  }
  return errors / sifted;
}

describe('the intensities the source actually emits', () => {
  it('yields follow the emitted mu (10 % above nominal), not the nominal one', () => {
    const N = 2e8;
    const eta = 2e-3;
    const actual: Triple = [0.88, 0.11, 0];
    const { tags } = run(QUIET, 0, N, eta, { emittedMu: actual });
    const { settings } = aliceOf(tags);
    const clicks = [0, 0, 0];
    for (const s of settings) clicks[s >> 2]++;
    for (const k of [0, 1]) {
      const pulses = N * DEFAULT_SOURCE.p[k];
      const yActual = 1 - Math.exp(-eta * QUIET.efficiency * actual[k]);
      const yNominal = 1 - Math.exp(-eta * QUIET.efficiency * DEFAULT_SOURCE.mu[k]);
      const measured = clicks[k] / pulses;
      expect(Math.abs(measured / yActual - 1)).toBeLessThan(0.03);
      expect(measured / yNominal - 1).toBeGreaterThan(0.06);
    }
    expect(clicks[2]).toBe(0);
  });

  it('the nominal mu is the default', () => {
    const a = run(QUIET, 0, 5e7, 2e-3).tags;
    const b = run(QUIET, 0, 5e7, 2e-3, { emittedMu: DEFAULT_SOURCE.mu }).tags;
    expect(Array.from(b.offsetInFrame)).toEqual(Array.from(a.offsetInFrame));
  });
});

describe('detectors', () => {
  it('dead time is per detector: another detector clicks inside one detector\'s dead time, the same one never', () => {
    // 1 us dead time (625 pulses) and bright light: a global dead time would forbid every pair closer than that.
    const det = { ...DEFAULT_DETECTOR, deadTimeNs: 1000, afterpulseProb: 0 };
    const { tags, sampler } = run(det, 0, 2e7, 0.05);
    const { idx } = aliceOf(tags);
    const dead = Math.ceil(1000e-9 * DEFAULT_SOURCE.rateHz);
    const last = [-Infinity, -Infinity, -Infinity, -Infinity];
    let crossWithinDead = 0;
    let minSame = Infinity;
    for (let i = 0; i < idx.length; i++) {
      const d = tags.detector[i];
      if (i > 0 && idx[i] - idx[i - 1] <= dead && tags.detector[i - 1] !== d) crossWithinDead++;
      minSame = Math.min(minSame, idx[i] - last[d]);
      last[d] = idx[i];
    }
    expect(idx.length).toBeGreaterThan(5000);
    expect(crossWithinDead).toBeGreaterThan(idx.length / 10);
    expect(minSame).toBeGreaterThan(dead);
    expect(sampler.stats.deadDropped).toBeGreaterThan(0);
  });

  it('afterpulses come at the configured rate, on the clicked detector after its dead time, and add errors', () => {
    const p = 0.05;
    const base = { ...DEFAULT_DETECTOR, afterpulseProb: 0 };
    const without = run(base, 0, 1e8, 2e-3);
    const withAp = run({ ...base, afterpulseProb: p }, 0, 1e8, 2e-3);
    const st = withAp.sampler.stats;
    const clicks = st.detections - st.afterpulses;
    // Clicks that arm one: p of the real clicks (less those a later click replaced or the span ended).
    expect(st.afterpulses / clicks).toBeGreaterThan(0.9 * p);
    expect(st.afterpulses / clicks).toBeLessThan(1.1 * p);
    // The same detections otherwise: the afterpulses are extra clicks.
    expect(Math.abs(clicks / without.sampler.stats.detections - 1)).toBeLessThan(0.02);
    // Each afterpulse lands on a random pulse: errors half the time it is sifted.
    const q0 = siftedQber(without.tags);
    const f = st.afterpulses / st.detections;
    const q = siftedQber(withAp.tags);
    expect(q - q0).toBeGreaterThan(0.7 * (f * (0.5 - q0)));
    expect(q - q0).toBeLessThan(1.3 * (f * (0.5 - q0)));
  });

  it('an afterpulse clicks on the detector that clicked, later than its dead time', () => {
    const det = { ...QUIET, afterpulseProb: 1, afterpulseDelayNs: 20 };
    const { tags, sampler } = run(det, 0, 1e7, 1e-4);
    const { idx } = aliceOf(tags);
    const dead = Math.ceil(det.deadTimeNs * 1e-9 * DEFAULT_SOURCE.rateHz);
    // Sparse clicks: every click is followed by its afterpulse on the same detector, then the next click.
    expect(sampler.stats.afterpulses).toBeGreaterThan(100);
    let paired = 0;
    for (let i = 0; i + 1 < idx.length; i += 2) {
      if (tags.detector[i + 1] === tags.detector[i] && idx[i + 1] - idx[i] > dead) paired++;
    }
    expect(paired / (idx.length / 2)).toBeGreaterThan(0.95);
  });

  it('efficiency mismatch shows in the click ratio of the two detectors of a basis', () => {
    const det = { ...QUIET, relativeEfficiency: [1.2, 0.8, 1, 1] as const };
    const { tags } = run(det, 0, 1e8, 2e-3);
    const n = [0, 0, 0, 0];
    for (const d of tags.detector) n[d]++;
    expect(n[0] / n[1]).toBeGreaterThan(1.42);
    expect(n[0] / n[1]).toBeLessThan(1.58);
    expect(n[2] / n[3]).toBeGreaterThan(0.94);
    expect(n[2] / n[3]).toBeLessThan(1.06);
  });

  it('dark counts with no signal: each detector at its own rate, the cost following the counts, not the pulses', () => {
    const det = { ...QUIET, darkCountsPerS: [100, 200, 300, 400] as const };
    const seconds = 20;
    const { tags, sampler } = run(det, 0, seconds * DEFAULT_SOURCE.rateHz, 0);
    const n = [0, 0, 0, 0];
    for (const d of tags.detector) n[d]++;
    det.darkCountsPerS.forEach((rate, d) => {
      const want = rate * seconds;
      expect(Math.abs(n[d] - want)).toBeLessThan(5 * Math.sqrt(want));
    });
    expect(sampler.stats.candidates).toBeLessThan(2 * tags.detector.length);
  });

  it('is deterministic for a seed and differs with the channel seed', () => {
    const a = run(DEFAULT_DETECTOR, 2 ** 33, 2 ** 33 + 5e7, 3e-3).tags;
    const b = run(DEFAULT_DETECTOR, 2 ** 33, 2 ** 33 + 5e7, 3e-3).tags;
    const c = run(DEFAULT_DETECTOR, 2 ** 33, 2 ** 33 + 5e7, 3e-3, {}, [SEED, 8]).tags;
    expect(Array.from(b.offsetInFrame)).toEqual(Array.from(a.offsetInFrame));
    expect(Array.from(b.detector)).toEqual(Array.from(a.detector));
    expect(Array.from(c.offsetInFrame)).not.toEqual(Array.from(a.offsetInFrame));
  });

  it('click tables: matched detectors and no noise give the textbook yield and error rate', () => {
    const det = { ...QUIET, misalignment: 0.02 };
    const t = clickTables([0.8, 0.1, 0], 1e-3, det, DEFAULT_SOURCE.rateHz);
    for (let k = 0; k < 3; k++) {
      const y = 1 - Math.exp(-1e-3 * det.efficiency * [0.8, 0.1, 0][k]);
      for (let s = 0; s < 4; s++) {
        const row = k * 4 + s;
        expect(t.yields[row]).toBeCloseTo(y, 9);
        if (k === 2) continue;
        // Of the clicks in Alice's basis, the wrong detector takes e_d.
        const b = s >> 1;
        const right = t.detectorShare[row * 4 + (b << 1) + (s & 1)];
        const wrong = t.detectorShare[row * 4 + (b << 1) + (1 - (s & 1))];
        expect(wrong / (right + wrong)).toBeCloseTo(0.02, 3);
      }
    }
  });
});

describe('afterpulses across spans', () => {
  it('an afterpulse armed in one span clicks in the next (a dark one too); one falling before the next span\'s pulses is dropped', () => {
    const det = { ...QUIET, afterpulseProb: 1, afterpulseDelayNs: 20 };
    // Every click is followed by its afterpulse: find one click and where its afterpulse falls.
    const ref = run(det, 0, 2e6, 1e-3);
    const { idx } = aliceOf(ref.tags);
    const i = 10;
    expect(ref.tags.detector[i + 1]).toBe(ref.tags.detector[i]);
    const apAt = idx[i + 1];
    // The same pulses split just before that afterpulse, the rest dark: it clicks there.
    const split = new DetectionSampler(DEFAULT_SOURCE, det, SEED, 7);
    split.sample(0, apAt, 1e-3);
    expect(split.tags.take().detector.length).toBe(i + 1);
    split.sample(apAt, apAt + 1e5, 0);
    const dark = split.tags.take();
    expect(dark.detector.length).toBe(1);
    expect(pulseIndexOf(dark.pulsesPerFrame, dark.frameNumber[0], dark.offsetInFrame[0])).toBe(apAt);
    expect(dark.detector[0]).toBe(ref.tags.detector[i]);
    // Pulses resuming after a gap (a paused frame): it fell outside them and is not emitted.
    const gap = new DetectionSampler(DEFAULT_SOURCE, det, SEED, 7);
    gap.sample(0, apAt, 1e-3);
    gap.tags.take();
    gap.sample(apAt + 1, apAt + 1e5, 0);
    expect(gap.tags.take().detector.length).toBe(0);
  });
});
