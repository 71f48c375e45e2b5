import { ProtocolError } from './errors.ts';

/** CCSDS 133.0-B-2 Space Packet primary header (6 octets, big-endian). */
export const PRIMARY_HEADER_BYTES = 6;
export const IDLE_APID = 0x7ff;
export const MAX_APID = 0x7ff;
export const SEQ_MODULO = 0x4000;
export const SEQ_FLAGS_UNSEGMENTED = 0b11;
/** Largest packet: 6 header octets + 65536 data octets. */
export const MAX_PACKET_BYTES = PRIMARY_HEADER_BYTES + 0x10000;
/** Smallest space packet: 6 header octets and one data octet. */
export const MIN_PACKET_BYTES = PRIMARY_HEADER_BYTES + 1;

export type PacketType = 'TM' | 'TC';

export interface PrimaryHeader {
  version: number;
  type: PacketType;
  secondaryHeader: boolean;
  apid: number;
  sequenceFlags: number;
  /** Sequence count (TM) or packet name (TC), 14 bits. */
  seq: number;
  /** The raw data-length field: data-field octets minus one. */
  dataLength: number;
}

/** Total packet length in octets implied by a header. */
export function packetLength(h: Pick<PrimaryHeader, 'dataLength'>): number {
  return PRIMARY_HEADER_BYTES + h.dataLength + 1;
}

export function writePrimaryHeader(out: Uint8Array, offset: number, h: Omit<PrimaryHeader, 'version'> & { version?: number }): void {
  if (!Number.isInteger(h.apid) || h.apid < 0 || h.apid > MAX_APID) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `apid ${h.apid} outside 0..2047`, { field: 'apid', value: h.apid });
  }
  if (!Number.isInteger(h.seq) || h.seq < 0 || h.seq >= SEQ_MODULO) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `sequence count ${h.seq} outside 0..16383`, { field: 'seq', value: h.seq });
  }
  if (!Number.isInteger(h.dataLength) || h.dataLength < 0 || h.dataLength > 0xffff) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `data length field ${h.dataLength} outside 0..65535`, {
      field: 'dataLength',
      value: h.dataLength,
    });
  }
  const w0 = ((h.version ?? 0) << 13) | ((h.type === 'TC' ? 1 : 0) << 12) | ((h.secondaryHeader ? 1 : 0) << 11) | h.apid;
  const w1 = ((h.sequenceFlags & 0b11) << 14) | h.seq;
  out[offset] = w0 >>> 8;
  out[offset + 1] = w0 & 0xff;
  out[offset + 2] = w1 >>> 8;
  out[offset + 3] = w1 & 0xff;
  out[offset + 4] = h.dataLength >>> 8;
  out[offset + 5] = h.dataLength & 0xff;
}

/** Reads a primary header; throws PACKET_TOO_SHORT or HEADER_INVALID (version must be 0). */
export function readPrimaryHeader(buf: Uint8Array, offset = 0): PrimaryHeader {
  if (buf.length - offset < PRIMARY_HEADER_BYTES) {
    throw new ProtocolError('PACKET_TOO_SHORT', `${buf.length - offset} octets left, a primary header needs 6`, {
      available: buf.length - offset,
    });
  }
  const w0 = (buf[offset] << 8) | buf[offset + 1];
  const w1 = (buf[offset + 2] << 8) | buf[offset + 3];
  const version = w0 >>> 13;
  if (version !== 0) {
    throw new ProtocolError('HEADER_INVALID', `packet version ${version}, expected 0`, { field: 'version', value: version });
  }
  return {
    version,
    type: (w0 >>> 12) & 1 ? 'TC' : 'TM',
    secondaryHeader: ((w0 >>> 11) & 1) === 1,
    apid: w0 & 0x7ff,
    sequenceFlags: w1 >>> 14,
    seq: w1 & 0x3fff,
    dataLength: (buf[offset + 4] << 8) | buf[offset + 5],
  };
}

/**
 * The idle packet, in the one form this mission sends it (idlePacket) and trusts it
 * (checkIdlePacket): APID 0x7FF, TM, no secondary header, unsegmented, sequence count 0,
 * every data octet IDLE_FILL_OCTET.
 */
export const IDLE_FILL_OCTET = 0x00;

/** An idle packet of `totalBytes` octets (at least MIN_PACKET_BYTES), data all IDLE_FILL_OCTET. */
export function idlePacket(totalBytes: number): Uint8Array {
  const p = new Uint8Array(Math.max(MIN_PACKET_BYTES, totalBytes)).fill(IDLE_FILL_OCTET);
  writePrimaryHeader(p, 0, { type: 'TM', secondaryHeader: false, apid: IDLE_APID, sequenceFlags: SEQ_FLAGS_UNSEGMENTED, seq: 0, dataLength: p.length - PRIMARY_HEADER_BYTES - 1 });
  return p;
}

/**
 * Checks that an idle packet (idlePacket's form) starts at `offset`, wholly inside the buffer. A stretch of bytes that merely
 * carries APID 0x7FF is not trusted as idle fill: random data and payload bytes often
 * do. Throws PACKET_TOO_SHORT, LENGTH_MISMATCH or HEADER_INVALID naming the field.
 */
export function checkIdlePacket(buf: Uint8Array, offset = 0): PrimaryHeader {
  const h = readPrimaryHeader(buf, offset);
  const expect = (field: string, value: unknown, want: unknown) => {
    if (value !== want) throw new ProtocolError('HEADER_INVALID', `idle packet ${field} ${String(value)}, expected ${String(want)}`, { field, value });
  };
  expect('apid', h.apid, IDLE_APID);
  expect('type', h.type, 'TM');
  expect('secondaryHeader', h.secondaryHeader, false);
  expect('sequenceFlags', h.sequenceFlags, SEQ_FLAGS_UNSEGMENTED);
  expect('seq', h.seq, 0);
  const end = offset + packetLength(h);
  if (end > buf.length) {
    throw new ProtocolError('LENGTH_MISMATCH', `idle packet declares ${end - offset} octets, only ${buf.length - offset} present`, {
      declared: end - offset,
      available: buf.length - offset,
    });
  }
  for (let i = offset + PRIMARY_HEADER_BYTES; i < end; i++) {
    if (buf[i] !== IDLE_FILL_OCTET) {
      throw new ProtocolError('HEADER_INVALID', `idle packet fill octet ${i - offset} is 0x${buf[i].toString(16).padStart(2, '0')}, expected 0x${IDLE_FILL_OCTET.toString(16).padStart(2, '0')}`, {
        field: 'fill',
        offset: i - offset,
        value: buf[i],
      });
    }
  }
  return h;
}

/**
 * Per-APID sequence counting on receive. `observe` returns how many packets were
 * missed before this one (0 when in order). A repeated count is a duplicate, not a
 * gap; a reordered packet shows as the modular distance, as a ground system shows it.
 */
export class SequenceTracker {
  private readonly last = new Map<string, number>();
  readonly gaps = new Map<string, number>();
  readonly duplicates = new Map<string, number>();

  observe(type: PacketType, apid: number, seq: number): number {
    const key = `${type}:${apid}`;
    const prev = this.last.get(key);
    this.last.set(key, seq);
    if (prev === undefined) return 0;
    if (seq === prev) {
      this.duplicates.set(key, (this.duplicates.get(key) ?? 0) + 1);
      return 0;
    }
    const missed = (seq - prev - 1 + SEQ_MODULO) % SEQ_MODULO;
    if (missed > 0) this.gaps.set(key, (this.gaps.get(key) ?? 0) + missed);
    return missed;
  }

  /** Gaps by "TM:apid" / "TC:apid" key. */
  summary(): Record<string, number> {
    return Object.fromEntries(this.gaps);
  }
}

/** Per-APID sequence counter for a sender. */
export class SequenceCounter {
  private readonly next = new Map<number, number>();
  take(apid: number): number {
    const n = this.next.get(apid) ?? 0;
    this.next.set(apid, (n + 1) % SEQ_MODULO);
    return n;
  }
}
