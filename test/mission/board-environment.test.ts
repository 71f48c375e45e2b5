import { describe, expect, it } from 'vitest';
import type { SimClock } from '../../boards/clock.ts';
import { Bench } from '../../hil/bench/bench.ts';
import { benchEnvironment, boardLinkEnvironment, inProcessEnvironment, sharesClock } from '../../hil/mission/board-environment.ts';
import { inProcessBenchConfig, RIG_BOARDS } from '../../hil/mission/rig.ts';

/** The rig's boards as in-process emulators on one clock: the link environment's requests can be checked against the emulators' state. */
function bench() {
  const b = Bench.openInProcess(inProcessBenchConfig(), { seed: 3, boards: [...RIG_BOARDS], capture: false });
  const boards = { apt: { client: b.board('apt').driver.engine }, lct: { client: b.board('lct').driver.engine }, acs: { client: b.board('acs').driver.engine } };
  return { b, clock: b.clock as SimClock, boards, emu: { apt: b.board('apt').emulator!, lct: b.board('lct').emulator!, acs: b.board('acs').emulator!, qsrc: b.board('qsrc').emulator! } };
}

describe('the board environment over the board link', () => {
  it('sets beacon, beacon loss and link loss by SIM requests, the newest of each kind only while the line is busy', () => {
    const { b, clock, boards, emu } = bench();
    const env = boardLinkEnvironment(boards);
    env.setBeacon(10, 20, true); // goes out at once
    env.setBeacon(11, 21, true); // queued ...
    env.setBeacon(12, 22, false); // ... and replaced: one SIM BEACON waits, with the newest value
    env.setBeaconLossDb(33);
    env.setLinkLoss(41, true);
    expect(boards.apt.client.stats.coalesced).toBe(1);
    clock.runUntil(clock.now() + 50);
    expect(emu.apt.env.beacon).toEqual({ xUrad: 12, yUrad: 22, visible: false });
    expect(emu.apt.env.link).toEqual({ lossDb: 33, dropout: false });
    expect(emu.lct.env.link).toEqual({ lossDb: 41, dropout: true });
    // 3 SIM requests reached the apt (first beacon, newest beacon, beacon loss), 1 the lct.
    expect(boards.apt.client.stats.requests).toBe(3);
    expect(boards.lct.client.stats.requests).toBe(1);
    void b.close();
  });

  it('reads attitude and mirror from the engines’ latest values (telemetry and write answers), as the emulators hold them', () => {
    const { b, clock, boards, emu } = bench();
    const env = boardLinkEnvironment(boards);
    expect(env.attitudeMrad()).toEqual({ targetX: 0, targetY: 0, x: 0, y: 0 }); // nothing heard yet
    boards.acs.client.write({ POINT_MODE: 2, TARGET_X_MRAD: 0.4, TARGET_Y_MRAD: -0.2 });
    boards.acs.client.request({ op: 'STREAM_START', periodMs: 10 });
    boards.apt.client.write({ FSM_ENABLE: 1, FSM_CMD_X_URAD: 150, FSM_CMD_Y_URAD: -80 });
    boards.apt.client.request({ op: 'STREAM_START', periodMs: 10 });
    clock.runUntil(clock.now() + 2000);
    const att = env.attitudeMrad();
    expect(att.targetX).toBeCloseTo(0.4, 6);
    expect(att.targetY).toBeCloseTo(-0.2, 6);
    // The acs slewed to the target: the streamed attitude is there, within its jitter.
    expect(att.x).toBeCloseTo(0.4, 1);
    expect(att.y).toBeCloseTo(-0.2, 1);
    const fsm = env.fsmPositionUrad();
    expect(fsm.x).toBeCloseTo(150, -1);
    expect(fsm.y).toBeCloseTo(-80, -1);
    // The same quantities the in-process environment reads off the emulators directly.
    const direct = inProcessEnvironment({ acs: { emu: emu.acs }, apt: { emu: emu.apt }, lct: { emu: emu.lct } });
    expect(direct.attitudeMrad().targetX).toBeCloseTo(att.targetX, 6);
    void b.close();
  });
});

describe('the board environment of a bench (benchEnvironment)', () => {
  const open = (lockstep: boolean) =>
    Bench.openInProcess(lockstep ? { ...inProcessBenchConfig(), lockstep: 'always', lockstepQuantumMs: 1 } : inProcessBenchConfig(), { seed: 3, boards: [...RIG_BOARDS], capture: false });

  it('reaches the emulators directly when they share the bench clock: set at once, nothing on the line', () => {
    const b = open(false);
    expect(sharesClock(b)).toBe(true);
    const env = benchEnvironment(b);
    env.setBeacon(5, 6, false);
    env.setLinkLoss(35, true);
    expect(b.board('apt').emulator!.env.beacon).toEqual({ xUrad: 5, yUrad: 6, visible: false });
    expect(b.board('lct').emulator!.env.link).toEqual({ lossDb: 35, dropout: true });
    expect(b.board('apt').driver.stats.requests).toBe(0);
    expect(b.board('lct').driver.stats.requests).toBe(0);
    void b.close();
  });

  it('goes over the board link to boards behind lockstep hosts: SIM requests, applied once the line carried them', () => {
    const b = open(true);
    expect(b.inProcess).toBe(true);
    expect(sharesClock(b)).toBe(false);
    const clock = b.clock as SimClock;
    const env = benchEnvironment(b);
    const apt = b.board('apt');
    const lct = b.board('lct');
    const aptBefore = apt.driver.stats.requests;
    const lctBefore = lct.driver.stats.requests;
    env.setBeacon(5, 6, false);
    env.setLinkLoss(35, true);
    expect(apt.emulator!.env.beacon).not.toEqual({ xUrad: 5, yUrad: 6, visible: false });
    clock.runUntil(clock.now() + 50);
    expect(apt.emulator!.env.beacon).toEqual({ xUrad: 5, yUrad: 6, visible: false });
    expect(lct.emulator!.env.link).toEqual({ lossDb: 35, dropout: true });
    expect(apt.driver.stats.requests - aptBefore).toBe(1);
    expect(lct.driver.stats.requests - lctBefore).toBe(1);
    void b.close();
  });
});
