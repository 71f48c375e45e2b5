import { describe, expect, it } from 'vitest';
import { BoardError } from '../errors.ts';
import { useBench } from '../fixture.ts';

/**
 * Acquisition/pointing board regression: the same text runs against the in-process
 * emulator (simulated time), an emulator on a pseudo-terminal, or a dev board
 * (tests that need environment control are emulator-only by nature).
 */
const ctx = useBench({ boards: ['apt'], suite: import.meta.filename });
/** Environment, faults and power through simulation control: an emulator on any line; skipped with the reason on a real board. */
const withSim = ctx.needs('sim');

describe('apt board', () => {
  it('identifies and round-trips its registers', async () => {
    const apt = ctx.bench.board('apt');
    const id = await apt.driver.verifyIdentity();
    expect(id.name).toBe('apt');
    const back = await apt.write({ FSM_CMD_X_URAD: 12.34, CAM_EXPOSURE_US: 2000 });
    expect(back).toEqual({ FSM_CMD_X_URAD: 12.34, CAM_EXPOSURE_US: 2000 });
    expect(await apt.driver.readReg('CAM_EXPOSURE_US')).toBe(2000);
  });

  it('refuses an out-of-range write and a write to a read-only register, naming board and port', async () => {
    const apt = ctx.bench.board('apt');
    await expect(apt.write({ FSM_CMD_X_URAD: 5000 })).rejects.toThrow(/board apt on .*OUT_OF_RANGE/);
    await expect(apt.write({ SPOT_X_URAD: 1 })).rejects.toThrow(BoardError);
    expect(await apt.driver.readReg('FSM_CMD_X_URAD')).toBe(12.34);
  });

  withSim('sees the beacon through the mirror and centres it by steering the mirror', async () => {
    const { bench } = ctx;
    const apt = bench.board('apt');
    await apt.write({ FSM_CMD_X_URAD: 0, FSM_CMD_Y_URAD: 0, CAM_EXPOSURE_US: 1000 });
    await apt.linkLoss(32);
    await apt.beacon(150, -90);
    const seen = await bench.waitTlm('apt.SPOT_VALID', (v) => v === 1, { timeoutMs: 2000 });
    await bench.waitTlm('apt.FSM_POS_X_URAD', (v) => Math.abs(Number(v)) < 0.5, { timeoutMs: 2000, since: seen.t });
    const spot = await bench.waitTlm('apt.SPOT_X_URAD', (v) => Math.abs(Number(v) - 150) < 5, { timeoutMs: 2000 });
    expect(Number(spot.value)).toBeCloseTo(150, -1);
    // Close a slow loop from the bench: mirror += spot error, a few times.
    for (let i = 0; i < 5; i++) {
      const r = await apt.read('SPOT_X_URAD', 'SPOT_Y_URAD', 'FSM_CMD_X_URAD', 'FSM_CMD_Y_URAD');
      await apt.write({ FSM_CMD_X_URAD: r.FSM_CMD_X_URAD + r.SPOT_X_URAD, FSM_CMD_Y_URAD: r.FSM_CMD_Y_URAD + r.SPOT_Y_URAD });
      await bench.sleep(60);
    }
    const err = await bench.waitTlm('apt.SPOT_X_URAD', (v) => Math.abs(Number(v)) < 3, { timeoutMs: 3000 });
    expect(Math.abs(Number(err.value))).toBeLessThan(3);
    const pos = await apt.read('FSM_POS_X_URAD', 'FSM_POS_Y_URAD');
    expect(pos.FSM_POS_X_URAD).toBeCloseTo(150, -1);
    expect(pos.FSM_POS_Y_URAD).toBeCloseTo(-90, -1);
  });

  withSim('loses the spot when the link drops out and finds it again', async () => {
    const { bench } = ctx;
    const apt = bench.board('apt');
    const m = bench.mark();
    await apt.linkLoss(32, true);
    await bench.waitTlm('apt.SPOT_VALID', (v) => v === 0, { timeoutMs: 2000 });
    await apt.linkLoss(32, false);
    await bench.waitTlm('apt.SPOT_VALID', (v) => v === 1, { timeoutMs: 2000 });
    expect(bench.history('apt.SPOT_VALID', m).some((s) => s.value === 0)).toBe(true);
  });

  withSim('a stuck mirror no longer follows its command (fault injection)', async () => {
    const { bench } = ctx;
    const apt = bench.board('apt');
    await apt.fault('MIRROR_STUCK');
    const before = await apt.driver.readReg('FSM_POS_X_URAD');
    await apt.write({ FSM_CMD_X_URAD: before + 200 });
    await bench.sleep(200);
    expect(Math.abs((await apt.driver.readReg('FSM_POS_X_URAD')) - before)).toBeLessThan(1);
    expect(await apt.driver.readReg('FAULT_FLAGS')).toBe(1);
    await apt.fault('MIRROR_STUCK', false);
    await bench.waitTlm('apt.FSM_POS_X_URAD', (v) => Math.abs(Number(v) - (before + 200)) < 1, { timeoutMs: 2000 });
  });

  withSim('survives a power loss: reboots with reset counter up, registers back to defaults', async () => {
    const { bench } = ctx;
    const apt = bench.board('apt');
    const resets = await apt.driver.readReg('RESET_COUNT');
    await apt.write({ CAM_EXPOSURE_US: 3000 });
    await apt.powerLoss(100);
    await bench.sleep(300);
    await apt.driver.verifyIdentity();
    expect(await apt.driver.readReg('RESET_COUNT')).toBe(resets + 1);
    expect(await apt.driver.readReg('CAM_EXPOSURE_US')).toBe(1000);
    await apt.driver.startStream();
    await bench.waitTlm('apt.SUPPLY_V', (v) => Number(v) > 4.5, { timeoutMs: 2000 });
  });
});
