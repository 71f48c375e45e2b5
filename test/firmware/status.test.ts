import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createModeMachine, type ModeEvent, type PassPlan } from '../../firmware/modes.ts';
import { defaultParams } from '../../firmware/params.ts';
import { statusOf } from '../../firmware/status.ts';

/** The bare mode machine (inert actors) driven by events: status is whatever its snapshot implies. */
function drive(events: ModeEvent[]) {
  const actor = createActor(createModeMachine(), { input: {} });
  actor.start();
  for (const e of events) actor.send(e);
  return actor;
}

const plan: PassPlan = { station: 'beijing', latDeg: 40, lonDeg: 116.4, altM: 50, startS: 100, endS: 400, minElevationDeg: 15, tleLine1: 'l1', tleLine2: 'l2' };
const toStandby: ModeEvent[] = [{ type: 'POWER_ON' }, { type: 'SELF_TEST_OK' }, { type: 'CONFIG_LOADED', bank: 'B', generation: 2, params: defaultParams() }];
const toEmitting: ModeEvent[] = [
  ...toStandby,
  { type: 'PLAN_UPLOADED', plan },
  { type: 'PASS_START' },
  { type: 'SLEW_DONE' },
  { type: 'BEACON_FOUND', xUrad: 30, yUrad: -40 },
  { type: 'FINE_LOCKED', errorUrad: 1 },
  { type: 'TEMP_STABLE' },
  { type: 'CAL_OK', errorPct: 0.5, iterations: 3 },
  { type: 'EMITTING' },
];

describe('statusOf(snapshot)', () => {
  it('is all off before power-on', () => {
    expect(statusOf(drive([]).getSnapshot())).toEqual({ mode: 'OFF', passActive: false, fineLock: false, emitting: false, configBank: null, stopReason: 'STOPPED' });
  });

  it('names the bank the configuration came from, and none on safe defaults', () => {
    expect(statusOf(drive(toStandby).getSnapshot())).toMatchObject({ mode: 'STANDBY', configBank: 'B', passActive: false });
    const defaults: ModeEvent[] = [{ type: 'POWER_ON' }, { type: 'SELF_TEST_OK' }, { type: 'CONFIG_DEFAULTS' }];
    expect(statusOf(drive(defaults).getSnapshot()).configBank).toBeNull();
  });

  it('follows the pass: in pass, locked, emitting; lock lost holds the lock flag off', () => {
    const actor = drive(toEmitting);
    expect(statusOf(actor.getSnapshot())).toMatchObject({ mode: 'QKD', passActive: true, fineLock: true, emitting: true });
    expect(actor.getSnapshot().context.beaconOffsetUrad).toEqual({ xUrad: 30, yUrad: -40 });
    actor.send({ type: 'HELD' });
    actor.send({ type: 'FINE_LOST', errorUrad: 9 });
    expect(statusOf(actor.getSnapshot())).toMatchObject({ passActive: true, fineLock: false, emitting: false });
    actor.send({ type: 'ABORT_PASS' });
    expect(statusOf(actor.getSnapshot())).toMatchObject({ mode: 'STANDBY', passActive: false, fineLock: false, emitting: false });
  });

  it('stops a frame FAULT when SAFE comes from a fault, STOPPED when commanded', () => {
    const faulted = drive([...toEmitting, { type: 'FAULT', fault: 'OVER_TEMPERATURE', action: 'SAFE', detail: 'qsrc hot' }]);
    expect(statusOf(faulted.getSnapshot())).toMatchObject({ mode: 'SAFE', stopReason: 'FAULT', emitting: false, passActive: false });
    const commanded = drive([...toEmitting, { type: 'SET_MODE', mode: 'SAFE' }]);
    expect(statusOf(commanded.getSnapshot())).toMatchObject({ mode: 'SAFE', stopReason: 'STOPPED' });
    // A fault whose recovery is not SAFE does not mark the next stop as a fault.
    const reacquire = drive([...toEmitting, { type: 'FAULT', fault: 'LOCK_LOST_TOO_LONG', action: 'REACQUIRE', detail: 'x' }]);
    expect(statusOf(reacquire.getSnapshot())).toMatchObject({ mode: 'ACQUISITION', stopReason: 'STOPPED', fineLock: false });
  });
});
