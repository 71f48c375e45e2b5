import { describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import type { AttitudeMrad, BoardEnvironment } from '../../hil/mission/board-environment.ts';
import { runBenchWorld } from '../../hil/mission/bench-world.ts';

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
