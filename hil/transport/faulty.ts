import type { Clock } from '../../boards/clock.ts';
import { Prng } from '../../boards/prng.ts';
import { type ByteTransport, Listeners, TransportError } from './types.ts';

export type Direction = 'tx' | 'rx' | 'both';

export interface ByteFaults {
  /** Probability each byte is dropped. */
  dropRate?: number;
  /** Probability each byte gets one random bit flipped. */
  corruptRate?: number;
  /** Extra latency added to every chunk, ms of bench time. */
  delayMs?: number;
  direction?: Direction;
  /** Stop after this many faults (drops + corruptions); unlimited when absent. */
  maxFaults?: number;
}

/**
 * Transport fault injection, between the bench and any transport: drop, corrupt or
 * delay bytes each way (seeded, so runs repeat), and disconnect/reconnect the line.
 * The framing above sees exactly what a noisy or flaky cable would give it.
 */
export class FaultyTransport implements ByteTransport {
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closed = new Listeners<[string]>();
  private faults: ByteFaults = {};
  private faultCount = 0;
  private readonly prng: Prng;
  private connected = true;
  readonly stats = { droppedBytes: 0, corruptedBytes: 0, delayedChunks: 0 };

  constructor(
    readonly inner: ByteTransport,
    private readonly clock: Clock,
    seed: number,
  ) {
    this.prng = new Prng(seed, 0xfa017);
    inner.onData((b) => {
      if (!this.connected) return;
      this.pass('rx', b, (x) => this.data.emit(x));
    });
    inner.onClose((r) => this.closed.emit(r));
  }

  get description(): string {
    return this.inner.description;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  /** Sets the byte faults (replacing earlier ones); `clear()` removes them. */
  inject(f: ByteFaults): void {
    this.faults = { ...f };
    this.faultCount = 0;
  }

  clear(): void {
    this.faults = {};
  }

  /** The line goes dead both ways (bytes are lost, as with a pulled cable) until reconnect(). */
  disconnect(): void {
    this.connected = false;
  }

  reconnect(): void {
    this.connected = true;
  }

  write(bytes: Uint8Array): void {
    if (!this.inner.isOpen) throw new TransportError('NOT_OPEN', `${this.inner.description} is not open`);
    if (!this.connected) return;
    this.pass('tx', bytes, (x) => this.inner.write(x));
  }

  onData(cb: (bytes: Uint8Array) => void): () => void {
    return this.data.add(cb);
  }
  onClose(cb: (reason: string) => void): () => void {
    return this.closed.add(cb);
  }

  private applies(dir: 'tx' | 'rx'): boolean {
    const d = this.faults.direction ?? 'both';
    return d === 'both' || d === dir;
  }

  private pass(dir: 'tx' | 'rx', bytes: Uint8Array, out: (b: Uint8Array) => void): void {
    if (!this.applies(dir)) return out(bytes);
    const { dropRate = 0, corruptRate = 0, delayMs = 0, maxFaults = Infinity } = this.faults;
    let b = bytes;
    if (dropRate > 0 || corruptRate > 0) {
      const kept: number[] = [];
      for (let i = 0; i < bytes.length; i++) {
        let v = bytes[i];
        if (this.faultCount < maxFaults && dropRate > 0 && this.prng.next() < dropRate) {
          this.faultCount++;
          this.stats.droppedBytes++;
          continue;
        }
        if (this.faultCount < maxFaults && corruptRate > 0 && this.prng.next() < corruptRate) {
          this.faultCount++;
          this.stats.corruptedBytes++;
          v ^= 1 << Math.floor(this.prng.next() * 8);
        }
        kept.push(v);
      }
      b = Uint8Array.from(kept);
    }
    if (b.length === 0) return;
    if (delayMs > 0) {
      this.stats.delayedChunks++;
      const release = this.clock.hold();
      this.clock.setTimeout(() => {
        release();
        out(b);
      }, delayMs);
    } else out(b);
  }
}
