import { describe, expect, it } from 'vitest';
import { SimClock, sleep } from '../../boards/clock.ts';
import { UartTx } from '../../boards/uart.ts';

/** A schedule with nesting, ties, 0 ms timers, a cancellation and a periodic timer; returns its log. */
function schedule(clock: SimClock): string[] {
  const log: string[] = [];
  const at = (label: string) => () => log.push(`${clock.now()} ${label}`);
  clock.setTimeout(at('a10'), 10);
  clock.setTimeout(() => {
    log.push(`${clock.now()} b5`);
    clock.setTimeout(at('b5+0'), 0);
    clock.setTimeout(at('b5+5'), 5);
  }, 5);
  clock.setTimeout(at('c10'), 10);
  const dead = clock.setTimeout(at('never'), 7);
  clock.setTimeout(() => clock.clearTimeout(dead), 6);
  let n = 0;
  clock.every(4, () => {
    log.push(`${clock.now()} tick`);
    return ++n < 5;
  });
  return log;
}

describe('SimClock: one event queue, run synchronously or by holds', () => {
  it('runs the same schedule in the same order both ways', async () => {
    const sync = new SimClock();
    const syncLog = schedule(sync);
    sync.runUntil(100);
    const held = new SimClock();
    const heldLog = schedule(held);
    await sleep(held, 100);
    expect(syncLog).toEqual(['4 tick', '5 b5', '5 b5+0', '8 tick', '10 a10', '10 c10', '10 b5+5', '12 tick', '16 tick', '20 tick']);
    expect(heldLog).toEqual(syncLog);
    expect(sync.now()).toBe(100);
    expect(held.now()).toBe(100);
  });

  it('runUntilTrue stops at the first step where the predicate holds', () => {
    const clock = new SimClock();
    let done = false;
    clock.setTimeout(() => (done = true), 33);
    expect(clock.runUntilTrue(() => done, 1000, 10)).toBe(true);
    expect(clock.now()).toBe(40);
    expect(clock.runUntilTrue(() => false, 25, 10)).toBe(false);
    expect(clock.now()).toBe(65);
  });

  it('calls the advance hook before time enters each new quantum, empty ones included (the lockstep seam)', () => {
    const clock = new SimClock();
    const grants: string[] = [];
    clock.onAdvance(10, (toMs) => void grants.push(`${clock.now()}->${toMs}`));
    for (const t of [5, 25, 26]) clock.setTimeout(() => {}, t);
    clock.runUntil(30);
    clock.runUntil(31);
    expect(grants).toEqual(['0->10', '5->20', '5->30', '30->40']);
  });

  it('the async pump awaits an asynchronous advance hook before running past the boundary', async () => {
    const clock = new SimClock();
    const log: string[] = [];
    clock.onAdvance(10, async (toMs) => {
      log.push(`grant ${toMs}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`granted ${toMs}`);
    });
    clock.setTimeout(() => log.push('event 15'), 15);
    await sleep(clock, 20);
    expect(log).toEqual(['grant 10', 'granted 10', 'grant 20', 'granted 20', 'event 15']);
    // A synchronous run cannot wait for another process.
    clock.setTimeout(() => {}, 15);
    expect(() => clock.runUntil(40)).toThrow(/async pump/);
  });

  it('reports a timer re-armed for 0 ms forever instead of hanging', () => {
    const clock = new SimClock();
    const spin = () => void clock.setTimeout(spin, 0);
    clock.setTimeout(spin, 1);
    expect(() => clock.runUntil(2)).toThrow(/stuck: more than .* events at t = 1 ms/);
  });
});

describe('UART pacing on the SimClock late in a long run', () => {
  it('never arms a 0 ms timer at 2 Mbaud around t = 1e5 ms, and delivers every byte', () => {
    for (let k = 0; k < 200; k++) {
      const clock = new SimClock();
      clock.runUntil(100_000 + k * 0.37 + (k % 7) * 0.0013);
      const delays: number[] = [];
      const arm = clock.setTimeout.bind(clock);
      clock.setTimeout = (fn, ms) => (delays.push(ms), arm(fn, ms));
      let got = 0;
      const u = new UartTx(2_000_000, clock, (b) => (got += b.length));
      const lengths = [1 + (k % 13), 17 + (k % 29), 3 + (k % 5)];
      for (const n of lengths) u.write(new Uint8Array(n));
      const events0 = clock.eventsRun;
      clock.runUntil(clock.now() + 5);
      expect(got).toBe(lengths.reduce((a, b) => a + b, 0));
      expect(u.queuedBytes).toBe(0);
      // One timer per chunk, each for that chunk's bytes (0.005 ms a byte): none of zero length.
      expect(delays).toHaveLength(3);
      for (const d of delays) expect(d).toBeGreaterThan(0.004);
      expect(clock.eventsRun - events0).toBe(3);
    }
  });
});
