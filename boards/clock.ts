/**
 * Time for emulators, the firmware and the bench. One interface, two clocks:
 *  - SimClock: the bench's one simulated-time event queue (emulators, UART models,
 *    firmware timers, world physics). Time moves only when the queue is run, in one of
 *    two ways over the same queue and the same order of events:
 *      - synchronously: runUntil / runUntilTrue / advanceMs, for sim-time loops (a
 *        mission pass costs only its callbacks);
 *      - asynchronously: while someone holds it (hold(), sleep()), the queue runs one
 *        event at a time and yields to the event loop after each, so promise chains of
 *        the bench suites settle between events.
 *    Same seed + same schedule = same run, bit for bit.
 *  - WallClock: the real monotonic clock, for real boards and emulators in their own process.
 * setTimeout/clearTimeout have xstate's clock shape, so machines can run on either.
 */
export interface Clock {
  readonly kind: 'sim' | 'wall';
  /** Milliseconds since the clock started. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Declares that the caller awaits something that needs time to pass. A SimClock runs
   * while at least one hold is open; the WallClock ignores holds. Returns the release.
   */
  hold(): () => void;
}

interface SimEvent {
  t: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Called before simulated time moves past a quantum boundary, with the next boundary
 * (`toMs`, a multiple of the quantum): the seam for lockstep, through which a bench
 * will grant time to emulators in other processes and wait for them to reach it. The
 * async pump awaits a returned promise; a synchronous run cannot wait, so a hook that
 * returns one there is an error.
 */
export type AdvanceHook = (toMs: number) => void | Promise<void>;

/** Events run at one instant before the clock calls itself stuck (a timer re-armed for 0 ms forever). */
export const MAX_EVENTS_PER_INSTANT = 1_000_000;

export class SimClock implements Clock {
  readonly kind = 'sim' as const;
  private t = 0;
  private seq = 0;
  private heap: SimEvent[] = [];
  private holds = 0;
  private pumping = false;
  private atInstant = 0;
  private advance: { quantumMs: number; hook: AdvanceHook; grantedToMs: number } | null = null;
  /** Events run so far (for diagnostics). */
  eventsRun = 0;

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): SimEvent {
    const e: SimEvent = { t: this.t + Math.max(0, ms || 0), seq: this.seq++, fn, cancelled: false };
    this.push(e);
    if (this.holds > 0 && !this.pumping) void this.pump();
    return e;
  }

  clearTimeout(handle: unknown): void {
    if (handle && typeof handle === 'object' && 'cancelled' in handle) (handle as SimEvent).cancelled = true;
  }

  /** The time of the next event in the queue, +Infinity when it is empty (a lockstep host's quiet horizon). */
  nextEventMs(): number {
    return this.peek()?.t ?? Infinity;
  }

  /** Calls `fn` every `periodMs` from now until it returns false or the returned stop is called. */
  every(periodMs: number, fn: () => boolean | void): () => void {
    let h: SimEvent | null = null;
    let stopped = false;
    const run = () => {
      h = null;
      if (stopped || fn() === false || stopped) return;
      h = this.setTimeout(run, periodMs);
    };
    h = this.setTimeout(run, periodMs);
    return () => {
      stopped = true;
      if (h) h.cancelled = true;
    };
  }

  /**
   * Installs the lockstep seam (see AdvanceHook): `hook(toMs)` is called before time
   * moves past `toMs - quantumMs`, once for every quantum time enters, empty ones
   * included (a remote emulator may have something to say in any of them). Null removes it.
   */
  onAdvance(quantumMs: number, hook: AdvanceHook | null): void {
    if (hook !== null && !(quantumMs > 0)) throw new RangeError(`advance quantum must be > 0 ms (got ${quantumMs})`);
    this.advance = hook === null ? null : { quantumMs, hook, grantedToMs: this.t };
  }

  // ------------------------------------------------------------ synchronous run

  /**
   * Runs every event due up to and including `tMs`, then sets the time to `tMs`. Quanta
   * are granted one at a time, each before the first event after its start, and the
   * queue is looked at again after each (a grant may schedule what a board sent): the
   * same order as the async pump.
   */
  runUntil(tMs: number): void {
    for (;;) {
      const e = this.peek();
      const due = e !== undefined && e.t <= tMs;
      if (this.grantSync(due ? e.t : tMs)) continue;
      if (!due) break;
      this.runNext();
    }
    if (tMs > this.t) {
      this.t = tMs;
      this.atInstant = 0;
    }
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

  // ---------------------------------------------------------- asynchronous run

  hold(): () => void {
    this.holds++;
    let released = false;
    void this.pump();
    return () => {
      if (released) return;
      released = true;
      this.holds--;
    };
  }

  /** Runs every event due up to `t`, yielding between events (tests that step time by hand). */
  async advanceTo(t: number): Promise<void> {
    const release = this.hold();
    const done = new Promise<void>((resolve) => this.setTimeout(resolve, t - this.t));
    await done;
    release();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      // Let the code that took the hold register its timers first.
      await yieldToLoop();
      while (this.holds > 0) {
        const e = this.peek();
        if (!e) break;
        const grant = this.grant(e.t);
        if (grant !== undefined) {
          if (grant !== 'granted') await grant;
          continue; // the hook may have scheduled or cancelled events
        }
        this.runNext();
        await yieldToLoop();
      }
    } finally {
      this.pumping = false;
    }
  }

  // ------------------------------------------------------------------ the queue

  private peek(): SimEvent | undefined {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
    return this.heap[0];
  }

  /** Runs the head event (not cancelled: peek() was called first). */
  private runNext(): void {
    const e = this.pop()!;
    if (e.t > this.t) {
      this.t = e.t;
      this.atInstant = 0;
    } else if (++this.atInstant > MAX_EVENTS_PER_INSTANT) {
      throw new Error(`simulated clock stuck: more than ${MAX_EVENTS_PER_INSTANT} events at t = ${this.t} ms (a timer re-armed for 0 ms?)`);
    }
    this.eventsRun++;
    e.fn();
  }

  /**
   * When moving to `tMs` leaves the granted time, grants the next quantum (one call of
   * the hook); returns the hook's promise, if any. Callers repeat until nothing is left to grant.
   */
  private grant(tMs: number): Promise<void> | 'granted' | undefined {
    const a = this.advance;
    if (!a || tMs <= a.grantedToMs) return undefined;
    const toMs = (Math.floor(a.grantedToMs / a.quantumMs) + 1) * a.quantumMs;
    a.grantedToMs = toMs;
    const r = a.hook(toMs);
    return r instanceof Promise ? r : 'granted';
  }

  /** Grants the next quantum if moving to `tMs` needs one; true when it did. */
  private grantSync(tMs: number): boolean {
    const r = this.grant(tMs);
    if (r === undefined) return false;
    if (r !== 'granted') throw new Error('an asynchronous advance hook needs the async pump (hold/sleep), not a synchronous runUntil');
    return true;
  }

  private push(e: SimEvent): void {
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

  private pop(): SimEvent | undefined {
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

/** Events at the same time run in the order they were scheduled. */
function before(a: SimEvent, b: SimEvent): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class WallClock implements Clock {
  readonly kind = 'wall' as const;
  private readonly t0 = performance.now();
  now(): number {
    return performance.now() - this.t0;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    return setTimeout(fn, Math.max(0, ms));
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
  hold(): () => void {
    return () => {};
  }
}

/** Sleeps `ms` of clock time (holding a SimClock so it advances). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  const release = clock.hold();
  return new Promise((resolve) =>
    clock.setTimeout(() => {
      release();
      resolve();
    }, ms),
  );
}
