/**
 * Byte codec of the classical-channel conversation of key distillation (payload =
 * Alice, ground station = Bob). Pure: bytes in, typed messages out, ProtocolError on
 * anything malformed, naming the field. Authentication is a layer on top: a frame is
 * header ‖ message, and a tagged frame adds a tag index and an 8-byte Wegman-Carter tag
 * over the sender's transcript since its previous tag (see authFrameFor); the tag
 * itself is computed by qkd/auth.ts.
 */
import { ByteReader, ByteWriter } from './bytes.ts';
import { ProtocolError } from './errors.ts';

/** Why a block (or a sifting batch) was discarded. */
export const ABORT_REASONS = [
  'NONE',
  'TOO_FEW_COUNTS',
  'QBER_TOO_HIGH',
  'PHASE_ERROR_TOO_HIGH',
  'NO_SECURE_KEY',
  'EC_FAILED',
  'VERIFY_FAILED',
  'AUTH_FAILED',
  'PROTOCOL_ERROR',
  'POOL_EXHAUSTED',
] as const;
export type AbortReason = (typeof ABORT_REASONS)[number];

export type QkdMessage =
  /** Bob → Alice: which pulses were detected (ascending indices) and his bases. */
  | { type: 'detections'; batchId: number; pulseIndex: Float64Array; basis: Uint8Array }
  /** Alice → Bob: her basis and intensity class for exactly those detected pulses. */
  | { type: 'sift'; batchId: number; basis: Uint8Array; intensity: Uint8Array }
  /** Alice → Bob: a block is cut; her test-basis bits of the block for error estimation. */
  | { type: 'blockStart'; blockId: number; lastBatch: number; keyCount: number; testCount: number; testBits: Uint8Array }
  /** Bob → Alice: test-basis errors per intensity class of the block. */
  | { type: 'peReport'; blockId: number; testErrors: [number, number, number] }
  /** Bob → Alice: start a Cascade pass (block size, permutation seed). */
  | { type: 'ecTop'; blockId: number; pass: number; blockSize: number; permSeed: number }
  /** Bob → Alice: parities wanted for ranges [start, end), each of its own pass. */
  | { type: 'ecRanges'; blockId: number; passes: Uint8Array; starts: Int32Array; ends: Int32Array }
  /** Alice → Bob: the parities (one bit each); pass = the pass of an ecTop, 255 for ranges. */
  | { type: 'ecParities'; blockId: number; pass: number; parities: Uint8Array }
  /** Bob → Alice: verification hash of his corrected key and the leakage he counted. */
  | { type: 'verify'; blockId: number; hashSeed: number; hash: Uint32Array; leakedBits: number }
  /** Alice → Bob: the block's verdict, its key id, secure length and PA seed. */
  | { type: 'blockResult'; blockId: number; reason: AbortReason; keyId: number; lengthBits: number; paSeed: number }
  /** Either side: discard a block (or a sifting batch with `batch`). */
  | { type: 'abort'; blockId: number; batch: boolean; reason: AbortReason }
  /** Alice → Bob: please tag your transcript (round n); Bob → Alice (tagged): here it is. */
  | { type: 'checkpoint'; round: number }
  /** Bob → Alice (tagged): Alice's transcript through her blockResult verified, key filed. */
  | { type: 'confirm'; blockId: number };

export type QkdMessageType = QkdMessage['type'];

const TYPE_CODES: Record<QkdMessageType, number> = {
  detections: 1,
  sift: 2,
  blockStart: 3,
  peReport: 4,
  ecTop: 5,
  ecRanges: 6,
  ecParities: 7,
  verify: 8,
  blockResult: 9,
  abort: 10,
  checkpoint: 11,
  confirm: 12,
};

// ---------- writer / reader: the shared ones (bytes.ts) plus this codec's packings ----------

/** The error for a detection list that is not ascending integers below 2^53, naming the first bad entry. */
function unordered(values: Float64Array): RangeError {
  let prev = -1;
  let i = 0;
  while (i < values.length && values[i] > prev && Number.isSafeInteger(values[i])) prev = values[i++];
  return new RangeError(`detections: pulse indices must ascend (at ${i})`);
}

class QkdWriter extends ByteWriter {
  /**
   * Ascending non-negative integers (< 2^53): the detection list. The first as a varint,
   * then each gap g = v[i] - v[i-1] - 1 as a u16 little-endian when g < 0xFFFF, else the
   * u16 0xFFFF and the varint of g - 0xFFFF. A pass's gaps average ~6500 pulses, so nearly
   * every one is two bytes: one store a value, and the reader advances without waiting for
   * a length. One tight loop, no per-value calls.
   */
  ascendingDeltas(values: Float64Array): void {
    const count = values.length;
    if (count === 0) return;
    const first = values[0];
    if (!(first >= 0) || !Number.isSafeInteger(first)) throw unordered(values);
    // Room for the first value and two bytes a gap: only a long gap (the slow case) grows
    // the buffer, so the loop checks no room.
    this.ensure(count * 2 + 16);
    this.varint(first);
    const buf = this.buf;
    this.length = this.gaps(values, count, new DataView(buf.buffer, buf.byteOffset, buf.byteLength), this.length);
    // The gaps ascend (the loop checked), so the last value is the largest.
    if (values[count - 1] > Number.MAX_SAFE_INTEGER) throw unordered(values);
  }
  /**
   * ascendingDeltas' loop over the gaps before values[1, count), from byte p; returns
   * where it ended. Alone, with nothing before it but its arguments and nothing after it
   * but the return: V8 compiles a long loop while it runs (OSR) and keeps that code, so
   * code after the loop ran without type feedback and deoptimised on every call; and on
   * the first call it gathers feedback only from inside the loop on, so code before the
   * loop (or a slow case taken on the first value) threw its first compiled code away.
   * Each gap reads its two values (no value carried from one step to the next: a carried
   * value that starts as an argument is boxed, a heap number a step).
   */
  private gaps(values: Float64Array, count: number, view: DataView, p: number): number {
    let i = 1;
    while (i < count) {
      // Up to the next long gap (or bad value): one store a value. The slow case (which
      // may grow the buffer) is outside this loop, so the view is fixed in it (a view
      // replaced inside the loop cost ~1 ns a value more).
      for (; i < count; i++) {
        const g = values[i] - values[i - 1] - 1;
        const d = g >>> 0;
        // Not an integer g in 0..0xFFFE. Otherwise values[i] is an integer above the
        // integer before it (the 2^53 bound is checked at the end).
        if (d !== g || d >= 0xffff) break;
        view.setUint16(p, d, true);
        p += 2;
      }
      if (i === count) break;
      // A long gap (0xFFFF pulses or more: ~1 in 400 in a pass) or a bad value.
      const v = values[i];
      const prev = values[i - 1];
      if (!(v > prev) || !Number.isSafeInteger(v)) throw unordered(values);
      this.length = p;
      this.ensure(10 + 2 * (count - i)); // the escape, its varint and two bytes for each gap after it
      const buf = this.buf;
      view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      view.setUint16(p, 0xffff, true);
      this.length = p + 2;
      this.varint(v - prev - 1 - 0xffff);
      p = this.length;
      i++;
    }
    return p;
  }
  /** `n` zero bytes, to be filled in later (a frame's header and tag). */
  skip(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  /** The bytes written, without done()'s copy: for a writer dropped at once (a detection report is megabytes a second). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
  /** Values below 2^width packed LSB first, width 1 or 2. */
  packed(values: Uint8Array, width: 1 | 2): void {
    const shift = width === 1 ? 3 : 2;
    const lane = width === 1 ? 7 : 3;
    const n = (values.length + lane) >>> shift;
    this.ensure(n);
    const buf = this.buf;
    const base = this.length;
    buf.fill(0, base, base + n);
    // Whole bytes at once (8 one-bit or 4 two-bit values), then the tail.
    const full = values.length >>> shift;
    // A DataView: the values may be any view (the held answers are), and the order is explicit.
    const v = new DataView(values.buffer, values.byteOffset, values.byteLength);
    const inRange = width === 1 ? (packBitWords(v, buf, base, full) & 0xfefefefe) === 0 : (packPairWords(v, buf, base, full) & 0xfcfcfcfc) === 0;
    if (!inRange) {
      if (width === 1) {
        for (let j = 0, i = 0; j < full; j++, i += 8) {
          buf[base + j] =
            values[i] | (values[i + 1] << 1) | (values[i + 2] << 2) | (values[i + 3] << 3) |
            (values[i + 4] << 4) | (values[i + 5] << 5) | (values[i + 6] << 6) | (values[i + 7] << 7);
        }
      } else {
        for (let j = 0, i = 0; j < full; j++, i += 4) {
          buf[base + j] = values[i] | (values[i + 1] << 2) | (values[i + 2] << 4) | (values[i + 3] << 6);
        }
      }
    }
    for (let i = full << shift; i < values.length; i++) buf[base + (i >>> shift)] |= values[i] << ((i & lane) * width);
    this.length += n;
  }
}

/*
 * QkdWriter.packed's whole bytes from 4 values a read: the little-endian word v of four
 * values at bits 0, 8, 16, 24 times 0x204081 (bits) or 0x41041 (2-bit lanes) puts value
 * i at bit 21 + i (18 + 2 i) with no carries (the terms land at 8 i + 7 j, 8 i + 6 j:
 * all apart). Each returns the OR of the words it read: a bit set beyond a value's width
 * means a value out of range (out is then unspecified and the caller packs byte by byte
 * as before). Each loop alone, its arguments ready, the OR checked by the caller: see
 * QkdWriter.gaps.
 */

/** One-bit values, 8 a byte. */
function packBitWords(v: DataView, out: Uint8Array, base: number, full: number): number {
  let all = 0;
  for (let j = 0; j < full; j++) {
    const a = v.getUint32(8 * j, true);
    const b = v.getUint32(8 * j + 4, true);
    all |= a | b;
    out[base + j] = ((Math.imul(a, 0x204081) >>> 21) & 15) | ((Math.imul(b, 0x204081) >>> 17) & 0xf0);
  }
  return all;
}

/** Two-bit values, 4 a byte. */
function packPairWords(v: DataView, out: Uint8Array, base: number, full: number): number {
  let all = 0;
  for (let j = 0; j < full; j++) {
    const a = v.getUint32(4 * j, true);
    all |= a;
    out[base + j] = (Math.imul(a, 0x41041) >>> 18) & 255;
  }
  return all;
}

function beyond2to53(field: string): ProtocolError {
  return new ProtocolError('FIELD_OUT_OF_RANGE', 'pulseIndex beyond 2^53', { field });
}

class QkdReader extends ByteReader {
  constructor(buf: Uint8Array, start: number, end: number) {
    super(buf, 'qkd message', start, end);
  }
  /**
   * The inverse of QkdWriter.ascendingDeltas: `count` values, each checked below 2^53,
   * into `out` (a fresh array unless given; its first `count` entries are written).
   */
  ascendingDeltas(count: number, field: string, out: Float64Array = new Float64Array(count)): Float64Array {
    if (count === 0) return out;
    const first = this.varint(field);
    out[0] = first;
    this.pos = this.gaps(count, field, out, first, new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength), this.pos, this.end);
    // Values ascend: the last is the largest.
    if (out[count - 1] > Number.MAX_SAFE_INTEGER) throw beyond2to53(field);
    return out;
  }
  /**
   * ascendingDeltas' loop: values [1, count) into `out`, from byte p; returns where it
   * ended. Alone, its arguments ready, nothing after it but the return (see
   * QkdWriter.gaps); the values are `first` plus a running sum that starts at 0 (a
   * carried value that starts as an argument is boxed, a heap number a step).
   */
  private gaps(count: number, field: string, out: Float64Array, first: number, view: DataView, p: number, end: number): number {
    let sum = 0;
    let i = 1;
    while (i < count) {
      // Nearly every gap: two bytes, below 0xFFFF, one load. Up to `stop` the two bytes are
      // there (unless an escape comes first), so no end check a value (~1 ns a value less);
      // p advances by 2 whatever the bytes hold (the escape's branch is predicted). One add
      // on the sum per value (its chain is the loop's).
      const stop = Math.min(count, i + ((end - p) >> 1));
      for (; i < stop; i++) {
        const g = view.getUint16(p, true);
        if (g === 0xffff) break;
        sum += g + 1;
        p += 2;
        out[i] = first + sum;
      }
      if (i === count) break;
      // The escape (a long gap) or the bytes end: the 2^53 check the fast case leaves to the end comes first.
      if (first + sum > Number.MAX_SAFE_INTEGER) throw beyond2to53(field);
      if (p + 1 >= end) throw this.tooShort(field, 2, p);
      // Two bytes or more left, so the loop stopped at the escape 0xFFFF.
      this.pos = p + 2;
      sum = sum + 0x10000 + this.varint(field);
      p = this.pos;
      out[i++] = first + sum; // checked below 2^53 by the next slow case or at the end, as the fast ones
    }
    return p;
  }
  /**
   * `count` values of `width` bits packed LSB first, into `out` (a fresh array unless
   * given; at byte offset 0, as all of them are); with `max` 2 a 3 is FIELD_OUT_OF_RANGE.
   */
  packed(count: number, width: 1 | 2, field: string, max?: 2, out: Uint8Array = new Uint8Array(count)): Uint8Array {
    const shift = width === 1 ? 3 : 2;
    const lane = width === 1 ? 7 : 3;
    const n = (count + lane) >>> shift;
    this.need(n, field);
    const mask = (1 << width) - 1;
    const buf = this.buf;
    const base = this.pos;
    let bad = -1;
    let i0 = 0;
    // Whole bytes a word at a time from a table (4 values a store instead of 1).
    if (width === 1) {
      const full = count >>> 3;
      const words = new Uint32Array(out.buffer, out.byteOffset, 2 * full);
      for (let j = 0; j < full; j++) {
        const byte = buf[base + j];
        words[2 * j] = SPREAD_BITS[byte & 15];
        words[2 * j + 1] = SPREAD_BITS[byte >>> 4];
      }
      i0 = full << 3;
    } else {
      const full = count >>> 2;
      const words = new Uint32Array(out.buffer, out.byteOffset, full);
      let threes = 0;
      for (let j = 0; j < full; j++) {
        const byte = buf[base + j];
        threes |= byte & (byte >>> 1) & 0x55; // a lane holding 3 has both its bits set
        words[j] = SPREAD_PAIRS[byte];
      }
      if (threes !== 0 && max !== undefined) bad = out.subarray(0, full << 2).indexOf(3);
      i0 = full << 2;
    }
    for (let i = i0; i < count; i++) {
      const v = (buf[base + (i >>> shift)] >>> ((i & lane) * width)) & mask;
      if (max !== undefined && v > max && bad < 0) bad = i;
      out[i] = v;
    }
    if (bad >= 0) throw new ProtocolError('FIELD_OUT_OF_RANGE', `${field}[${bad}] = ${out[bad]} exceeds ${max}`, { field, index: bad });
    this.pos += n;
    return out;
  }
}

/**
 * Entry n: the 4 bytes (as laid out in memory, whatever the platform's byte order) holding
 * the 4 values of n: its bits (SPREAD_BITS, n < 16) or its 2-bit lanes (SPREAD_PAIRS), LSB first.
 */
const SPREAD_BITS = spreadTable(16, 1);
const SPREAD_PAIRS = spreadTable(256, 2);
function spreadTable(entries: number, width: number): Uint32Array {
  const bytes = new Uint8Array(4 * entries);
  for (let n = 0; n < entries; n++) for (let q = 0; q < 4; q++) bytes[4 * n + q] = (n >>> (q * width)) & ((1 << width) - 1);
  return new Uint32Array(bytes.buffer);
}

/**
 * Arrays reused for the bulk fields of the two big messages: a detection report's pulse
 * indices and bases, a sift answer's bases and intensities. A message decoded with a
 * scratch holds views of them, overwritten by the next decode with the same scratch: for
 * a receiver done with each message (or holding copies) before the next arrives.
 */
export class DecodeScratch {
  private indices = new Float64Array(0);
  private bases = new Uint8Array(0);
  private intensities = new Uint8Array(0);

  // Each grows (doubling) to the largest message seen; a view of its first n entries.
  pulseIndex(n: number): Float64Array {
    if (this.indices.length < n) this.indices = new Float64Array(Math.max(n, 2 * this.indices.length));
    return this.indices.subarray(0, n);
  }
  basis(n: number): Uint8Array {
    if (this.bases.length < n) this.bases = new Uint8Array(Math.max(n, 2 * this.bases.length));
    return this.bases.subarray(0, n);
  }
  intensity(n: number): Uint8Array {
    if (this.intensities.length < n) this.intensities = new Uint8Array(Math.max(n, 2 * this.intensities.length));
    return this.intensities.subarray(0, n);
  }
}

/** Largest count accepted in one message: bounds allocations made from untrusted lengths. */
export const MAX_ITEMS = 1 << 24;

function reasonCode(r: AbortReason): number {
  return ABORT_REASONS.indexOf(r);
}
function reasonOf(code: number): AbortReason {
  const r = ABORT_REASONS[code];
  if (r === undefined) throw new ProtocolError('FIELD_OUT_OF_RANGE', `abort reason ${code} unknown`, { field: 'reason', value: code });
  return r;
}

// ---------- messages ----------

/** A size that usually fits the whole message, so the writer never grows (and copies). */
function capacityOf(m: QkdMessage): number {
  switch (m.type) {
    case 'detections':
      return 40 + m.pulseIndex.length * 2 + (m.pulseIndex.length >>> 3) * 2; // 2 bytes a gap (and room for long ones), a bit a basis
    case 'sift':
      return 40 + (m.basis.length >>> 3) + (m.intensity.length >>> 2);
    case 'blockStart':
      return 64 + (m.testBits.length >>> 3);
    case 'ecParities':
      return 40 + (m.parities.length >>> 3);
    case 'ecRanges':
      return 40 + m.starts.length * 9;
    default:
      return 64;
  }
}

/** The message's bytes: a view of the writer's buffer (nothing else holds it), not a copy. */
export function encodeQkdMessage(m: QkdMessage): Uint8Array {
  const w = new QkdWriter(capacityOf(m));
  writeQkdMessage(w, m);
  return w.written();
}

/**
 * A message's fields after its type code, by type. Per type, not one switch: a function
 * holding every type's encoder (bulk loops inlined) was recompiled by V8 each time a type
 * or message shape it had not yet seen came along (four 15-30 ms compiles a pass); the
 * dispatch below is one call site that goes megamorphic at once (no inlining), and each
 * encoder is optimised on its own.
 */
type Writers = { [K in QkdMessageType]: (w: QkdWriter, m: Extract<QkdMessage, { type: K }>) => void };
const WRITERS: Writers = {
  detections(w, m) {
    w.varint(m.batchId);
    w.varint(m.pulseIndex.length);
    w.ascendingDeltas(m.pulseIndex);
    w.packed(m.basis, 1);
  },
  sift(w, m) {
    w.varint(m.batchId);
    w.varint(m.basis.length);
    w.packed(m.basis, 1);
    w.packed(m.intensity, 2);
  },
  blockStart(w, m) {
    w.varint(m.blockId);
    w.varint(m.lastBatch);
    w.varint(m.keyCount);
    w.varint(m.testCount);
    w.varint(m.testBits.length);
    w.packed(m.testBits, 1);
  },
  peReport(w, m) {
    w.varint(m.blockId);
    for (const e of m.testErrors) w.varint(e);
  },
  ecTop(w, m) {
    w.varint(m.blockId);
    w.varint(m.pass);
    w.varint(m.blockSize);
    w.varint(m.permSeed);
  },
  ecRanges(w, m) {
    w.varint(m.blockId);
    w.varint(m.starts.length);
    for (let i = 0; i < m.starts.length; i++) {
      w.u8(m.passes[i]);
      w.varint(m.starts[i]);
      w.varint(m.ends[i] - m.starts[i]);
    }
  },
  ecParities(w, m) {
    w.varint(m.blockId);
    w.varint(m.pass);
    w.varint(m.parities.length);
    w.packed(m.parities, 1);
  },
  verify(w, m) {
    w.varint(m.blockId);
    w.varint(m.hashSeed);
    w.varint(m.hash.length);
    for (const x of m.hash) w.varint(x);
    w.varint(m.leakedBits);
  },
  blockResult(w, m) {
    w.varint(m.blockId);
    w.u8(reasonCode(m.reason));
    w.varint(m.keyId);
    w.varint(m.lengthBits);
    w.varint(m.paSeed);
  },
  abort(w, m) {
    w.varint(m.blockId);
    w.u8(m.batch ? 1 : 0);
    w.u8(reasonCode(m.reason));
  },
  checkpoint(w, m) {
    w.varint(m.round);
  },
  confirm(w, m) {
    w.varint(m.blockId);
  },
};

function writeQkdMessage(w: QkdWriter, m: QkdMessage): void {
  w.u8(TYPE_CODES[m.type]);
  (WRITERS[m.type] as (w: QkdWriter, m: QkdMessage) => void)(w, m);
}

/** A message's fields after its type code, by type code (per type: see WRITERS). */
type Reader = (r: QkdReader, scratch: DecodeScratch | undefined) => QkdMessage;
const READERS: (Reader | undefined)[] = [];
function reader<K extends QkdMessageType>(type: K, read: (r: QkdReader, scratch: DecodeScratch | undefined) => Extract<QkdMessage, { type: K }>): void {
  READERS[TYPE_CODES[type]] = read;
}
reader('detections', (r, scratch) => {
  const batchId = r.varint('batchId');
  const count = r.varint('count', MAX_ITEMS);
  const pulseIndex = r.ascendingDeltas(count, 'pulseIndex', scratch?.pulseIndex(count));
  return { type: 'detections', batchId, pulseIndex, basis: r.packed(count, 1, 'basis', undefined, scratch?.basis(count)) };
});
reader('sift', (r, scratch) => {
  const batchId = r.varint('batchId');
  const count = r.varint('count', MAX_ITEMS);
  const basis = r.packed(count, 1, 'basis', undefined, scratch?.basis(count));
  return { type: 'sift', batchId, basis, intensity: r.packed(count, 2, 'intensity', 2, scratch?.intensity(count)) };
});
reader('blockStart', (r) => {
  const blockId = r.varint('blockId');
  const lastBatch = r.varint('lastBatch');
  const keyCount = r.varint('keyCount', MAX_ITEMS);
  const testCount = r.varint('testCount', MAX_ITEMS);
  const nBits = r.varint('testBits.length', MAX_ITEMS);
  return { type: 'blockStart', blockId, lastBatch, keyCount, testCount, testBits: r.packed(nBits, 1, 'testBits') };
});
reader('peReport', (r) => ({ type: 'peReport', blockId: r.varint('blockId'), testErrors: [r.varint('testErrors[0]'), r.varint('testErrors[1]'), r.varint('testErrors[2]')] }));
reader('ecTop', (r) => {
  const m = { type: 'ecTop' as const, blockId: r.varint('blockId'), pass: r.varint('pass', 255), blockSize: r.varint('blockSize', MAX_ITEMS), permSeed: r.varint('permSeed') };
  if (m.blockSize < 1) throw new ProtocolError('FIELD_OUT_OF_RANGE', 'blockSize must be >= 1', { field: 'blockSize' });
  return m;
});
reader('ecRanges', (r) => {
  const blockId = r.varint('blockId');
  const count = r.varint('count', MAX_ITEMS);
  const passes = new Uint8Array(count);
  const starts = new Int32Array(count);
  const ends = new Int32Array(count);
  readRanges(r, passes, starts, ends);
  return { type: 'ecRanges', blockId, passes, starts, ends };
});
/** The ranges of an ecRanges message. The loop alone: see QkdWriter.gaps. */
function readRanges(r: QkdReader, passes: Uint8Array, starts: Int32Array, ends: Int32Array): void {
  for (let i = 0; i < passes.length; i++) {
    passes[i] = r.u8('pass');
    starts[i] = r.varint('start', MAX_ITEMS * 4);
    const len = r.varint('length', MAX_ITEMS * 4);
    if (len < 1) throw new ProtocolError('FIELD_OUT_OF_RANGE', `range ${i} is empty`, { field: 'length', index: i });
    ends[i] = starts[i] + len;
  }
}
reader('ecParities', (r) => {
  const blockId = r.varint('blockId');
  const pass = r.varint('pass', 255);
  const count = r.varint('count', MAX_ITEMS);
  return { type: 'ecParities', blockId, pass, parities: r.packed(count, 1, 'parities') };
});
reader('verify', (r) => {
  const blockId = r.varint('blockId');
  const hashSeed = r.varint('hashSeed');
  const n = r.varint('hash.length', 64);
  const hash = new Uint32Array(n);
  for (let i = 0; i < n; i++) hash[i] = r.varint('hash', 0xffffffff);
  return { type: 'verify', blockId, hashSeed, hash, leakedBits: r.varint('leakedBits') };
});
reader('blockResult', (r) => ({
  type: 'blockResult',
  blockId: r.varint('blockId'),
  reason: reasonOf(r.u8('reason')),
  keyId: r.varint('keyId'),
  lengthBits: r.varint('lengthBits', MAX_ITEMS * 4),
  paSeed: r.varint('paSeed'),
}));
reader('abort', (r) => {
  const blockId = r.varint('blockId');
  const batch = r.u8('batch');
  if (batch > 1) throw new ProtocolError('FIELD_OUT_OF_RANGE', 'batch flag must be 0 or 1', { field: 'batch' });
  return { type: 'abort', blockId, batch: batch === 1, reason: reasonOf(r.u8('reason')) };
});
reader('checkpoint', (r) => ({ type: 'checkpoint', round: r.varint('round') }));
reader('confirm', (r) => ({ type: 'confirm', blockId: r.varint('blockId') }));

/**
 * Decode one message from buf[start, end). With a scratch, the bulk arrays of `detections`
 * and `sift` are views of its arrays (see DecodeScratch); otherwise everything is fresh.
 */
export function decodeQkdMessage(buf: Uint8Array, start = 0, end = buf.length, scratch?: DecodeScratch): QkdMessage {
  const r = new QkdReader(buf, start, end);
  const code = r.u8('type');
  const read = READERS[code];
  if (!read) throw new ProtocolError('UNKNOWN_PACKET', `qkd message type ${code} unknown`, { field: 'type', value: code });
  const m = read(r, scratch);
  r.finish();
  return m;
}

// ---------- authenticated frame ----------

/** Direction of a frame: 0 = Alice (payload) → Bob (ground), 1 = Bob → Alice. */
export type Direction = 0 | 1;
/** Version 2: transcript authentication (a tag on some frames, covering all since the last). */
export const AUTH_FRAME_VERSION = 2;
/** version u8 | direction u8 | seq u32 | tagged u8 */
export const AUTH_HEADER_BYTES = 7;
export const AUTH_TAG_INDEX_BYTES = 4;
export const AUTH_TAG_BYTES = 8;

export interface AuthTag {
  /** Per-direction tag counter; selects the one-time pad. */
  index: number;
  /** 64-bit tag as two big-endian words. */
  hi: number;
  lo: number;
}

export interface AuthFrame {
  direction: Direction;
  /** Per-direction frame sequence number (replays and reordering are refused by it). */
  seq: number;
  /** The encoded QkdMessage. */
  body: Uint8Array;
  /** Present on tagged frames only. */
  tag: AuthTag | null;
  /** What the transcript absorbs: the whole frame but the 8 tag bytes. */
  covered: Uint8Array;
}

/**
 * header ‖ body, and for a tagged frame tag index ‖ room for the tag, in one allocation:
 * the covered bytes are all but the last AUTH_TAG_BYTES; fill the tag with setAuthTag.
 */
export function authFrameFor(direction: Direction, seq: number, body: Uint8Array, tagIndex: number | null = null): Uint8Array {
  const trailer = tagIndex === null ? 0 : AUTH_TAG_INDEX_BYTES + AUTH_TAG_BYTES;
  const out = new Uint8Array(AUTH_HEADER_BYTES + body.length + trailer);
  out.set(body, AUTH_HEADER_BYTES);
  writeAuthHeaderAndTrailer(out, direction, seq, tagIndex);
  return out;
}

/**
 * authFrameFor(direction, seq, encodeQkdMessage(m), tagIndex), the message written in
 * place after the header (a detection report is megabytes a second: no copy).
 */
export function encodeAuthFrame(direction: Direction, seq: number, m: QkdMessage, tagIndex: number | null = null): Uint8Array {
  const trailer = tagIndex === null ? 0 : AUTH_TAG_INDEX_BYTES + AUTH_TAG_BYTES;
  const w = new QkdWriter(AUTH_HEADER_BYTES + capacityOf(m) + trailer);
  w.skip(AUTH_HEADER_BYTES);
  writeQkdMessage(w, m);
  w.skip(trailer);
  const out = w.written();
  writeAuthHeaderAndTrailer(out, direction, seq, tagIndex);
  return out;
}

/** The header (and a tagged frame's tag index; the tag is left zero) around a body already in place. */
function writeAuthHeaderAndTrailer(out: Uint8Array, direction: Direction, seq: number, tagIndex: number | null): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = AUTH_FRAME_VERSION;
  out[1] = direction;
  dv.setUint32(2, seq >>> 0, false);
  out[6] = tagIndex === null ? 0 : 1;
  if (tagIndex !== null) dv.setUint32(out.length - AUTH_TAG_BYTES - AUTH_TAG_INDEX_BYTES, tagIndex >>> 0, false);
}

/** The bytes of a frame a transcript absorbs (all but the tag of a tagged frame). */
export function authCoveredBytes(frame: Uint8Array): Uint8Array {
  return frame[6] === 1 ? frame.subarray(0, frame.length - AUTH_TAG_BYTES) : frame;
}

/** Write the 64-bit tag (two big-endian words) into the last 8 bytes of a tagged frame. */
export function setAuthTag(frame: Uint8Array, tagHi: number, tagLo: number): void {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  dv.setUint32(frame.length - AUTH_TAG_BYTES, tagHi >>> 0, false);
  dv.setUint32(frame.length - 4, tagLo >>> 0, false);
}

/** Split a frame; the body is NOT decoded (a tagged frame: verify the tag first). */
export function decodeAuthFrame(frame: Uint8Array): AuthFrame {
  if (frame.length < AUTH_HEADER_BYTES + 1) {
    throw new ProtocolError('FRAME_TOO_SHORT', `qkd frame of ${frame.length} bytes`, { length: frame.length });
  }
  if (frame[0] !== AUTH_FRAME_VERSION) {
    throw new ProtocolError('HEADER_INVALID', `qkd frame version ${frame[0]}`, { field: 'version', value: frame[0] });
  }
  if (frame[1] > 1) throw new ProtocolError('HEADER_INVALID', `direction ${frame[1]}`, { field: 'direction', value: frame[1] });
  if (frame[6] > 1) throw new ProtocolError('HEADER_INVALID', `tagged flag ${frame[6]}`, { field: 'tagged', value: frame[6] });
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const seq = dv.getUint32(2, false);
  if (frame[6] === 0) {
    return { direction: frame[1] as Direction, seq, body: frame.subarray(AUTH_HEADER_BYTES), tag: null, covered: frame };
  }
  const trailer = AUTH_TAG_INDEX_BYTES + AUTH_TAG_BYTES;
  if (frame.length < AUTH_HEADER_BYTES + 1 + trailer) {
    throw new ProtocolError('FRAME_TOO_SHORT', `tagged qkd frame of ${frame.length} bytes`, { length: frame.length });
  }
  const t = frame.length - AUTH_TAG_BYTES;
  return {
    direction: frame[1] as Direction,
    seq,
    body: frame.subarray(AUTH_HEADER_BYTES, t - AUTH_TAG_INDEX_BYTES),
    tag: { index: dv.getUint32(t - AUTH_TAG_INDEX_BYTES, false), hi: dv.getUint32(t, false), lo: dv.getUint32(t + 4, false) },
    covered: frame.subarray(0, t),
  };
}
