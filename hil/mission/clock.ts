import type { Clock } from '../../boards/clock.ts';
import type { PayloadClock } from '../../firmware/hal.ts';

/** Smallest delay a timer gets (1 ns). */
export const MIN_STEP_MS = 1e-6;

interface Timer {
  t: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * The mission's simulated time: one discrete-event queue shared by the firmware (as its
 * xstate clock), the board emulators, the UART models and the world simulation. Unlike
 * the bench's SimClock it never yields to the event loop: `runUntil` is a plain loop,
 * so a 300 s pass with a 1 kHz-class control loop costs only the callbacks themselves.
 * Events at the same time run in the order they were scheduled, so a run is a pure
 * function of its inputs and seed.
 */
export class MissionClock implements Clock, PayloadClock {
  readonly kind = 'sim' as const;
  private t = 0;
  private seq = 0;
  private heap: Timer[] = [];
  eventsRun = 0;

  now(): number {
    return this.t;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): Timer {
    // Every timer moves time on by at least MIN_STEP_MS: boards/uart.ts re-arms a timer
    // for "the rest of this chunk" that, at 2 Mbaud and t ~ 1e5 ms, can round to zero
    // forever; a nanosecond of progress lets its byte count reach the end.
    const e: Timer = { t: this.t + Math.max(MIN_STEP_MS, ms || 0), seq: this.seq++, fn: fn as () => void, cancelled: false };
    this.push(e);
    return e;
  }

  clearTimeout(handle: unknown): void {
    if (handle && typeof handle === 'object' && 'cancelled' in handle) (handle as Timer).cancelled = true;
  }

  /** Holds are meaningless here: time moves only inside runUntil. */
  hold(): () => void {
    return () => {};
  }

  /** Calls `fn` every `periodMs` from now until it returns false or the returned stop is called. */
  every(periodMs: number, fn: () => boolean | void): () => void {
    let h: Timer | null = null;
    let stopped = false;
    const run = () => {
      h = null;
      if (stopped) return;
      if (fn() === false) return;
      if (!stopped) h = this.setTimeout(run, periodMs);
    };
    h = this.setTimeout(run, periodMs);
    return () => {
      stopped = true;
      if (h) h.cancelled = true;
    };
  }

  /** Runs every event due up to and including `tMs`, then sets the time to `tMs`. */
  runUntil(tMs: number): void {
    const h = this.heap;
    while (h.length > 0 && h[0].t <= tMs) {
      const e = this.pop()!;
      if (e.cancelled) continue;
      if (e.t > this.t) this.t = e.t;
      this.eventsRun++;
      e.fn();
    }
    if (tMs > this.t) this.t = tMs;
  }

  /** Runs until `pred` holds (checked every `stepMs`) or `limitMs` passes; true when it held. */
  runUntilTrue(pred: () => boolean, limitMs: number, stepMs = 10): boolean {
    const end = this.t + limitMs;
    while (this.t < end) {
      if (pred()) return true;
      this.runUntil(Math.min(end, this.t + stepMs));
    }
    return pred();
  }

  private push(e: Timer): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p], e)) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && before(h[r], h[l]) ? r : l;
        if (!before(h[m], last)) break;
        h[i] = h[m];
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
