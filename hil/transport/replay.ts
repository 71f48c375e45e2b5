import type { Clock } from '../../boards/clock.ts';
import type { Capture } from '../capture.ts';
import { type ByteTransport, Listeners } from './types.ts';

/**
 * Replays the received side of a capture: rx bytes arrive at their recorded bench
 * times (relative to open), writes are recorded but go nowhere. A suite can feed a
 * field capture back through the framing, driver and limits to re-check it.
 */
export class ReplayTransport implements ByteTransport {
  readonly description: string;
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closed = new Listeners<[string]>();
  private open_ = false;
  private timers: unknown[] = [];
  readonly written: Uint8Array[] = [];
  /** Resolves when the last recorded chunk has been delivered. */
  readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly cap: Capture,
    private readonly clock: Clock,
  ) {
    this.description = `replay of ${cap.header.board} capture (${cap.header.port})`;
    this.finished = new Promise((r) => (this.finish = r));
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    this.open_ = true;
    const rx = this.cap.records.filter((r): r is { t: number; dir: 'rx'; hex: string } => 'dir' in r && r.dir === 'rx' && 'hex' in r && !('reject' in r));
    const t0 = this.clock.now();
    const base = rx[0]?.t ?? 0;
    const release = this.clock.hold();
    let left = rx.length;
    if (left === 0) {
      release();
      this.finish();
    }
    for (const r of rx) {
      const bytes = Buffer.from(r.hex, 'hex');
      this.timers.push(
        this.clock.setTimeout(() => {
          if (this.open_) this.data.emit(new Uint8Array(bytes));
          if (--left === 0) {
            release();
            this.finish();
          }
        }, t0 + (r.t - base) - this.clock.now()),
      );
    }
  }

  async close(): Promise<void> {
    this.open_ = false;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.finish();
  }

  write(bytes: Uint8Array): void {
    this.written.push(bytes.slice());
  }
  onData(cb: (bytes: Uint8Array) => void): () => void {
    return this.data.add(cb);
  }
  onClose(cb: (reason: string) => void): () => void {
    return this.closed.add(cb);
  }
}
