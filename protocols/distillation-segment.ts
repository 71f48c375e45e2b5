import { ByteReader, ByteWriter } from './bytes.ts';
import { crc32c } from './crc.ts';
import { ProtocolError } from './errors.ts';

/**
 * Distillation segments: how one authenticated distillation frame (qkd-messages.ts,
 * up to a few hundred kB) crosses the optical link's distillation virtual channels.
 * The frame is cut into segments, each the data field of one space packet on APID
 * LINK_APID.distillation (link/opaque-packet.ts):
 *
 *   seq u32 | flags u8 | CRC-32C u32 of the segment octets | segment octets (0..4000)
 *   flags: bit 0 first segment of a frame, bit 1 last; the other bits are 0
 *
 * `seq` counts segments per direction from 0 (not per frame), so the receiver sees
 * any segment lost, repeated or out of order; the CRC checks each segment end to end
 * over and above the link's own frame checks. Big-endian like the rest of the link.
 */
export const SEGMENT_HEADER_BYTES = 9;
export const MAX_SEGMENT_BYTES = 4000;
const FLAG_FIRST = 1;
const FLAG_LAST = 2;

export interface DistillationSegment {
  /** Segment counter of this direction, mod 2^32. */
  seq: number;
  first: boolean;
  last: boolean;
  /** This segment's octets of the frame. */
  data: Uint8Array;
}

function checkLength(n: number): void {
  if (n > MAX_SEGMENT_BYTES) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `segment of ${n} octets exceeds ${MAX_SEGMENT_BYTES}`, { field: 'data.length', value: n, max: MAX_SEGMENT_BYTES });
  }
}

/** Throws FIELD_OUT_OF_RANGE for a seq outside 0..2^32-1 or more than MAX_SEGMENT_BYTES octets. */
export function encodeSegment(s: DistillationSegment): Uint8Array {
  if (!Number.isInteger(s.seq) || s.seq < 0 || s.seq > 0xffffffff) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `segment seq ${s.seq} outside 0..2^32-1`, { field: 'seq', value: s.seq });
  }
  checkLength(s.data.length);
  return new ByteWriter(SEGMENT_HEADER_BYTES + s.data.length)
    .u32(s.seq)
    .u8((s.first ? FLAG_FIRST : 0) | (s.last ? FLAG_LAST : 0))
    .u32(crc32c(s.data))
    .bytes(s.data)
    .done();
}

/**
 * One segment back from a packet's data field (its octets copied). Throws
 * PACKET_TOO_SHORT (shorter than the header), CRC_MISMATCH, FIELD_INVALID (a reserved
 * flag bit set) or FIELD_OUT_OF_RANGE (more than MAX_SEGMENT_BYTES octets).
 */
export function decodeSegment(bytes: Uint8Array): DistillationSegment {
  const r = new ByteReader(bytes, 'distillation segment');
  const seq = r.u32('seq');
  const flags = r.u8('flags');
  const crc = r.u32('crc32c');
  const data = r.rest();
  const actual = crc32c(data) >>> 0;
  if (actual !== crc) {
    throw new ProtocolError('CRC_MISMATCH', `segment ${seq}: CRC-32C 0x${actual.toString(16)}, header says 0x${crc.toString(16)}`, { field: 'crc32c', seq });
  }
  if (flags & ~(FLAG_FIRST | FLAG_LAST)) throw new ProtocolError('FIELD_INVALID', `segment ${seq}: reserved flag bits in 0x${flags.toString(16)}`, { field: 'flags', value: flags });
  checkLength(data.length);
  return { seq, first: (flags & FLAG_FIRST) !== 0, last: (flags & FLAG_LAST) !== 0, data };
}

/**
 * A frame cut into encoded segments numbered from `firstSeq` (mod 2^32): at most
 * `maxSegmentBytes` octets each, one empty segment for an empty frame.
 */
export function segmentFrame(frame: Uint8Array, firstSeq: number, maxSegmentBytes = MAX_SEGMENT_BYTES): Uint8Array[] {
  if (!Number.isInteger(maxSegmentBytes) || maxSegmentBytes < 1) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `maxSegmentBytes ${maxSegmentBytes} must be a positive integer`, { field: 'maxSegmentBytes', value: maxSegmentBytes });
  }
  const n = Math.max(1, Math.ceil(frame.length / maxSegmentBytes));
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const data = frame.subarray(i * maxSegmentBytes, Math.min(frame.length, (i + 1) * maxSegmentBytes));
    out.push(encodeSegment({ seq: (firstSeq + i) >>> 0, first: i === 0, last: i === n - 1, data }));
  }
  return out;
}
