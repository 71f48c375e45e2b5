import { ProtocolError } from '../errors.ts';
import { PRIMARY_HEADER_BYTES } from '../space-packet.ts';
import { SEG_CONTINUING, SEG_FIRST, SEG_LAST, SEG_UNSEGMENTED, SEGMENT_HEADER_BYTES, segmentHeader } from './tc-frame.ts';

/**
 * TC frame data units: segment header (flags 2 · MAP ID 6) then either whole space
 * packets (blocked, flags 11) or one piece of a packet too large for a frame
 * (first 01, continuing 00, last 10).
 */

/**
 * Packs packets, in order, into frame data units of at most `capacityBytes` octets
 * (segment header included).
 */
export function packTcDataUnits(packets: readonly Uint8Array[], capacityBytes: number, mapId = 0): Uint8Array[] {
  const room = capacityBytes - SEGMENT_HEADER_BYTES;
  if (room < 1) throw new ProtocolError('FIELD_OUT_OF_RANGE', `TC data capacity ${capacityBytes} leaves no room for data`, { capacityBytes });
  const out: Uint8Array[] = [];
  let block: Uint8Array[] = [];
  let blockBytes = 0;
  const flush = (): void => {
    if (block.length === 0) return;
    const u = new Uint8Array(SEGMENT_HEADER_BYTES + blockBytes);
    u[0] = segmentHeader(SEG_UNSEGMENTED, mapId);
    let p = 1;
    for (const b of block) {
      u.set(b, p);
      p += b.length;
    }
    out.push(u);
    block = [];
    blockBytes = 0;
  };
  for (const pkt of packets) {
    if (pkt.length <= room) {
      if (blockBytes + pkt.length > room) flush();
      block.push(pkt);
      blockBytes += pkt.length;
      continue;
    }
    flush();
    for (let off = 0; off < pkt.length; off += room) {
      const end = Math.min(pkt.length, off + room);
      const flags = off === 0 ? SEG_FIRST : end === pkt.length ? SEG_LAST : SEG_CONTINUING;
      const u = new Uint8Array(SEGMENT_HEADER_BYTES + end - off);
      u[0] = segmentHeader(flags, mapId);
      u.set(pkt.subarray(off, end), 1);
      out.push(u);
    }
  }
  flush();
  return out;
}

/** Splits concatenated whole packets; LENGTH_MISMATCH when they do not end exactly. */
export function splitPackets(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < data.length) {
    if (data.length - p < PRIMARY_HEADER_BYTES) {
      throw new ProtocolError('LENGTH_MISMATCH', `${data.length - p} stray octets after the last whole packet`, { offset: p });
    }
    if (data[p] >>> 5 !== 0) throw new ProtocolError('HEADER_INVALID', `packet version ${data[p] >>> 5} at offset ${p}`, { offset: p });
    const len = PRIMARY_HEADER_BYTES + ((data[p + 4] << 8) | data[p + 5]) + 1;
    if (p + len > data.length) {
      throw new ProtocolError('LENGTH_MISMATCH', `packet at offset ${p} claims ${len} octets, ${data.length - p} left`, { offset: p, length: len });
    }
    out.push(data.slice(p, p + len));
    p += len;
  }
  return out;
}

/** Board side: rebuilds packets from data units of one virtual channel (COP-1 keeps them in order). */
export class TcSegmentReassembler {
  private readonly partial = new Map<number, Uint8Array[]>();

  constructor(readonly maxPacketBytes = 65542) {}

  /** Returns the packets the unit completes, with their MAP ID; throws a ProtocolError on a broken sequence. */
  push(unit: Uint8Array): { mapId: number; packets: Uint8Array[] } {
    if (unit.length < SEGMENT_HEADER_BYTES + 1) throw new ProtocolError('FRAME_TOO_SHORT', 'TC data unit without data', { length: unit.length });
    const flags = unit[0] >>> 6;
    const mapId = unit[0] & 0x3f;
    const body = unit.subarray(1);
    const parts = this.partial.get(mapId);
    if (flags === SEG_UNSEGMENTED || flags === SEG_FIRST) {
      if (parts) {
        this.partial.delete(mapId);
        throw new ProtocolError('FIELD_INVALID', `MAP ${mapId}: new packet started before the last segment of the previous`, { mapId });
      }
      if (flags === SEG_UNSEGMENTED) return { mapId, packets: splitPackets(body) };
      this.partial.set(mapId, [body.slice()]);
      return { mapId, packets: [] };
    }
    if (!parts) throw new ProtocolError('FIELD_INVALID', `MAP ${mapId}: continuing segment without a first segment`, { mapId });
    parts.push(body.slice());
    const size = parts.reduce((n, b) => n + b.length, 0);
    if (size > this.maxPacketBytes) {
      this.partial.delete(mapId);
      throw new ProtocolError('FRAME_TOO_LONG', `MAP ${mapId}: segmented packet grows past ${this.maxPacketBytes} octets`, { mapId });
    }
    if (flags === SEG_CONTINUING) return { mapId, packets: [] };
    this.partial.delete(mapId);
    const whole = new Uint8Array(size);
    let p = 0;
    for (const b of parts) {
      whole.set(b, p);
      p += b.length;
    }
    return { mapId, packets: splitPackets(whole) };
  }
}
