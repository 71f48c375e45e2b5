import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DetectionSampler, DEFAULT_DETECTOR, DEFAULT_SOURCE } from '../../boards/sim/detection.ts';
import { pulseIndexOf } from '../../boards/sim/time-tags.ts';
import { pulseSettings } from '../../qkd/settings.ts';

describe('per-pulse settings', () => {
  it('are a pure function of (seed, pulse index), any index, in O(1)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.nat({ max: 2 ** 50 }), (seed, idx) => {
        expect(pulseSettings(seed, idx)).toEqual(pulseSettings(seed, idx));
      }),
    );
    // Index 1.9e11 (end of a 300 s pass at 625 MHz) costs the same as index 0.
    expect(pulseSettings(1, 1.9e11)).toEqual(pulseSettings(1, 1.9e11));
  });

  it('follow the configured probabilities', () => {
    const counts = [0, 0, 0];
    let key = 0;
    let ones = 0;
    const N = 200_000;
    for (let i = 0; i < N; i++) {
      const s = pulseSettings(77, 1e10 + i * 7919);
      counts[s.intensity]++;
      key += s.basis === 0 ? 1 : 0;
      ones += s.bit;
    }
    expect(counts[0] / N).toBeCloseTo(0.5, 2);
    expect(counts[1] / N).toBeCloseTo(0.25, 2);
    expect(counts[2] / N).toBeCloseTo(0.25, 2);
    expect(key / N).toBeCloseTo(0.5, 2);
    expect(ones / N).toBeCloseTo(0.5, 2);
    const biased = pulseSettings(77, 5, { p: [0.7, 0.2, 0.1], pKeyBasis: 0.9 });
    expect([0, 1, 2]).toContain(biased.intensity);
  });

  it('the detection sampler uses the same settings (its inlined hash agrees)', () => {
    // No errors, no background: Bob's bit equals Alice's whenever the bases agree.
    const s = new DetectionSampler(DEFAULT_SOURCE, { ...DEFAULT_DETECTOR, misalignment: 0, darkCountsPerS: [0, 0, 0, 0], backgroundCountsPerS: 0, afterpulseProb: 0 }, 99, 5);
    s.sample(2 ** 33, 2 ** 33 + 2e8, 1e-3);
    const tags = s.tags.take();
    expect(tags.frameNumber.length).toBeGreaterThan(1000);
    let matched = 0;
    const intensities = [0, 0, 0];
    for (let i = 0; i < tags.frameNumber.length; i++) {
      const idx = pulseIndexOf(tags.pulsesPerFrame, tags.frameNumber[i], tags.offsetInFrame[i]);
      const a = pulseSettings(99, idx);
      intensities[a.intensity]++;
      if (a.basis === tags.detector[i] >> 1) {
        matched++;
        expect(tags.detector[i] & 1).toBe(a.bit);
      }
    }
    expect(matched).toBeGreaterThan(300);
    // Vacuum pulses never click without background; signal clicks most.
    expect(intensities[2]).toBe(0);
    expect(intensities[0]).toBeGreaterThan(intensities[1] * 4);
  });

  it('time tags: pulse index = frame * pulsesPerFrame + offset, in pulse order, each detector dead after its own click', () => {
    const src = { ...DEFAULT_SOURCE, pulsesPerFrame: 1000 };
    const s = new DetectionSampler(src, { ...DEFAULT_DETECTOR, deadTimeNs: 100 }, 3, 4);
    s.sample(0, 2e7, 0.05);
    const t = s.tags.take();
    const dead = Math.ceil(100e-9 * src.rateHz);
    let prev = -Infinity;
    const prevOn = [-Infinity, -Infinity, -Infinity, -Infinity];
    let minGapSame = Infinity;
    let maxOffset = 0;
    for (let i = 0; i < t.frameNumber.length; i++) {
      maxOffset = Math.max(maxOffset, t.offsetInFrame[i]);
      const idx = pulseIndexOf(1000, t.frameNumber[i], t.offsetInFrame[i]);
      expect(idx).toBeGreaterThanOrEqual(prev);
      prev = idx;
      minGapSame = Math.min(minGapSame, idx - prevOn[t.detector[i]]);
      prevOn[t.detector[i]] = idx;
    }
    expect(t.frameNumber.length).toBeGreaterThan(10000);
    expect(maxOffset).toBeLessThan(1000);
    expect(minGapSame).toBeGreaterThan(dead);
  });
});
