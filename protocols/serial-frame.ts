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
}
