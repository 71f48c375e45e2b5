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

/** What one received sequence count means against those seen before on its APID. */
export type SequenceVerdict =
  /** The first packet of the APID, or the next count. */
  | { kind: 'in-order'; missed: 0 }
  /** A forward jump: `missed` counts skipped (within half the counter's range). */
  | { kind: 'gap'; missed: number }
  /** A count seen within the recent window: a retransmission or a repeat, not a loss. */
  | { kind: 'duplicate'; missed: 0 }
  /** A count behind the newest that was missing: it fills a gap counted before. */
  | { kind: 'late'; missed: 0 }
  /** A count further behind than the window remembers: the tracker starts again from it. */
  | { kind: 'resync'; missed: 0 };

/** How many counts behind the newest a tracker remembers (a repeat further back is a resync). */
export const SEQUENCE_WINDOW = 1024;

/**
 * Per-APID sequence counting on receive, for links that retransmit (go-back-N repeats
 * counts already delivered). A count seen in the last `window` counts again is a
 * duplicate; a count behind the newest that was never seen fills a gap (late); only
 * a forward jump (less than half the 14-bit range ahead) is a gap, and a count too far
 * behind resyncs. Without the window a repeat of count n-k read as 16383-k lost packets.
 */
export class SequenceTracker {
  private readonly state = new Map<string, { newest: number; seen: Set<number>; span: number; sincePrune: number }>();
  readonly gaps = new Map<string, number>();
  readonly duplicates = new Map<string, number>();
  readonly late = new Map<string, number>();
  readonly resyncs = new Map<string, number>();

  constructor(private readonly window = SEQUENCE_WINDOW) {}

  /** Classifies `seq` on (type, apid) and counts it. */
  track(type: PacketType, apid: number, seq: number): SequenceVerdict {
    const key = `${type}:${apid}`;
    const st = this.state.get(key);
    if (st === undefined) {
      // span: how far the counts run from where tracking started (capped): only a late
      // count inside it was counted missing.
      this.state.set(key, { newest: seq, seen: new Set([seq]), span: 0, sincePrune: 0 });
      return { kind: 'in-order', missed: 0 };
    }
    const ahead = (seq - st.newest + SEQ_MODULO) % SEQ_MODULO;
    const behind = (st.newest - seq + SEQ_MODULO) % SEQ_MODULO;
    if (ahead === 0 || (behind <= this.window && st.seen.has(seq))) return this.count(this.duplicates, key, { kind: 'duplicate', missed: 0 });
    if (ahead < SEQ_MODULO / 2) {
      st.newest = seq;
      st.seen.add(seq);
      st.span = Math.min(this.window + 1, st.span + ahead);
      st.sincePrune += ahead;
      // Forget what fell out of the window once per window's worth of counts (amortised
      // O(1)), so a count remembered from a lap ago is never taken for a recent one.
      if (st.sincePrune > this.window) {
        for (const s of st.seen) if ((seq - s + SEQ_MODULO) % SEQ_MODULO > this.window) st.seen.delete(s);
        st.sincePrune = 0;
      }
      const missed = ahead - 1;
      if (missed === 0) return { kind: 'in-order', missed: 0 };
      this.gaps.set(key, (this.gaps.get(key) ?? 0) + missed);
      return { kind: 'gap', missed };
    }
    if (behind <= this.window) {
      st.seen.add(seq);
      if (behind < st.span) {
        // Counted missing when the jump past it came: it arrived after all.
        const g = (this.gaps.get(key) ?? 0) - 1;
        if (g > 0) this.gaps.set(key, g);
        else this.gaps.delete(key);
      }
      return this.count(this.late, key, { kind: 'late', missed: 0 });
    }
    this.state.set(key, { newest: seq, seen: new Set([seq]), span: 0, sincePrune: 0 });
    return this.count(this.resyncs, key, { kind: 'resync', missed: 0 });
  }

  /** How many packets were missed before this one (0 in order, duplicate, late or resync). */
  observe(type: PacketType, apid: number, seq: number): number {
    return this.track(type, apid, seq).missed;
  }

  /** Gaps by "TM:apid" / "TC:apid" key. */
  summary(): Record<string, number> {
    return Object.fromEntries(this.gaps);
  }

  private count<V extends SequenceVerdict>(m: Map<string, number>, key: string, v: V): V {
    m.set(key, (m.get(key) ?? 0) + 1);
    return v;
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
