import { describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import type { AttitudeMrad, BoardEnvironment } from '../../hil/mission/board-environment.ts';
import { attachBenchWorld, runBenchWorld } from '../../hil/mission/bench-world.ts';
import { Bench } from '../../hil/bench/bench.ts';
import { inProcessBenchConfig, missionParams, RIG_BOARDS } from '../../hil/mission/rig.ts';

function fakeEnv() {
  const calls: string[] = [];
  const env: BoardEnvironment = {
    attitudeMrad: (): AttitudeMrad => ({ targetX: 0.1, targetY: 0.05, x: 0.1, y: 0.05 }),
    fsmPositionUrad: () => ({ x: 0, y: 0 }),
    setBeacon: (x, y, visible) => calls.push(`beacon ${x} ${y} ${visible}`),
    setBeaconLossDb: (l) => calls.push(`beaconLoss ${l}`),
    setLinkLoss: (l, dropout) => calls.push(`link ${l} ${dropout}`),
  };
  return { env, calls };
}

describe('the bench world (beacon and link always there)', () => {
  it('sets the beacon every period at bias - body, and the link only when the suite changes it', () => {
    const clock = new SimClock();
    const { env, calls } = fakeEnv();
    const w = runBenchWorld(clock, env, 5, { beaconLossDb: 25, linkLossDb: 31 });
    expect(calls).toEqual(['beaconLoss 25']);
    clock.runUntil(10);
    expect(calls.slice(1)).toEqual(['beacon 200 -250 true', 'link 31 false', 'beacon 200 -250 true']);
    w.beaconVisible = false;
    w.linkDropout = true;
    clock.runUntil(15);
    expect(calls.slice(4)).toEqual(['beacon 200 -250 false', 'link 31 true']);
    w.stop();
    clock.runUntil(100);
    expect(calls.length).toBe(6);
  });
});

describe('attachBenchWorld (the bench world on a hosted payload)', () => {
  it('runs at the flashed loop period on a lockstep bench, its beacon reaching the apt behind its host by SIM requests', () => {
    const bench = Bench.openInProcess({ ...inProcessBenchConfig(), lockstep: 'always', lockstepQuantumMs: 1 }, { seed: 2, boards: [...RIG_BOARDS], capture: false });
    const clock = bench.clock as SimClock;
    const apt = bench.board('apt');
    const before = apt.driver.stats.requests;
    const w = attachBenchWorld({ bench, params: missionParams(100) }); // 10 ms period
    clock.runUntil(clock.now() + 100);
    // The beacon loss once, then one beacon a 10 ms period; nothing heard of the acs yet, so at the bias.
    expect(apt.driver.stats.requests - before).toBe(11);
    expect(apt.emulator!.env.link.lossDb).toBe(28);
    expect(apt.emulator!.env.beacon).toEqual({ xUrad: 300, yUrad: -200, visible: true });
    w.beaconVisible = false;
    clock.runUntil(clock.now() + 20);
    expect(apt.emulator!.env.beacon.visible).toBe(false);
    w.stop();
    const stopped = apt.driver.stats.requests;
    clock.runUntil(clock.now() + 100);
    expect(apt.driver.stats.requests).toBe(stopped);
    void bench.close();
  });

  it('refuses a wall-clock bench, naming it (no beacon in step with real boards)', async () => {
    const bench = await Bench.open({ ...inProcessBenchConfig(), name: 'desk', clock: 'wall' }, { seed: 1, boards: [...RIG_BOARDS], capture: false });
    try {
      expect(() => attachBenchWorld({ bench, params: missionParams(200) })).toThrow(/simulated time.*'desk'.*wall clock/);
    } finally {
      await bench.close();
    }
  });
});
