import { describe, expect, it } from 'vitest';
import { encodeConfigImage } from '../../protocols/config-image.ts';
import { parameterDef } from '../../protocols/dictionary/index.ts';
import { accounted, boot, createTestRig, frames, modeChanges, planArgs, reports, toEmitting, type TestRig } from './helpers.ts';

const pid = (name: string) => parameterDef(name).id;

/**
 * Scenarios on the assembled payload: the firmware on the four emulated boards over
 * in-memory lines, in simulated time. Faults and the environment reach it as they would
 * on the bench: board temperatures and faults by SIM control, the beacon and the link
 * through the bench world, power by cutting an emulator's supply, the controller's own
 * flash by writing its banks.
 */

/** Stops the payload (an open frame is then closed as STOPPED) and checks the accounting against the source's gate. */
function expectFramesConsistent(rig: TestRig, stop = true) {
  if (stop) rig.payload.stop();
  const f = frames(rig);
  expect(f.map((x) => x.frameNumber)).toEqual(f.map((_, i) => i));
  expect(accounted(rig)).toBe(rig.ports.qsrc.pulsesEmittedTotal());
}

/** Switches the beacon off (or on) `inMs` from now (the bench world's beacon, as the ground station would). */
function beaconAt(rig: TestRig, inMs: number, visible: boolean) {
  rig.clock.setTimeout(() => (rig.world.beaconVisible = visible), inMs);
}

describe('lock loss mid-pass', () => {
  it('a short disturbance (beacon lost for 400 ms) pauses emission (PAUSED_LOCK), re-locks within the window and resumes', () => {
    const rig = toEmitting({ seed: 7 });
    beaconAt(rig, 3000, false);
    beaconAt(rig, 3400, true);
    rig.advanceMs(8000);
    const names = rig.events().map((e) => e.name);
    expect(names).toContain('FINE_LOCK_LOST');
    expect(names).not.toContain('RELOCK_FAILED');
    const lostAt = names.indexOf('FINE_LOCK_LOST');
    expect(names.indexOf('FINE_LOCK_ACQUIRED', lostAt)).toBeGreaterThan(lostAt);
    const f = frames(rig);
    expect(f.some((x) => x.reason === 'PAUSED_LOCK')).toBe(true);
    // Frames after the pause complete again.
    const paused = f.findIndex((x) => x.reason === 'PAUSED_LOCK');
    expect(f.slice(paused + 1).some((x) => x.reason === 'COMPLETED')).toBe(true);
    expect(rig.payload.mode()).toBe('QKD');
    expect(rig.payload.status.emitting).toBe(true);
    expectFramesConsistent(rig);
  });

  it('no re-lock within the window: RELOCK_FAILED, back to ACQUISITION, then QKD again when the beacon returns', () => {
    const rig = toEmitting({ seed: 8 });
    beaconAt(rig, 2000, false);
    rig.advanceMs(2000 + 4000);
    expect(rig.events().map((e) => e.name)).toContain('RELOCK_FAILED');
    expect(rig.payload.mode()).toBe('ACQUISITION');
    expect(rig.payload.status.emitting).toBe(false);
    rig.world.beaconVisible = true;
    expect(rig.runUntil(() => rig.payload.status.emitting, 20_000)).toBeGreaterThanOrEqual(0);
    expect(modeChanges(rig)).toContain('QKD->ACQUISITION');
    expect(modeChanges(rig).at(-1)).toBe('FINE_POINTING->QKD');
    expect(frames(rig).some((x) => x.reason === 'PAUSED_LOCK')).toBe(true);
    expectFramesConsistent(rig);
  });
});

describe('acquisition', () => {
  it('times out, retries a bounded number of times with an event each, then gives up to STANDBY', () => {
    const rig = createTestRig({ beaconOnMs: Infinity, passStartMs: 5000, passEndMs: 400_000, params: { ACQ_TIMEOUT_S: 2, ACQ_RETRIES: 2 } });
    boot(rig);
    rig.tc('SET_MODE', { mode: 'ACQUISITION' });
    expect(rig.events().length).toBeGreaterThan(0);
    // No plan yet: refused.
    expect(reports(rig, 'VERIFY_START_FAIL').at(-1)!.fields!.detail).toMatch(/no pass plan/);
    rig.tc('UPLOAD_PASS_PLAN', { ...planFor(rig, 300) });
    rig.tc('SET_MODE', { mode: 'ACQUISITION' });
    rig.advanceMs(7000);
    expect(rig.events('ACQUISITION_STARTED').map((e) => e.fields!.attempt)).toEqual([1, 2, 3]);
    expect(rig.events('ACQUISITION_TIMEOUT').map((e) => e.fields!.attempt)).toEqual([1, 2, 3]);
    expect(rig.events('ACQUISITION_FAILED').map((e) => e.fields!.attempts)).toEqual([3]);
    expect(rig.payload.mode()).toBe('STANDBY');
  });

  it('finds a beacon anywhere in the uncertainty cone', () => {
    for (const [x, y] of [
      [0, 0],
      [1800, 0],
      [-900, 1500],
      [-1300, -1300],
    ]) {
      const rig = createTestRig({ beaconOnMs: 0, passStartMs: 5000, passEndMs: 100_000, beaconBiasUrad: { x, y } });
      boot(rig);
      rig.tc('UPLOAD_PASS_PLAN', planFor(rig, 60));
      rig.tc('SET_MODE', { mode: 'ACQUISITION' });
      expect(rig.runUntil(() => rig.payload.mode() === 'QKD', 10_000), `beacon at ${x},${y}`).toBeGreaterThanOrEqual(0);
      expect(rig.events('ACQUISITION_TIMEOUT')).toEqual([]);
    }
  });
});

function planFor(rig: TestRig, durationS: number) {
  return planArgs(rig, 1, durationS, 10, { station: 'jinan', latDeg: 36.7, lonDeg: 117.0, altM: 40 });
}

describe('FDIR table: each fault reaches its recovery or SAFE', () => {
  it('OVER_TEMPERATURE: high-severity event, SAFE, open frame closed as FAULT; SAFE left only after the cause clears and CLEAR_FAULTS', () => {
    const rig = toEmitting();
    rig.ambient('qsrc', 38); // the qsrc board runs 10 degC and more above its ambient: over TEMP_HIGH_LIMIT_C (35)
    rig.advanceMs(1000);
    const ev = rig.events('FAULT_OVER_TEMPERATURE');
    expect(ev).toHaveLength(1);
    expect(ev[0].pus.subtype).toBe(4); // TM(5,4): high severity
    expect(ev[0].fields).toMatchObject({ board: 'qsrc' });
    expect(rig.events('RECOVERY_ACTION').at(-1)!.fields).toEqual({ fault: 'OVER_TEMPERATURE', action: 'SAFE' });
    expect(rig.payload.mode()).toBe('SAFE');
    expect(String(rig.events('SAFE_ENTERED').at(-1)!.fields!.reason)).toMatch(/OVER_TEMPERATURE/);
    expect(frames(rig).at(-1)!.reason).toBe('FAULT');
    expectFramesConsistent(rig, false); // nothing open in SAFE

    rig.tc('SET_MODE', { mode: 'SAFE' });
    expect(reports(rig, 'VERIFY_START_FAIL').at(-1)!.fields).toMatchObject({ failureCode: 'TRANSITION_NOT_ALLOWED', detail: 'already in SAFE' });
    rig.tc('SET_MODE', { mode: 'STANDBY' });
    expect(reports(rig, 'VERIFY_START_FAIL').at(-1)!.fields).toMatchObject({ failureCode: 'FAULT_ACTIVE' });
    expect(String(reports(rig, 'VERIFY_START_FAIL').at(-1)!.fields!.detail)).toMatch(/faults latched OVER_TEMPERATURE/);
    rig.tc('CLEAR_FAULTS');
    expect(reports(rig, 'VERIFY_COMPLETE_FAIL').at(-1)!.fields).toMatchObject({ failureCode: 'FAULT_ACTIVE' });
    expect(rig.payload.mode()).toBe('SAFE');

    rig.ambient('qsrc', 20);
    rig.advanceMs(1000);
    rig.tc('CLEAR_FAULTS');
    rig.tc('SET_MODE', { mode: 'STANDBY' });
    expect(rig.payload.mode()).toBe('STANDBY');
    expect(rig.events().map((e) => e.name)).toContain('SAFE_EXITED');
  });

  it('UNDER_TEMPERATURE: re-stabilises and re-calibrates the source, SAFE if it persists', () => {
    const rig = toEmitting();
    const calibrations = rig.events('SOURCE_CALIBRATED').length;
    rig.ambient('apt', -9); // the apt board runs 11 degC above its ambient: 2 degC, under TEMP_LOW_LIMIT_C (10)
    rig.advanceMs(800);
    expect(rig.events('FAULT_UNDER_TEMPERATURE')[0].fields).toMatchObject({ board: 'apt' });
    expect(rig.events('RECOVERY_ACTION')[0].fields).toEqual({ fault: 'UNDER_TEMPERATURE', action: 'RECALIBRATE' });
    rig.advanceMs(1800);
    expect(rig.events('SOURCE_CALIBRATED').length).toBe(calibrations + 1);
    expect(rig.payload.mode()).toBe('QKD');
    rig.advanceMs(3000); // still cold: the retry did not help
    expect(rig.events('RECOVERY_ACTION').at(-1)!.fields).toEqual({ fault: 'UNDER_TEMPERATURE', action: 'SAFE' });
    expect(rig.payload.mode()).toBe('SAFE');
    expectFramesConsistent(rig);
  });

  it('LOCK_LOST_TOO_LONG: re-acquires', () => {
    const rig = toEmitting({ params: { LOCK_LOST_MAX_MS: 300, RELOCK_WINDOW_MS: 5000 } });
    beaconAt(rig, 500, false);
    rig.advanceMs(1500);
    expect(rig.events('FAULT_LOCK_LOST_TOO_LONG')).toHaveLength(1);
    expect(rig.events('FAULT_LOCK_LOST_TOO_LONG')[0].fields!.durationMs as number).toBeGreaterThan(300);
    expect(rig.events('RECOVERY_ACTION')[0].fields).toEqual({ fault: 'LOCK_LOST_TOO_LONG', action: 'REACQUIRE' });
    expect(rig.payload.mode()).toBe('ACQUISITION');
    rig.world.beaconVisible = true;
    expect(rig.runUntil(() => rig.payload.status.emitting, 20_000)).toBeGreaterThanOrEqual(0);
    expectFramesConsistent(rig);
  });

  it('RNG_HEALTH: SAFE', () => {
    const rig = toEmitting();
    rig.fault('qsrc', 'RNG_STUCK');
    // Stop at the event (1 ms steps): it reports the failures the source port has counted by then.
    expect(rig.runUntil(() => rig.events('FAULT_RNG_HEALTH').length > 0, 1000, 1)).toBeGreaterThanOrEqual(0);
    const failures = rig.ports.qsrc.rngHealthFailures();
    expect(failures).toBeGreaterThan(rig.payload.params().RNG_MAX_FAILURES);
    expect(rig.events('FAULT_RNG_HEALTH')[0].fields).toEqual({ failures });
    expect(rig.events('FAULT_RNG_HEALTH')[0].pus.subtype).toBe(4);
    expect(rig.payload.mode()).toBe('SAFE');
    expectFramesConsistent(rig);
  });

  it('INTENSITY_DRIFT: re-calibrates and emission resumes', () => {
    const rig = toEmitting();
    rig.fault('qsrc', 'LASER_DEGRADED'); // the laser emits half its power: the signal level reads 50 % low
    rig.advanceMs(1000);
    expect((rig.events('FAULT_INTENSITY_DRIFT')[0].fields!.driftPct as number) < -5).toBe(true);
    expect(rig.events('FAULT_INTENSITY_DRIFT')[0].pus.subtype).toBe(2); // low severity
    expect(rig.events('RECOVERY_ACTION')[0].fields).toEqual({ fault: 'INTENSITY_DRIFT', action: 'RECALIBRATE' });
    expect(rig.runUntil(() => rig.payload.status.emitting, 10_000)).toBeGreaterThanOrEqual(0);
    expect(rig.events('SOURCE_CALIBRATED')).toHaveLength(2);
    expect(Math.abs(rig.ports.qsrc.monitorSignalMu() - 0.8) / 0.8).toBeLessThan(0.02);
    rig.advanceMs(3000);
    expect(rig.events('FAULT_INTENSITY_DRIFT')).toHaveLength(1);
    expectFramesConsistent(rig);
  });

  it('CONFIG_CRC: the active bank goes bad at run time; FDIR switches to the valid other bank (RETRY)', () => {
    const rig = createTestRig();
    rig.flash.writeBank('B', 0, encodeConfigImage({ boardId: 1, configVersion: 1, generation: 8, params: new Map() }));
    boot(rig);
    rig.flash.banks.A[21] ^= 0x40;
    rig.advanceMs(1000);
    expect(rig.events('FAULT_CONFIG_CRC')[0].fields).toEqual({ bank: 'A' });
    expect(rig.events('RECOVERY_ACTION')[0].fields).toEqual({ fault: 'CONFIG_CRC', action: 'RETRY' });
    expect(rig.flash.activeBank()).toBe('B');
    expect(rig.payload.mode()).toBe('STANDBY');
  });

  it('CONFIG_CRC with no valid bank left: SAFE', () => {
    const rig = createTestRig();
    boot(rig);
    rig.flash.banks.A[22] ^= 0x01;
    rig.advanceMs(1000);
    expect(rig.events('RECOVERY_ACTION')[0].fields).toEqual({ fault: 'CONFIG_CRC', action: 'SAFE' });
    expect(rig.payload.mode()).toBe('SAFE');
  });

  it('BOARD_NOT_ANSWERING: the watchdog resets the board (RETRY); a board that stays silent sends the payload SAFE', () => {
    const rig = toEmitting();
    // A power blip: the lct is back 200 ms later, but silent (rebooted, no telemetry stream) until reset.
    rig.boards.lct.emu.cutPower(200);
    rig.advanceMs(1200);
    expect(rig.events('FAULT_BOARD_NOT_ANSWERING')[0].fields).toEqual({ board: 'lct' });
    expect(rig.events('RECOVERY_ACTION')[0].fields).toEqual({ fault: 'BOARD_NOT_ANSWERING', action: 'RETRY' });
    expect(rig.ports.lct.resets).toBe(1);
    expect(rig.payload.mode()).toBe('QKD');

    // The acs loses power for good: no reset brings it back.
    rig.boards.acs.emu.cutPower(-1);
    rig.advanceMs(10_000);
    const actions = rig.events('RECOVERY_ACTION').filter((e) => e.fields!.fault === 'BOARD_NOT_ANSWERING').map((e) => e.fields!.action);
    // lct: one reset, and it answered again; acs: two resets (maxRecoveries), then SAFE.
    expect(actions).toEqual(['RETRY', 'RETRY', 'RETRY', 'SAFE']);
    expect(rig.events('FAULT_BOARD_NOT_ANSWERING').map((e) => e.fields!.board)).toEqual(['lct', 'acs', 'acs', 'acs']);
    expect(rig.ports.acs.resets).toBe(2);
    expect(rig.payload.mode()).toBe('SAFE');
    expectFramesConsistent(rig);
  });
});

describe('BOOT', () => {
  it('falls back to the other bank, then to the safe defaults, with an event each time', () => {
    const good = encodeConfigImage({ boardId: 1, configVersion: 1, generation: 11, params: new Map([[pid('FINE_LOCK_SAMPLES'), 80]]) });
    const bad = good.slice();
    bad[bad.length - 1] ^= 0xff;
    const rig = createTestRig();
    rig.flash.flash('A', bad);
    rig.flash.writeBank('B', 0, good);
    boot(rig);
    expect(rig.events().map((e) => e.name)).toEqual(['MODE_CHANGED', 'SELF_TEST_PASSED', 'CONFIG_CRC_FAILED', 'CONFIG_LOADED', 'MODE_CHANGED']);
    expect(rig.events('CONFIG_CRC_FAILED')[0].fields).toEqual({ bank: 'A' });
    expect(rig.events('CONFIG_LOADED')[0].fields).toEqual({ bank: 'B', generation: 11 });
    expect(rig.payload.params().FINE_LOCK_SAMPLES).toBe(80);

    const none = createTestRig();
    none.flash.flash('A', bad);
    boot(none);
    expect(none.events('CONFIG_CRC_FAILED').map((e) => e.fields!.bank)).toEqual(['A', 'B']);
    expect(none.events('CONFIG_DEFAULTS_USED')).toHaveLength(1);
    expect(none.events('CONFIG_DEFAULTS_USED')[0].pus.subtype).toBe(4);
    const p = none.payload.params();
    expect([p.SOURCE_REP_RATE_MHZ, p.MU_SIGNAL, p.MU_DECOY, p.MU_VACUUM, p.P_SIGNAL, p.P_DECOY, p.P_VACUUM]).toEqual([625, 0.8, 0.1, 0, 0.5, 0.25, 0.25]);
  });

  it('a board failing its self-test sends the payload SAFE naming the board', () => {
    const rig = createTestRig();
    rig.boards.apt.emu.cutPower(-1); // the apt does not answer its identity check
    rig.payload.powerOn();
    rig.runUntil(() => rig.payload.mode() !== 'BOOT', 2000);
    expect(rig.events('SELF_TEST_FAILED')[0].fields).toEqual({ board: 'apt' });
    expect(rig.payload.mode()).toBe('SAFE');
  });
});

describe('commands refused in the wrong mode change nothing', () => {
  it('SET_MODE QKD from STANDBY, CALIBRATE_SOURCE outside QKD, ABORT_PASS without a pass, BOOT when on', () => {
    const rig = createTestRig();
    boot(rig);
    const before = rig.payload.snapshot();
    rig.tc('SET_MODE', { mode: 'QKD' });
    rig.tc('CALIBRATE_SOURCE');
    rig.tc('ABORT_PASS');
    rig.tc('SET_MODE', { mode: 'BOOT' });
    const fails = reports(rig, 'VERIFY_START_FAIL').map((r) => r.fields as { failureCode: string; detail: string; tcSeq: number });
    expect(fails.map((f) => f.failureCode)).toEqual(['TRANSITION_NOT_ALLOWED', 'MODE_NOT_ALLOWED', 'MODE_NOT_ALLOWED', 'TRANSITION_NOT_ALLOWED']);
    expect(fails[0].detail).toBe('STANDBY -> QKD not allowed: QKD is entered autonomously (on fine lock)');
    expect(fails[1].detail).toMatch(/not in STANDBY/);
    expect(fails[3].detail).toMatch(/BOOT only from OFF/);
    expect(fails.map((f) => f.tcSeq)).toEqual([0, 1, 2, 3]);
    expect(reports(rig, 'VERIFY_ACCEPT_OK')).toHaveLength(4);
    expect(reports(rig, 'VERIFY_COMPLETE_OK')).toHaveLength(0);
    expect(rig.payload.snapshot().value).toEqual(before.value);
    expect(rig.payload.snapshot().context).toEqual(before.context);
  });

  it('in QKD: source parameters frozen, the active config bank not writable (in any mode), SET_MODE ACQUISITION refused; nothing changes', () => {
    const rig = toEmitting();
    const before = rig.payload.snapshot();
    rig.tc('SET_PARAM', { paramId: pid('PULSES_PER_FRAME'), value: 1_000_000 });
    rig.tc('LOAD_MEMORY', { memoryId: 'CONFIG_A', offset: 0, data: new Uint8Array([0]) });
    rig.tc('SET_MODE', { mode: 'ACQUISITION' });
    const fails = reports(rig, 'VERIFY_START_FAIL').map((r) => r.fields as { failureCode: string; detail: string });
    expect(fails.map((f) => f.failureCode)).toEqual(['MODE_NOT_ALLOWED', 'MEMORY_ERROR', 'MODE_NOT_ALLOWED']);
    expect(fails[0].detail).toMatch(/PULSES_PER_FRAME is frozen/);
    expect(fails[1].detail).toMatch(/bank A is the active bank/);
    expect(fails[2].detail).toBe('QKD -> ACQUISITION not allowed: only from STANDBY');
    expect(rig.payload.params().PULSES_PER_FRAME).toBe(before.context.params.PULSES_PER_FRAME);
    expect(rig.flash.banks.A[0]).toBe(0x51);
    // A non-source parameter may change in QKD, and ABORT_PASS ends the pass with the open frame STOPPED.
    rig.tc('SET_PARAM', { paramId: pid('FDIR_PERSISTENCE'), value: 4 });
    expect(rig.payload.params().FDIR_PERSISTENCE).toBe(4);
    rig.tc('ABORT_PASS');
    expect(rig.payload.mode()).toBe('STANDBY');
    expect(frames(rig).at(-1)!.reason).toBe('STOPPED');
    expectFramesConsistent(rig, false);
  });
});

describe('emission gates', () => {
  it('a link drop-out pauses the open frame (PAUSED_LINK) and emission resumes on the next sync boundary', () => {
    const rig = toEmitting({ seed: 3 });
    rig.clock.setTimeout(() => (rig.world.linkDropout = true), 1000);
    rig.clock.setTimeout(() => (rig.world.linkDropout = false), 2500);
    rig.advanceMs(4000);
    const f = frames(rig);
    const i = f.findIndex((x) => x.reason === 'PAUSED_LINK');
    expect(i).toBeGreaterThanOrEqual(0);
    expect(f[i].pulseCount).toBeLessThan(rig.payload.params().PULSES_PER_FRAME);
    expect(f.slice(i + 1).some((x) => x.reason === 'COMPLETED')).toBe(true);
    expect(rig.payload.mode()).toBe('QKD');
    expectFramesConsistent(rig);
  });

  it('below the minimum elevation the source holds (PAUSED_ELEVATION) with fine lock kept', () => {
    const rig = toEmitting({ seed: 4, maxElevationDeg: 20 });
    // The elevation profile crosses 15 deg on the way down well before the pass ends.
    rig.advanceMs(rig.passEndMs - 5000 - rig.clock.now());
    expect(frames(rig).at(-1)!.reason).toBe('PAUSED_ELEVATION');
    expect(rig.payload.status.emitting).toBe(false);
    expect(rig.payload.status.fineLock).toBe(true);
    expect(rig.payload.mode()).toBe('QKD');
    expectFramesConsistent(rig);
  });
});

describe('source preparation failures', () => {
  it('calibration that cannot reach the tolerance: SOURCE_CALIBRATION_FAILED, one retry, then SAFE; nothing emitted', () => {
    // A laser held 10 degC off its 25 degC optimum emits a seventh of its power: the
    // calibration would need 4.6 photons of drive, beyond the modulator's range of 2.
    const rig = createTestRig({ beaconOnMs: 8000, passStartMs: 5000, passEndMs: 65_000, params: { LASER_TEMP_SETPOINT_C: 35 } });
    bootAndPlanLocal(rig);
    expect(rig.runUntil(() => rig.payload.mode() === 'SAFE', 40_000)).toBeGreaterThanOrEqual(0);
    expect(rig.events('SOURCE_CALIBRATION_FAILED')).toHaveLength(2);
    expect(String(rig.events('SAFE_ENTERED').at(-1)!.fields!.reason)).toMatch(/calibration failed/);
    expect(frames(rig)).toEqual([]);
    expect(rig.ports.qsrc.pulsesEmittedTotal()).toBe(0);
  });

  it('a laser that does not settle (TEC failed): LASER_TEMP_NOT_STABLE after the timeout, SAFE', () => {
    const rig = createTestRig({ beaconOnMs: 8000, passStartMs: 5000, passEndMs: 65_000, params: { LASER_STABILISE_TIMEOUT_MS: 5000 } });
    rig.fault('qsrc', 'TEC_FAIL');
    bootAndPlanLocal(rig);
    expect(rig.runUntil(() => rig.payload.mode() === 'SAFE', 40_000)).toBeGreaterThanOrEqual(0);
    expect(rig.events('LASER_TEMP_NOT_STABLE')[0].fields).toEqual({ tempC: 20, setpointC: 25 });
    expect(rig.events('SOURCE_CALIBRATED')).toEqual([]);
    expect(rig.ports.qsrc.pulsesEmittedTotal()).toBe(0);
  });
});

function bootAndPlanLocal(rig: TestRig) {
  boot(rig);
  rig.tc('UPLOAD_PASS_PLAN', planFor(rig, 60));
}
