import { arqSequenceNumber, encodeArqAck } from '../../protocols/link/arq.ts';
import { farmClcw, type FarmState, farmStep, initialFarmState } from '../../protocols/link/farm1.ts';

/**
 * Ground side of the reliable distillation downlink: FARM-1 over whole packets. Only
 * the next packet in sequence is delivered; gaps raise the retransmit flag; duplicates
 * are dropped. The receiver never locks out: a packet far outside the window (the board
 * restarted its numbering) resynchronises V(R) to it instead.
 * `ackDue` says when to send the CLCW back: on any change, and while packets keep
 * arriving, at most once per interval.
 */
export interface ReliableDownlinkReceiverCounters {
  delivered: number;
  duplicates: number;
  gaps: number;
  resyncs: number;
  acksSent: number;
}

export class ReliableDownlinkReceiver {
  private farm: FarmState;
  private lastAckMs = -Infinity;
  private dirty = false;
  private ackSeq = 0;
  readonly counters: ReliableDownlinkReceiverCounters = { delivered: 0, duplicates: 0, gaps: 0, resyncs: 0, acksSent: 0 };

  constructor(
    readonly vcid: number,
    readonly ackApid: number,
    windowWidth: number,
    readonly ackIntervalMs = 10,
  ) {
    this.farm = initialFarmState(vcid, windowWidth);
  }

  /** True when the packet is the next in sequence and is to be handed on. */
  accept(packet: Uint8Array): boolean {
    this.dirty = true;
    const ns = arqSequenceNumber(packet);
    let r = farmStep(this.farm, { kind: 'AD', ns });
    if (r.verdict === 'ENTER_LOCKOUT') {
      this.counters.resyncs++;
      r = farmStep({ ...this.farm, vr: ns }, { kind: 'AD', ns });
    }
    this.farm = r.state;
    if (r.verdict === 'DISCARD_DUPLICATE') this.counters.duplicates++;
    if (r.verdict === 'DISCARD_GAP') this.counters.gaps++;
    if (r.deliver) this.counters.delivered++;
    return r.deliver;
  }

  /** An acknowledgement packet to send now, or null. */
  ackDue(nowMs: number): Uint8Array | null {
    if (!this.dirty || nowMs - this.lastAckMs < this.ackIntervalMs) return null;
    this.dirty = false;
    this.lastAckMs = nowMs;
    this.counters.acksSent++;
    return encodeArqAck(this.ackApid, this.ackSeq++, farmClcw(this.farm));
  }
}
