import { describe, expect, it } from 'vitest';
import { useBench } from '../fixture.ts';

/**
 * Source, laser terminal and attitude interface: the hardware behaviours the payload
 * firmware depends on, with limits monitoring watching as it runs.
 */
const ctx = useBench({ boards: ['qsrc', 'lct', 'acs'], suite: import.meta.filename });
/** Environment and faults through simulation control: an emulator on any line; skipped with the reason on a real board. */
const withSim = (board: 'qsrc' | 'lct' | 'acs') => ctx.needs('sim', [board]);
/** Behaviour of the hardware behind the registers: skipped with the reason on the bare board agent. */
const withHardware = (board: 'qsrc' | 'acs') => ctx.needs('hardware', [board]);

describe('quantum source (qsrc)', () => {
  withHardware('qsrc')('stabilises the laser temperature at its set point and emits numbered frames', async () => {
    const { bench } = ctx;
    const q = bench.board('qsrc');
    await q.write({ LASER_TEMP_SET_C: 25, TEC_ENABLE: 1, LASER_ENABLE: 1, PATTERN_ENABLE: 1 });
    await bench.waitFor(
      () => {
        const h = bench.history('qsrc.LASER_TEMP_C', bench.now() - 1000);
        return h.length > 5 && h.every((s) => Math.abs(Number(s.value) - 25) < 0.05);
      },
      { timeoutMs: 15_000, what: 'laser temperature within 0.05 degC of 25 for 1 s' },
    );
    const f0 = Number(bench.latest('qsrc.FRAME_COUNTER'));
    await bench.sleep(1000);
    expect(Number(bench.latest('qsrc.FRAME_COUNTER')) - f0).toBeGreaterThanOrEqual(5); // 6.25 frames/s
    expect(Number(bench.latest('qsrc.MONITOR_PD_UW'))).toBeGreaterThan(50);
  });

  withSim('qsrc')('a stuck random-number source shows in health and trips the bias limit', async () => {
    const { bench } = ctx;
    const q = bench.board('qsrc');
    const m = bench.mark();
    await q.fault('RNG_STUCK');
    await bench.waitTlm('qsrc.RNG_HEALTH', (v) => v === 1, { timeoutMs: 2000 });
    await bench.waitFor(() => bench.limits.violations(m).find((v) => v.item === 'qsrc.RNG_BIAS_PPM' && v.to === 'red'), { timeoutMs: 2000, what: 'RNG bias red limit' });
    await q.fault('RNG_STUCK', false);
  });
});

describe('laser terminal (lct)', () => {
  withSim('lct')('locks the uplink, counts bits and errors, and loses lock on a drop-out', async () => {
    const { bench } = ctx;
    const l = bench.board('lct');
    await l.write({ LINK_ENABLE: 1 });
    await l.linkLoss(50);
    await bench.waitTlm('lct.UPLINK_LOCK', (v) => v === 1, { timeoutMs: 2000 });
    const rx = await bench.waitTlm('lct.RX_POWER_DBM', (v) => Math.abs(Number(v) + 40) < 1, { timeoutMs: 2000 });
    expect(Number(rx.value)).toBeCloseTo(-40, 0);
    const m = bench.mark();
    await l.linkLoss(50, true);
    await bench.waitTlm('lct.UPLINK_LOCK', (v) => v === 0, { timeoutMs: 2000 });
    await bench.waitFor(() => bench.limits.violations(m).find((v) => v.item === 'lct.RX_POWER_DBM' && v.to === 'red'), { timeoutMs: 2000, what: 'received power red low' });
    await l.linkLoss(44);
    await bench.waitTlm('lct.UPLINK_LOCK', (v) => v === 1, { timeoutMs: 2000 });
    await bench.waitFor(() => bench.limits.transitions.find((v) => v.t >= m && v.item === 'lct.RX_POWER_DBM' && v.to === 'green'), { timeoutMs: 2000, what: 'received power back in limits' });
  });
});

describe('attitude control interface (acs)', () => {
  withHardware('acs')('slews the body to a requested offset at its rate limit and settles', async () => {
    const { bench } = ctx;
    const a = bench.board('acs');
    await a.write({ POINT_MODE: 2, TARGET_X_MRAD: 20, TARGET_Y_MRAD: -10 });
    await bench.waitTlm('acs.SLEWING', (v) => v === 1, { timeoutMs: 1000 });
    await bench.waitTlm('acs.SLEWING', (v) => v === 0, { timeoutMs: 5000 });
    const r = await a.read('ATT_X_MRAD', 'ATT_Y_MRAD', 'ATT_ERR_URAD');
    expect(r.ATT_X_MRAD).toBeCloseTo(20, 0);
    expect(r.ATT_Y_MRAD).toBeCloseTo(-10, 0);
    expect(r.ATT_ERR_URAD).toBeLessThan(200);
  });

  withSim('acs')('a wheel fault stops slewing', async () => {
    const { bench } = ctx;
    const a = bench.board('acs');
    await a.fault('WHEEL_FAULT');
    const before = await a.driver.readReg('ATT_X_MRAD');
    await a.write({ TARGET_X_MRAD: 40 });
    await bench.sleep(500);
    expect(Math.abs((await a.driver.readReg('ATT_X_MRAD')) - before)).toBeLessThan(0.5);
    await a.fault('WHEEL_FAULT', false);
  });
});
