import { cobsDecode, cobsEncode } from './cobs.ts';
import { crc32c } from './crc.ts';
import { countError, type ErrorCounts, isProtocolError, ProtocolError } from './errors.ts';

/**
 * Serial-line framing: COBS(payload ‖ CRC-32C big-endian) followed by one 0x00.
 * The 0x00 delimiter lets a receiver resynchronise after any garbage: the stream is
 * split on 0x00 (by @serialport/parser-delimiter at the I/O edge) and each chunk is
 * handed to `decodeSerialFrame`.
 */
export const FRAME_DELIMITER = 0x00;
export const FRAME_CRC_BYTES = 4;
/** Largest payload a frame may carry unless a link says otherwise. */
export const DEFAULT_MAX_FRAME_PAYLOAD = 4096;

export function encodeSerialFrame(payload: Uint8Array): Uint8Array {
  const withCrc = new Uint8Array(payload.length + FRAME_CRC_BYTES);
  withCrc.set(payload);
  const crc = crc32c(payload);
  const n = payload.length;
  withCrc[n] = crc >>> 24;
  withCrc[n + 1] = (crc >>> 16) & 0xff;
  withCrc[n + 2] = (crc >>> 8) & 0xff;
  withCrc[n + 3] = crc & 0xff;
  // cobsEncode leaves one zeroed byte at the end: the delimiter.
  return cobsEncode(withCrc, 1);
}

/** Worst-case encoded size (COBS overhead + CRC + delimiter) of a payload. */
export function maxEncodedFrameLength(payloadLength: number): number {
  const n = payloadLength + FRAME_CRC_BYTES;
  return n + Math.ceil(n / 254) + 1 + 1;
}

/**
 * Decodes one delimited chunk (the bytes between two 0x00, delimiter excluded).
 * Throws ProtocolError FRAME_TOO_LONG, COBS_INVALID, FRAME_TOO_SHORT or CRC_MISMATCH.
 */
export function decodeSerialFrame(chunk: Uint8Array, maxPayload = DEFAULT_MAX_FRAME_PAYLOAD): Uint8Array {
  if (chunk.length > maxEncodedFrameLength(maxPayload) - 1) {
    throw new ProtocolError('FRAME_TOO_LONG', `frame of ${chunk.length} encoded bytes exceeds the ${maxPayload}-byte payload limit`, {
      encodedLength: chunk.length,
      maxPayload,
    });
  }
  const raw = cobsDecode(chunk);
  if (raw.length < FRAME_CRC_BYTES) {
    throw new ProtocolError('FRAME_TOO_SHORT', `frame of ${raw.length} bytes is shorter than its CRC`, { length: raw.length });
  }
  const n = raw.length - FRAME_CRC_BYTES;
  const got = ((raw[n] << 24) | (raw[n + 1] << 16) | (raw[n + 2] << 8) | raw[n + 3]) >>> 0;
  const want = crc32c(raw, 0, n);
  if (got !== want) {
    throw new ProtocolError('CRC_MISMATCH', `frame CRC-32C 0x${hex32(got)} != computed 0x${hex32(want)}`, { got, want });
  }
  return raw.subarray(0, n);
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, '0');
}

// CRC-32C run backwards: one register step is invertible because the top octet of
// every table entry is distinct. The table comes from crc32c itself (one byte from a
// zero register), so the polynomial lives in crc.ts only.
const CRC32C_STEP = Uint32Array.from({ length: 256 }, (_, i) => ~crc32c(Uint8Array.of(i), 0, 1, 0xffffffff) >>> 0);
const CRC32C_STEP_BY_TOP = (() => {
  const t = new Uint8Array(256);
  CRC32C_STEP.forEach((v, i) => (t[v >>> 24] = i));
  return t;
})();
/** The register before octet `b` was shifted in, given the register after it. */
function crc32cUnstep(after: number, b: number): number {
  const i = CRC32C_STEP_BY_TOP[after >>> 24];
  return (((after ^ CRC32C_STEP[i]) << 8) | ((i ^ b) & 0xff)) >>> 0;
}

/**
 * A good frame at the end of a chunk that failed as a whole: when the delimiter in
 * front of a frame is hit (a flipped 0x00), that frame arrives glued to the bytes
 * before it. Finds the earliest start s > 0 such that chunk[s..] is a whole frame
 * (COBS blocks ending exactly at the chunk's end, CRC-32C right, payload of 1 to
 * `maxPayload` octets), or null.
 *
 * Linear in the chunk: COBS block codes chain each start to the next (s -> s + code),
 * so the starts whose chain ends at the chunk's end form a tree, and each start's
 * decoded bytes are its own block followed by its successor's. Running the CRC
 * backwards from the end gives, for every start, the register its frame must begin
 * with; the frame is good when that is the CRC's initial value. Each start costs its
 * own block only.
 */
export function findTrailingFrame(chunk: Uint8Array, maxPayload = DEFAULT_MAX_FRAME_PAYLOAD): { offset: number; payload: Uint8Array } | null {
  const n = chunk.length;
  const maxEncoded = maxEncodedFrameLength(maxPayload) - 1;
  // decoded[s]: octets that chunk[s..n) decodes to (-1: its chain does not end at n);
  // need[s]: the CRC register required before those octets (when decoded[s] >= 4).
  const decoded = new Int32Array(n + 1).fill(-1);
  const need = new Uint32Array(n + 1);
  decoded[n] = 0;
  let best = -1;
  for (let s = n - 1; s >= 1; s--) {
    const code = chunk[s];
    const t = s + code;
    if (code === 0 || t > n || decoded[t] < 0) continue;
    const zero = code !== 0xff && t < n ? 1 : 0;
    const len = code - 1 + zero + decoded[t];
    decoded[s] = len;
    if (len < FRAME_CRC_BYTES) continue;
    let r: number;
    let from: number; // this block's octets before `from` still have to be run back
    if (decoded[t] >= FRAME_CRC_BYTES) {
      r = need[t];
      if (zero) r = crc32cUnstep(r, 0);
      from = t;
    } else {
      // The CRC octets reach into this block: decode the short tail and start there.
      const raw = cobsDecode(chunk, s, n);
      const m = raw.length - FRAME_CRC_BYTES;
      r = ~(((raw[m] << 24) | (raw[m + 1] << 16) | (raw[m + 2] << 8) | raw[m + 3]) >>> 0) >>> 0;
      for (let i = m - 1; i >= Math.min(m, code - 1); i--) r = crc32cUnstep(r, raw[i]);
      from = s + 1 + Math.min(m, code - 1);
    }
    for (let i = from - 1; i > s; i--) r = crc32cUnstep(r, chunk[i]);
    need[s] = r;
    // An empty payload is never taken: its CRC is 0, so any run of five 0x01 (four zeros) would pass.
    if (r === 0xffffffff && n - s <= maxEncoded && len > FRAME_CRC_BYTES && len - FRAME_CRC_BYTES <= maxPayload) best = s;
  }
  if (best < 0) return null;
  return { offset: best, payload: cobsDecode(chunk, best, n).subarray(0, decoded[best] - FRAME_CRC_BYTES) };
}

/**
 * Stateful receiver over delimited chunks: counts good frames and each kind of error,
 * never throws on bad input. Empty chunks (back-to-back delimiters, used to flush a
 * line) are not errors.
 */
export class SerialFrameReceiver {
  framesOk = 0;
  readonly errors: ErrorCounts = {};

  constructor(readonly maxPayload = DEFAULT_MAX_FRAME_PAYLOAD) {}

  /** Returns the payload, or a ProtocolError describing why the chunk was dropped, or null for an empty chunk. */
  accept(chunk: Uint8Array): Uint8Array | ProtocolError | null {
    if (chunk.length === 0) return null;
    try {
      const payload = decodeSerialFrame(chunk, this.maxPayload);
      this.framesOk++;
      return payload;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      countError(this.errors, e);
      return e;
    }
  }

  /**
   * After `accept` refused a chunk: a good frame at its end (see findTrailingFrame),
   * counted as received, or null. Call it for every refused chunk so no intact frame
   * is lost when only the delimiter in front of it was hit.
   */
  recover(chunk: Uint8Array): Uint8Array | null {
    const found = findTrailingFrame(chunk, this.maxPayload);
    if (!found) return null;
    this.framesOk++;
    return found.payload;
  }

  get framesDropped(): number {
    return Object.values(this.errors).reduce((a, b) => a + (b ?? 0), 0);
  }
}

/**
 * Pure splitter for in-memory use (tests, offline decoding of a buffer): the same
 * 0x00-delimiting as @serialport/parser-delimiter, with a bound on buffered bytes so
 * a line of garbage without a delimiter cannot grow memory without limit.
 */
export class DelimitedSplitter {
  private buf: Uint8Array = new Uint8Array(0);
  overflowBytes = 0;

  constructor(readonly maxChunk = maxEncodedFrameLength(DEFAULT_MAX_FRAME_PAYLOAD)) {}

  push(data: Uint8Array): Uint8Array[] {
    let joined = data;
    if (this.buf.length > 0) {
      joined = new Uint8Array(this.buf.length + data.length);
      joined.set(this.buf);
      joined.set(data, this.buf.length);
    }
    const chunks: Uint8Array[] = [];
    let start = 0;
    for (let i = joined.indexOf(FRAME_DELIMITER); i >= 0; i = joined.indexOf(FRAME_DELIMITER, start)) {
      chunks.push(joined.subarray(start, i));
      start = i + 1;
    }
    let rest = joined.subarray(start);
    if (rest.length > this.maxChunk) {
      // Keep only the tail: the head can never become a valid frame. The next
      // delimiter then yields an over-long chunk that is counted as FRAME_TOO_LONG.
      this.overflowBytes += rest.length - this.maxChunk;
      rest = rest.subarray(rest.length - this.maxChunk);
    }
    this.buf = rest.slice();
    return chunks;
  }

  /** Takes the bytes buffered after the last delimiter (at the end of input: an unterminated frame). */
  flush(): Uint8Array {
    const rest = this.buf;
    this.buf = new Uint8Array(0);
    return rest;
  }
}
