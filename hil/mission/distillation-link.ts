import type { ClassicalChannel } from '../../firmware/qkd/channel.ts';
import { crc32c } from '../../protocols/crc.ts';
import { LINK_APID } from '../../protocols/link/mission.ts';
import { PRIMARY_HEADER_BYTES, SEQ_FLAGS_UNSEGMENTED, SequenceCounter, writePrimaryHeader } from '../../protocols/space-packet.ts';

/**
 * The key-distillation conversation on the optical link's distillation virtual
 * channels. Each classical-channel frame (an authenticated distillation message, up
 * to a few hundred kB) is cut into segments that each ride one space packet:
 *
 *   data field = seq u32 | flags u8 (bit 0 first, bit 1 last) | CRC-32C u32 of the
 *                segment | segment octets (<= MAX_SEGMENT_BYTES)
 *
 * Delivery is the link's job: COP-1 on the uplink, the link's go-back-N reliable
 * downlink channel for payload -> ground. This layer only joins segments back into
 * messages and checks, end to end, that each segment arrives once, in order and
 * intact (a segment out of sequence or with a bad CRC is counted and dropped, never
 * handed on), which is what the link-error tests assert.
 */

export const MAX_SEGMENT_BYTES = 4000;
const SEG_HEADER = 9;
const FLAG_FIRST = 1;
const FLAG_LAST = 2;

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

function packet(type: 'TM' | 'TC', apid: number, seq: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(PRIMARY_HEADER_BYTES + data.length);
  writePrimaryHeader(out, 0, { type, secondaryHeader: false, apid, sequenceFlags: SEQ_FLAGS_UNSEGMENTED, seq, dataLength: data.length - 1 });
  out.set(data, PRIMARY_HEADER_BYTES);
  return out;
}

function segments(msg: Uint8Array, firstSeq: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const n = Math.max(1, Math.ceil(msg.length / MAX_SEGMENT_BYTES));
  for (let i = 0; i < n; i++) {
    const part = msg.subarray(i * MAX_SEGMENT_BYTES, Math.min(msg.length, (i + 1) * MAX_SEGMENT_BYTES));
    const d = new Uint8Array(SEG_HEADER + part.length);
    const v = new DataView(d.buffer);
    v.setUint32(0, (firstSeq + i) >>> 0);
    d[4] = (i === 0 ? FLAG_FIRST : 0) | (i === n - 1 ? FLAG_LAST : 0);
    v.setUint32(5, crc32c(part) >>> 0);
    d.set(part, SEG_HEADER);
    out.push(d);
  }
  return out;
}

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
    if (data.length < SEG_HEADER) {
      this.c.malformed++;
      return false;
    }
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const seq = v.getUint32(0);
    const flags = data[4];
    const part = data.subarray(SEG_HEADER);
    if ((crc32c(part) >>> 0) !== v.getUint32(5)) {
      this.c.crcErrors++;
      return false;
    }
    if (seq !== this.expected) {
      if (seq < this.expected) this.c.duplicates++;
      else this.c.outOfOrder++;
      return false;
    }
    this.expected++;
    if (flags & FLAG_FIRST) {
      this.parts = [];
      this.started = true;
    }
    if (!this.started) {
      this.c.malformed++;
      return true;
    }
    this.parts.push(part.slice());
    if (flags & FLAG_LAST) {
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
    for (const d of segments(frame, this.nextDownSeq)) {
      this.nextDownSeq++;
      this.down.segments++;
      this.sides.downlink(packet('TM', LINK_APID.distillation, this.seqTm.take(LINK_APID.distillation), d));
    }
  }

  private sendUp(frame: Uint8Array): void {
    this.up.messages++;
    for (const d of segments(frame, this.nextUpSeq)) {
      this.nextUpSeq++;
      this.up.segments++;
      this.sides.uplink(packet('TC', LINK_APID.distillation, this.seqTc.take(LINK_APID.distillation), d));
    }
  }

  /** A packet the payload accepted from the uplink distillation VC. */
  onBoardPacket(bytes: Uint8Array): void {
    const apid = ((bytes[0] & 7) << 8) | bytes[1];
    if (apid !== LINK_APID.distillation) return;
    this.boardRx.take(bytes.subarray(PRIMARY_HEADER_BYTES));
  }

  /** A packet the ground reassembled from the downlink distillation VC. */
  onGroundPacket(bytes: Uint8Array): void {
    const apid = ((bytes[0] & 7) << 8) | bytes[1];
    if (apid !== LINK_APID.distillation) return;
    this.groundRx.take(bytes.subarray(PRIMARY_HEADER_BYTES));
  }
}
