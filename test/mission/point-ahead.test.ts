import { describe, expect, it } from 'vitest';
import { runPass } from '../../hil/mission/physics-pass.ts';
import { runMissionPass } from '../../hil/mission/run.ts';

const LONG = 240_000;

/**
 * Issue 14: the downlink must lead the beacon by about 2 v_perp / c (~50 urad) against a
 * 12 urad beam. Without point-ahead the nominal pass gets no key; with it (the default)
 * it does, in both engines.
 */
describe('point-ahead decides whether a pass makes key', () => {
  it('mission pass (firmware in the loop): the default gets key; POINT_AHEAD off (disable) gets none', () => {
    const opts = { station: 'beijing', seed: 1, durationS: 20 };
    const on = runMissionPass(opts);
    expect(on.summary.finalKeyBits).toBeGreaterThan(0);
    expect(on.summary.pointingRmsUrad).toBeLessThan(5);
    const off = runMissionPass({ ...opts, disable: ['point-ahead'] });
    expect(off.summary.finalKeyBits).toBe(0);
    // The residual is the whole point-ahead: 40-60 urad near culmination.
    expect(off.summary.pointingRmsUrad).toBeGreaterThan(40);
    expect(off.summary.detections).toBeLessThan(on.summary.detections / 1000);
  }, LONG);

  it('physics-only pass: the ideal payload scored with point-ahead applied gets key; disabled, none', () => {
    const small = { blockBits: 300_000, minBlockBits: 50_000 };
    const on = runPass({ station: 'beijing', seed: 3, durationS: 20, distill: small });
    const off = runPass({ station: 'beijing', seed: 3, durationS: 20, distill: small, disable: ['point-ahead'] });
    expect(on.summary.finalKeyBits).toBeGreaterThan(0);
    expect(off.summary.finalKeyBits).toBe(0);
    expect(off.summary.lossDbMin).toBeGreaterThan(on.summary.lossDbMax + 100);
  }, LONG);
});
