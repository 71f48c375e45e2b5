import { arqSequenceNumber } from './arq.ts';

/**
 * Between the reliable sender (FOP-1 over packets) and the virtual channel's FIFO: the
 * packets the sender has released but the channel has not yet taken. The channel pulls
 * from here only when its own queue is nearly empty, so what waits is held here, where it
 * can still be replaced, and not in a FIFO that can only grow.
 *
 * Why: go-back-N repeats every unacknowledged packet on each retransmit request or T1
 * expiry. Appended to a FIFO that drains slower than T1 (a full window of large packets),
 * the repeats queue behind stale copies that were acknowledged long ago, the ground
 * acknowledges nothing new, T1 fires again, and the link livelocks. Here a repeat replaces
 * the waiting copy with the same N(S) (one copy of each unit at most, in go-back-N order),
 * and an acknowledgement withdraws the units it covers.
 */
export class ArqOutbox {
  private queue: Uint8Array[] = [];

  /** Packets waiting to go to the channel. */
  get size(): number {
    return this.queue.length;
  }

  get bytes(): number {
    return this.queue.reduce((n, p) => n + p.length, 0);
  }

  /** Packets from the sender, in its order; each replaces a waiting copy with the same N(S). */
  put(packets: readonly Uint8Array[]): void {
    for (const p of packets) {
      const ns = arqSequenceNumber(p);
      this.queue = this.queue.filter((q) => arqSequenceNumber(q) !== ns);
      this.queue.push(p);
    }
  }

  /** Withdraws waiting units the receiver has acknowledged: N(S) in the half-space behind N(R). */
  acknowledge(nr: number): void {
    this.queue = this.queue.filter((q) => {
      const behind = (nr - arqSequenceNumber(q) + 256) & 0xff;
      return behind === 0 || behind > 128;
    });
  }

  /** The next packet for the channel, or undefined. */
  take(): Uint8Array | undefined {
    return this.queue.shift();
  }
}
