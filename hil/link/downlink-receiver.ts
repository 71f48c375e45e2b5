import { type Clcw, decodeClcw } from '../../protocols/link/clcw.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { type ReceivedPacket, type ReceivedTmFrame, TmReceiver, type TmReceiverConfig } from '../../protocols/link/tm-receiver.ts';
import { readPrimaryHeader, SequenceTracker } from '../../protocols/space-packet.ts';

/**
 * Ground downlink receiver: byte stream in, per-VC packet streams and CLCWs out
 * (the CLCWs go to the FOP drivers of the uplink).
 */
export interface DownlinkOutput {
  packets: ReceivedPacket[];
  clcws: Clcw[];
  frames: number;
}

export class DownlinkReceiver {
  readonly rx: TmReceiver;
  /** Sequence gaps per APID seen in the delivered packets. */
  readonly sequence = new SequenceTracker();
  /** Packets delivered per VCID. */
  readonly packetsByVc = new Map<number, number>();
  badOcf = 0;

  constructor(config: TmReceiverConfig) {
    this.rx = new TmReceiver(config);
  }

  push(chunk: Uint8Array, onFrame?: (f: ReceivedTmFrame) => void): DownlinkOutput {
    const out: DownlinkOutput = { packets: [], clcws: [], frames: 0 };
    this.rx.push(chunk, (f) => this.take(f, out, onFrame));
    return out;
  }

  /** A frame that arrived as a unit (without marker). */
  pushFrame(frame: Uint8Array): DownlinkOutput {
    const out: DownlinkOutput = { packets: [], clcws: [], frames: 0 };
    this.take(this.rx.pushFrame(frame), out);
    return out;
  }

  private take(f: ReceivedTmFrame, out: DownlinkOutput, onFrame?: (f: ReceivedTmFrame) => void): void {
    out.frames++;
    onFrame?.(f);
    if (f.ocf !== undefined) {
      try {
        out.clcws.push(decodeClcw(f.ocf));
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        this.badOcf++;
      }
    }
    for (const p of f.packets) {
      out.packets.push(p);
      this.packetsByVc.set(p.vcid, (this.packetsByVc.get(p.vcid) ?? 0) + 1);
      // The reassembler delivers only whole packets with a version-0 header: this cannot throw.
      const h = readPrimaryHeader(p.bytes);
      this.sequence.observe(h.type, h.apid, h.seq);
    }
  }
}
