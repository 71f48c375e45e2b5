import { describe, expect, it } from 'vitest';
import { runPass } from '../../hil/mission/physics-pass.ts';

// 20 s at culmination over Beijing: three blocks of the small size.
const base = { station: 'beijing', seed: 3, durationS: 20, distill: { blockBits: 300_000, minBlockBits: 50_000 } } as const;

describe('time sync and the polarisation frame in the pass', () => {
  it('nominal: the ground acquires the clock offset from the sync pulses and the QBER stays in 1-3 %', () => {
    const r = runPass(base);
    expect(r.timeSync.acquired).toBe(true);
    expect(Math.abs(r.timeSync.acquiredOffsetPs - 0.4e9)).toBeLessThan(1e6); // the default offset, plus drift over the run
    expect(r.timeSync.resolved).toBeGreaterThan(0.999 * r.summary.detections);
    expect(r.summary.qberTestByIntensity[0]).toBeGreaterThan(0.01);
    expect(r.summary.qberTestByIntensity[0]).toBeLessThan(0.03);
  });

  it('disable time-sync: the ground reads its nominal clock, the QBER goes to 50 % and no key is made', () => {
    const r = runPass({ ...base, disable: ['time-sync'] });
    expect(r.timeSync.acquired).toBe(false);
    expect(r.summary.qberTestByIntensity[0]).toBeGreaterThan(0.47);
    expect(r.summary.qberTestByIntensity[0]).toBeLessThan(0.53);
    expect(r.summary.finalKeyBits).toBe(0);
  });

  it('disable polarisation-compensation: the frame rotation alone puts the QBER well above 3 %', () => {
    const r = runPass({ ...base, disable: ['polarisation-compensation'] });
    expect(r.summary.qberTestByIntensity[0]).toBeGreaterThan(0.05);
    expect(r.summary.finalKeyBits).toBe(0);
  });
});
