import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAMERA_HALF_FOV_URAD, SCAN_STEP_FACTOR, spiralScanPoints } from '../../firmware/acquisition.ts';
import { LockDetector, PiAxis } from '../../firmware/fine-pointing.ts';
import { closedGate, framePeriodMs } from '../../firmware/source.ts';
import { defaultParams } from '../../firmware/params.ts';
import { TrackingStats } from '../../firmware/status.ts';

describe('PI axis', () => {
  const gains = { kp: 0.3, kiPerS: 40, limitUrad: 1000 };

  it('drives a constant offset to zero error (mirror as position actuator)', () => {
    const pi = new PiAxis(gains);
    let mirror = 0;
    const target = 250;
    for (let k = 0; k < 1000; k++) mirror = pi.step(target - mirror, 0.001);
    expect(Math.abs(target - mirror)).toBeLessThan(0.01);
  });

  it('never commands beyond the mirror range and does not wind up against the stop', () => {
    const pi = new PiAxis(gains);
    let mirror = 0;
    // Target beyond the travel for 2 s: output pinned at the limit, integrator bounded.
    for (let k = 0; k < 2000; k++) {
      mirror = pi.step(5000 - mirror, 0.001);
      expect(Math.abs(mirror)).toBeLessThanOrEqual(1000);
    }
    expect(mirror).toBe(1000);
    expect(pi.integralUrad).toBeLessThanOrEqual(1000);
    // Target comes back inside: recovery within ~0.3 s, not after unwinding a huge integral.
    let k = 0;
    for (; k < 2000; k++) {
      mirror = pi.step(100 - mirror, 0.001);
      if (Math.abs(100 - mirror) < 1) break;
    }
    expect(k).toBeLessThan(300);
  });

  it('stays within limits for any error sequence (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e5, max: 1e5, noNaN: true }), { maxLength: 200 }), (errs) => {
        const pi = new PiAxis(gains);
        for (const e of errs) expect(Math.abs(pi.step(e, 0.001))).toBeLessThanOrEqual(1000);
      }),
    );
  });
});

describe('lock detector', () => {
  it('locks after N consecutive good samples and loses lock on a run of bad ones', () => {
    const d = new LockDetector(3, 50);
    for (let i = 0; i < 49; i++) expect(d.update(1)).toBeNull();
    expect(d.update(4)).toBeNull(); // streak broken
    for (let i = 0; i < 49; i++) expect(d.update(1)).toBeNull();
    expect(d.update(1)).toBe('locked');
    for (let i = 0; i < 4; i++) expect(d.update(10)).toBeNull();
    expect(d.update(1)).toBeNull(); // one good sample resets the bad run
    for (let i = 0; i < 4; i++) d.update(10);
    expect(d.update(null)).toBe('lost');
  });
});

describe('tracking statistics', () => {
  it('mean, RMS and max per interval, then resets', () => {
    const s = new TrackingStats();
    for (const e of [1, 2, 3, 4]) s.add(e);
    const r = s.take();
    expect(r.meanUrad).toBe(2.5);
    expect(r.rmsUrad).toBeCloseTo(Math.sqrt(7.5), 12);
    expect(r.maxUrad).toBe(4);
    expect(s.take().samples).toBe(0);
  });
});

describe('spiral scan', () => {
  it('sees every direction of the cone: each point lies within the camera field of some scan point', () => {
    const cone = 2000;
    const pts = spiralScanPoints(cone, SCAN_STEP_FACTOR * CAMERA_HALF_FOV_URAD, 0.7);
    fc.assert(
      fc.property(fc.double({ min: 0, max: cone, noNaN: true }), fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }), (r, a) => {
        const x = r * Math.cos(a);
        const y = r * Math.sin(a);
        const nearest = Math.min(...pts.map((p) => Math.hypot(p.xUrad - x, p.yUrad - y)));
        expect(nearest).toBeLessThan(CAMERA_HALF_FOV_URAD);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('emission gate and frame timing', () => {
  it('names the first shut gate', () => {
    expect(closedGate(true, 30, 15, true)).toBeNull();
    expect(closedGate(false, 30, 15, true)).toBe('PAUSED_LOCK');
    expect(closedGate(true, 10, 15, true)).toBe('PAUSED_ELEVATION');
    expect(closedGate(true, 30, 15, false)).toBe('PAUSED_LINK');
  });
  it('frame period holds a whole frame at the repetition rate', () => {
    const p = defaultParams();
    expect(framePeriodMs(p)).toBe(430); // 268435456 pulses at 625 MHz = 429.5 ms
  });
});
