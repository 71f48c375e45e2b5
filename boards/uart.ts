import type { Clock } from './clock.ts';

/**
 * Transmit side of a UART at a given baud rate (8N1: 10 bits a byte), on any clock.
 * Bytes reach the sink when their stop bit has left the line, so a reader sees the
 * same timing as behind a real UART. While the queue is non-empty the line stays
 * busy back to back; an idle line starts the next byte at "now".
 */
export class UartTx {
  private queue: Uint8Array[] = [];
  private queued = 0;
  /** Clock time when the last queued byte's stop bit ends. */
  private lineFreeAt = 0;
  /** Bytes already handed to the sink out of the head chunk. */
  private headSent = 0;
  /** Clock time the head chunk's first byte started. */
  private headStart = 0;
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
    return this.queued - this.headSent;
  }

  /** Clock time when everything queued will have left the line. */
  get idleAt(): number {
    return Math.max(this.clock.now(), this.lineFreeAt);
  }

  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.queue.length === 0) {
      this.headStart = Math.max(this.clock.now(), this.lineFreeAt);
      this.headSent = 0;
    }
    this.queue.push(bytes);
    this.queued += bytes.length;
    this.lineFreeAt = Math.max(this.clock.now(), this.lineFreeAt) + bytes.length * this.byteMs;
    if (this.timer === null) this.schedule();
  }

  /** Drops everything queued (power loss, reset). */
  flush(): void {
    this.queue = [];
    this.queued = 0;
    this.headSent = 0;
    this.cancelTimer();
    this.idleWaiters = [];
    this.lineFreeAt = this.clock.now();
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
    if (this.clock.kind === 'sim') {
      // Simulated time: deliver the whole head chunk when its last byte is done.
      const doneAt = this.headStart + head.length * this.byteMs;
      this.timer = this.clock.setTimeout(() => this.tick(), doneAt - this.clock.now());
    } else {
      // Wall time: wake when the next byte is done. Timers fire >= 1 ms late; the
      // schedule stays ideal, so a late timer delivers more bytes at once, not fewer.
      // When everything queued ends within ~3 ms (a short answer on an idle line),
      // poll the event loop instead so the answer is not held for a timer tick.
      const now = this.clock.now();
      if (this.lineFreeAt - now <= 3) {
        const h = setImmediate(() => this.tick());
        this.timer = { immediate: h };
      } else {
        const nextDone = this.headStart + (this.headSent + 1) * this.byteMs;
        this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, nextDone - now));
      }
    }
  }

  private tick(): void {
    this.timer = null;
    const now = this.clock.now();
    const out: Uint8Array[] = [];
    let total = 0;
    while (this.queue.length > 0) {
      const head = this.queue[0];
      // The chunk is complete once its end time has come: the same expression schedule()
      // waits for, so a float error in the byte count below (large `now`, short byteMs)
      // cannot leave the last byte uncounted and re-arm a 0 ms timer forever.
      const endAt = this.headStart + head.length * this.byteMs;
      const done = now >= endAt ? head.length : Math.min(head.length, Math.floor((now - this.headStart) / this.byteMs + 1e-9));
      if (done > this.headSent) {
        out.push(head.subarray(this.headSent, done));
        total += done - this.headSent;
        this.headSent = done;
      }
      if (this.headSent < head.length) break;
      this.queue.shift();
      this.queued -= head.length;
      this.headStart += head.length * this.byteMs;
      this.headSent = 0;
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
