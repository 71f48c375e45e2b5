import type { Clock } from './clock.ts';

/**
 * Transmit side of a UART at a given baud rate (8N1: 10 bits a byte), on any clock.
 * Bytes reach the sink when their stop bit has left the line, so a reader sees the
 * same timing as behind a real UART. While the queue is non-empty the line stays
 * busy back to back; an idle line starts the next byte at "now".
 *
 * Due times are counted in whole bytes from a fixed origin (the time the line last
 * went busy): byte n is due at origin + n x byteMs. A timer is armed for a byte index
 * and, when it fires, delivers at least up to that index, so float rounding of the
 * clock's time (2 Mbaud is 0.005 ms a byte; near t = 1e5 ms an ulp is 1.5e-11 ms) can
 * never leave a byte undelivered and re-arm a timer for "the rest" that rounds to 0.
 */
export class UartTx {
  private queue: Uint8Array[] = [];
  /** Bytes of the head chunk already handed to the sink. */
  private headSent = 0;
  /** Clock time the first byte since the line went busy started. */
  private originMs = 0;
  /** Bytes written since the origin (the last one is due at lineFreeAt). */
  private written = 0;
  /** Bytes delivered since the origin. */
  private delivered = 0;
  private timer: unknown = null;
  private readonly byteMs: number;
  bytesSent = 0;

  constructor(
    readonly baud: number,
    private readonly clock: Clock,
    private readonly sink: (bytes: Uint8Array) => void,
    /** Called each time bytes left the line (lets a streamer refill the queue). */
    private readonly onSent: () => void = () => {},
  ) {
    this.byteMs = 10_000 / baud;
  }

  private idleWaiters: { target: number; cb: () => void }[] = [];

  /** Calls `cb` once every byte queued so far has left the line (bytes queued later do not delay it). */
  whenIdle(cb: () => void): void {
    if (this.queuedBytes === 0) this.clock.setTimeout(cb, 0);
    else this.idleWaiters.push({ target: this.bytesSent + this.queuedBytes, cb });
  }

  get queuedBytes(): number {
    return this.written - this.delivered;
  }

  /** Clock time byte `n` (counted from the origin, 1-based) has left the line. */
  private dueMs(n: number): number {
    return this.originMs + n * this.byteMs;
  }

  /** Clock time when the last queued byte's stop bit ends. */
  private get lineFreeAt(): number {
    return this.dueMs(this.written);
  }

  /** Clock time when everything queued will have left the line. */
  get idleAt(): number {
    return Math.max(this.clock.now(), this.lineFreeAt);
  }

  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const now = this.clock.now();
    if (this.queue.length === 0 && now >= this.lineFreeAt) {
      // An idle line: a new origin, so counts stay small and exact.
      this.originMs = now;
      this.written = 0;
      this.delivered = 0;
      this.headSent = 0;
    }
    this.queue.push(bytes);
    this.written += bytes.length;
    if (this.timer === null) this.schedule();
  }

  /** Drops everything queued (power loss, reset). */
  flush(): void {
    this.queue = [];
    this.headSent = 0;
    this.cancelTimer();
    this.idleWaiters = [];
    this.originMs = this.clock.now();
    this.written = 0;
    this.delivered = 0;
  }

  private cancelTimer(): void {
    const t = this.timer;
    this.timer = null;
    if (t === null) return;
    if (typeof t === 'object' && t !== null && 'immediate' in t) clearImmediate((t as { immediate: NodeJS.Immediate }).immediate);
    else this.clock.clearTimeout(t);
  }

  private schedule(): void {
    const head = this.queue[0];
    if (!head) {
      this.timer = null;
      return;
    }
    const now = this.clock.now();
    if (this.clock.kind === 'sim') {
      // Simulated time: deliver the whole head chunk when its last byte is done.
      const target = this.delivered + head.length - this.headSent;
      this.timer = this.clock.setTimeout(() => this.tick(target), this.dueMs(target) - now);
    } else if (this.lineFreeAt - now <= 3) {
      // Wall time, everything queued ends within ~3 ms (a short answer on an idle line):
      // poll the event loop instead so the answer is not held for a timer tick.
      const h = setImmediate(() => this.tick(0));
      this.timer = { immediate: h };
    } else {
      // Wall time: wake when the next byte is done. Timers fire >= 1 ms late; the
      // schedule stays ideal, so a late timer delivers more bytes at once, not fewer.
      const target = this.delivered + 1;
      this.timer = this.clock.setTimeout(() => this.tick(target), Math.max(0, this.dueMs(target) - now));
    }
  }

  /** Delivers every byte due by now, and at least up to byte index `target` (the one the timer was armed for). */
  private tick(target: number): void {
    this.timer = null;
    const dueByNow = Math.floor((this.clock.now() - this.originMs) / this.byteMs + 1e-9);
    const upTo = Math.min(this.written, Math.max(target, dueByNow));
    const out: Uint8Array[] = [];
    let total = 0;
    while (this.delivered < upTo) {
      const head = this.queue[0];
      const n = Math.min(head.length - this.headSent, upTo - this.delivered);
      out.push(head.subarray(this.headSent, this.headSent + n));
      total += n;
      this.delivered += n;
      this.headSent += n;
      if (this.headSent === head.length) {
        this.queue.shift();
        this.headSent = 0;
      }
    }
    if (total > 0) {
      const bytes = out.length === 1 ? out[0].slice() : concat(out, total);
      this.bytesSent += bytes.length;
      this.sink(bytes);
      this.onSent();
    }
    if (this.idleWaiters.length > 0) {
      const due = this.idleWaiters.filter((w) => this.bytesSent >= w.target);
      this.idleWaiters = this.idleWaiters.filter((w) => this.bytesSent < w.target);
      for (const w of due) w.cb();
    }
    if (this.timer === null) this.schedule();
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const b = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    b.set(p, o);
    o += p.length;
  }
  return b;
}
