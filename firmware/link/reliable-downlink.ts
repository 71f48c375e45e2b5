import { withSequenceCount } from '../../protocols/link/arq.ts';
import type { Clcw } from '../../protocols/link/clcw.ts';
import { type FopAlert, type FopConfig, fopIdle, type FopState, fopStep, initialFopState } from '../../protocols/link/fop1.ts';
import { SEQ_MODULO } from '../../protocols/space-packet.ts';

/**
 * Board side of the reliable distillation downlink: FOP-1 over whole packets. Each
 * offered packet is numbered (its sequence count, N(S) = count mod 256); packets to put
 * on the virtual channel come back from every call (new ones as the window allows,
 * repeats after a retransmit request or timer T1). Pure: time is passed in.
 */
export interface ReliableDownlinkCounters {
  offered: number;
  transmissions: number;
  retransmissions: number;
  acknowledged: number;
  alerts: Partial<Record<FopAlert, number>>;
}

export class ReliableDownlinkSender {
  private state: FopState;
  private seq = 0;
  readonly counters: ReliableDownlinkCounters = { offered: 0, transmissions: 0, retransmissions: 0, acknowledged: 0, alerts: {} };

  constructor(
    readonly vcid: number,
    config: Partial<FopConfig>,
  ) {
    this.state = initialFopState(vcid, config);
  }

  get idle(): boolean {
    return fopIdle(this.state);
  }

  /** Octets offered but not yet released to the channel (waiting for the window to open). */
  get waitingBytes(): number {
    return this.state.waitQueue.reduce((n, p) => n + p.length, 0);
  }

  /** Packets sent and not yet acknowledged. */
  get outstanding(): number {
    return this.state.sent.length;
  }

  /** Numbers a packet and queues it; returns packets to transmit now. */
  offer(packet: Uint8Array, nowMs: number): Uint8Array[] {
    this.counters.offered++;
    const numbered = withSequenceCount(packet, this.seq);
    this.seq = (this.seq + 1) % SEQ_MODULO;
    return this.step({ type: 'SEND', data: numbered, nowMs });
  }

  /** An acknowledgement (the ground receiver's CLCW for this channel). */
  onAck(clcw: Clcw, nowMs: number): Uint8Array[] {
    return this.step({ type: 'CLCW', clcw, nowMs });
  }

  tick(nowMs: number): Uint8Array[] {
    return this.step({ type: 'TICK', nowMs });
  }

  private step(e: Parameters<typeof fopStep>[1]): Uint8Array[] {
    const r = fopStep(this.state, e);
    this.state = r.state;
    const out: Uint8Array[] = [];
    for (const a of r.actions) {
      if (a.type === 'TRANSMIT_AD') {
        out.push(a.data);
        this.counters.transmissions++;
        if (a.retransmission) this.counters.retransmissions++;
      } else if (a.type === 'ACKNOWLEDGED') this.counters.acknowledged += a.frames.length;
      else if (a.type === 'ALERT') this.counters.alerts[a.reason] = (this.counters.alerts[a.reason] ?? 0) + 1;
      // Control commands (Unlock / Set V(R)) have no meaning for the packet receiver, which never locks out.
    }
    return out;
  }
}
