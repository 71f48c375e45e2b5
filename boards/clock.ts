/**
 * Time for emulators and the bench. One interface, two clocks:
 *  - SimClock: simulated time that advances only while someone waits on it (a held
 *    clock runs its event queue in order, yielding to the event loop after each
 *    event so promise chains settle). Same seed + same script = same run, bit for bit.
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

export class SimClock implements Clock {
  readonly kind = 'sim' as const;
  private t = 0;
  private seq = 0;
  private heap: SimEvent[] = [];
  private holds = 0;
  private running = false;
  /** Events run so far (for diagnostics). */
  eventsRun = 0;

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): SimEvent {
    const e: SimEvent = { t: this.t + Math.max(0, ms || 0), seq: this.seq++, fn, cancelled: false };
    this.push(e);
    if (this.holds > 0 && !this.running) void this.pump();
    return e;
  }

  clearTimeout(handle: unknown): void {
    if (handle && typeof handle === 'object' && 'cancelled' in handle) (handle as SimEvent).cancelled = true;
  }

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

  /** Runs every event due up to `t` (used by tests that want to step time by hand). */
  async advanceTo(t: number): Promise<void> {
    const release = this.hold();
    const done = new Promise<void>((resolve) => this.setTimeout(resolve, t - this.t));
    await done;
    release();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // Let the code that took the hold register its timers first.
      await yieldToLoop();
      while (this.holds > 0) {
        const e = this.pop();
        if (!e) break;
        if (e.cancelled) continue;
        this.t = Math.max(this.t, e.t);
        this.eventsRun++;
        e.fn();
        await yieldToLoop();
      }
    } finally {
      this.running = false;
    }
  }

  private push(e: SimEvent): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

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
