import type { ClassicalChannel } from '../../qkd/channel.ts';
import { decodeSegment, segmentFrame, type DistillationSegment } from '../../protocols/distillation-segment.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { decodeOpaquePacket, encodeOpaquePacket, type OpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { LINK_APID } from '../../protocols/link/mission.ts';
import { SequenceCounter } from '../../protocols/space-packet.ts';

/**
 * The key-distillation conversation on the optical link's distillation virtual
 * channels. Each classical-channel frame (an authenticated distillation message, up
 * to a few hundred kB) is cut into segments that each ride one space packet; the
 * segment format is protocols/distillation-segment.ts.
 *
 * Delivery is the link's job: COP-1 on the uplink, the link's go-back-N reliable
 * downlink channel for payload -> ground. This layer only joins segments back into
 * messages and checks, end to end, that each segment arrives once, in order and
 * intact (a segment out of sequence or with a bad CRC is counted and dropped, never
 * handed on), which is what the link-error tests assert.
 */

export interface LinkSides {
  /** Board side: queue a space packet on the downlink distillation VC. */
  downlink(packet: Uint8Array): void;
  /** Ground side: queue a space packet on the uplink distillation VC (COP-1). */
  uplink(packet: Uint8Array): void;
}

export interface DirectionCounters {
  messages: number;
  segments: number;
  delivered: number;
  duplicates: number;
  outOfOrder: number;
  crcErrors: number;
  malformed: number;
}

const counters = (): DirectionCounters => ({ messages: 0, segments: 0, delivered: 0, duplicates: 0, outOfOrder: 0, crcErrors: 0, malformed: 0 });

/** In-order receiver of one direction: seq and CRC checked, segments joined into messages. */
class Receiver {
  expected = 0;
  private parts: Uint8Array[] = [];
  private started = false;
  constructor(
    private readonly c: DirectionCounters,
    private readonly deliver: (msg: Uint8Array) => void,
  ) {}

  /** Returns whether the segment was taken. */
  take(data: Uint8Array): boolean {
    const seg = this.decode(data);
    if (!seg) return false;
    if (seg.seq !== this.expected) {
      if (seg.seq < this.expected) this.c.duplicates++;
      else this.c.outOfOrder++;
      return false;
    }
    this.expected++;
    if (seg.first) {
      this.parts = [];
      this.started = true;
    }
    if (!this.started) {
      this.c.malformed++;
      return true;
    }
    this.parts.push(seg.data);
    if (seg.last) {
      const total = this.parts.reduce((a, p) => a + p.length, 0);
      const msg = new Uint8Array(total);
      let o = 0;
      for (const p of this.parts) {
        msg.set(p, o);
        o += p.length;
      }
      this.parts = [];
      this.started = false;
      this.c.delivered++;
      this.deliver(msg);
    }
    return true;
  }

  /** The segment, or undefined with the reason counted (a bad CRC apart from other damage). */
  private decode(data: Uint8Array): DistillationSegment | undefined {
    try {
      return decodeSegment(data);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      if (e.code === 'CRC_MISMATCH') this.c.crcErrors++;
      else this.c.malformed++;
      return undefined;
    }
  }
}

export class DistillationLink {
  readonly alice: ClassicalChannel;
  readonly bob: ClassicalChannel;
  readonly down = counters();
  readonly up = counters();
  private aliceHandler: ((f: Uint8Array) => void) | null = null;
  private bobHandler: ((f: Uint8Array) => void) | null = null;
  private readonly seqTm = new SequenceCounter();
  private readonly seqTc = new SequenceCounter();
  private nextDownSeq = 0;
  private nextUpSeq = 0;
  private readonly groundRx: Receiver;
  private readonly boardRx: Receiver;

  constructor(private readonly sides: LinkSides) {
    this.groundRx = new Receiver(this.down, (m) => this.bobHandler?.(m));
    this.boardRx = new Receiver(this.up, (m) => this.aliceHandler?.(m));
    this.alice = {
      send: (frame) => this.sendDown(frame),
      onReceive: (h) => {
        this.aliceHandler = h;
      },
    };
    this.bob = {
      send: (frame) => this.sendUp(frame),
      onReceive: (h) => {
        this.bobHandler = h;
      },
    };
  }

  private sendDown(frame: Uint8Array): void {
    this.down.messages++;
    for (const d of segmentFrame(frame, this.nextDownSeq)) {
      this.nextDownSeq++;
      this.down.segments++;
      this.sides.downlink(encodeOpaquePacket('TM', LINK_APID.distillation, this.seqTm.take(LINK_APID.distillation), d));
    }
  }

  private sendUp(frame: Uint8Array): void {
    this.up.messages++;
    for (const d of segmentFrame(frame, this.nextUpSeq)) {
      this.nextUpSeq++;
      this.up.segments++;
      this.sides.uplink(encodeOpaquePacket('TC', LINK_APID.distillation, this.seqTc.take(LINK_APID.distillation), d));
    }
  }

  /** A packet the payload accepted from the uplink distillation VC. */
  onBoardPacket(bytes: Uint8Array): void {
    this.receive(bytes, this.boardRx, this.up);
  }

  /** A packet the ground reassembled from the downlink distillation VC. */
  onGroundPacket(bytes: Uint8Array): void {
    this.receive(bytes, this.groundRx, this.down);
  }

  /** Segments of the distillation APID go to `rx`; other APIDs on the VC are not ours; a broken header is counted. */
  private receive(bytes: Uint8Array, rx: Receiver, c: DirectionCounters): void {
    let packet: OpaquePacket;
    try {
      packet = decodeOpaquePacket(bytes);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      c.malformed++;
      return;
    }
    if (packet.apid === LINK_APID.distillation) rx.take(packet.data);
  }
}
