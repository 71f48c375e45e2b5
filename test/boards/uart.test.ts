import { describe, expect, it } from 'vitest';
import { SimClock, sleep } from '../../boards/clock.ts';
import { UartTx } from '../../boards/uart.ts';

describe('UART model (simulated time)', () => {
  it('paces output at 10 bits a byte and keeps the line busy back to back', async () => {
    const clock = new SimClock();
    const got: { t: number; n: number }[] = [];
    const u = new UartTx(115_200, clock, (b) => got.push({ t: clock.now(), n: b.length }));
    u.write(new Uint8Array(100));
    u.write(new Uint8Array(50));
    let idleAt = -1;
    u.whenIdle(() => (idleAt = clock.now()));
    await sleep(clock, 100);
    const byteMs = 10_000 / 115_200;
    expect(got).toEqual([
      { t: 100 * byteMs, n: 100 },
      { t: 150 * byteMs, n: 50 },
    ]);
    expect(idleAt).toBeCloseTo(150 * byteMs, 9);
    // An idle line starts the next byte now, not at the old schedule.
    u.write(new Uint8Array(10));
    const t0 = clock.now();
    await sleep(clock, 10);
    expect(got[2]).toEqual({ t: t0 + 10 * byteMs, n: 10 });
    expect(u.bytesSent).toBe(160);
  });

  it('flush drops what is queued (power loss)', async () => {
    const clock = new SimClock();
    let n = 0;
    const u = new UartTx(9600, clock, (b) => (n += b.length));
    u.write(new Uint8Array(100));
    u.flush();
    await sleep(clock, 1000);
    expect(n).toBe(0);
  });
});

/**
 * A bare discrete-event clock with no minimum step (as SimClock: a 0 ms timer fires at
 * the same time), run synchronously with a cap on the events it may run, so a UART
 * that re-arms a 0 ms timer forever shows up as a failure instead of a hang.
 */
class StepClock {
  readonly kind = 'sim' as const;
  private t: number;
  private events: { t: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  private seq = 0;
  eventsRun = 0;
  constructor(startMs: number) {
    this.t = startMs;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number) {
    const e = { t: this.t + Math.max(0, ms || 0), seq: this.seq++, fn, cancelled: false };
    this.events.push(e);
    return e;
  }
  clearTimeout(h: unknown): void {
    if (h && typeof h === 'object' && 'cancelled' in h) (h as { cancelled: boolean }).cancelled = true;
  }
  hold(): () => void {
    return () => {};
  }
  /** Runs events due up to tMs; false when more than maxEvents were needed (a spinning timer). */
  runUntil(tMs: number, maxEvents: number): boolean {
    for (;;) {
      let i = -1;
      for (let k = 0; k < this.events.length; k++) {
        const e = this.events[k];
        if (e.t <= tMs && (i < 0 || e.t < this.events[i].t || (e.t === this.events[i].t && e.seq < this.events[i].seq))) i = k;
      }
      if (i < 0) break;
      const [e] = this.events.splice(i, 1);
      if (e.cancelled) continue;
      if (e.t > this.t) this.t = e.t;
      if (++this.eventsRun > maxEvents) return false;
      e.fn();
    }
    if (tMs > this.t) this.t = tMs;
    return true;
  }
}

describe('UART model late in a long simulated run', () => {
  it('delivers every chunk at 2 Mbaud around t = 1e5 ms without spinning on a 0 ms timer', () => {
    // At 2 Mbaud a byte is 0.005 ms; near 1e5 ms the float error of (now - start) / byteMs
    // exceeds any fixed epsilon, so counting bytes alone can leave the last byte of a chunk
    // uncounted when its end time has come. Many start times and lengths hit such a case.
    let checked = 0;
    for (let k = 0; k < 400; k++) {
      const startMs = 100_000 + k * 0.37 + (k % 7) * 0.0013;
      const clock = new StepClock(startMs);
      const got: number[] = [];
      const u = new UartTx(2_000_000, clock, (b) => got.push(b.length));
      const lengths = [1 + (k % 13), 17 + (k % 29), 3 + (k % 5)];
      for (const n of lengths) u.write(new Uint8Array(n));
      const total = lengths.reduce((a, b) => a + b, 0);
      const ok = clock.runUntil(startMs + 5, 1000);
      expect(ok, `UART spun at start ${startMs} ms (events run ${clock.eventsRun})`).toBe(true);
      expect(got.reduce((a, b) => a + b, 0)).toBe(total);
      expect(u.queuedBytes).toBe(0);
      checked++;
    }
    expect(checked).toBe(400);
  }, 60_000);
});
