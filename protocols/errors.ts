/**
 * The one typed error of the wire layer. Every decoder in protocols/ throws only
 * this (never a bare Error or a RangeError from a Buffer read), so callers can count
 * errors by `code` and carry on with the stream.
 */
export type ProtocolErrorCode =
  | 'CRC_MISMATCH'
  | 'COBS_INVALID'
  | 'FRAME_TOO_LONG'
  | 'FRAME_TOO_SHORT'
  | 'PACKET_TOO_SHORT'
  | 'LENGTH_MISMATCH'
  | 'HEADER_INVALID'
  | 'UNKNOWN_PACKET'
  | 'FIELD_INVALID'
  | 'FIELD_OUT_OF_RANGE'
  | 'AUTH_FAILED'
  | 'REPLAY'
  | 'IMAGE_INVALID'
  // Optical link (issue 6): SDLS anti-replay and key lookup.
  | 'SEQUENCE_OUT_OF_WINDOW'
  | 'UNKNOWN_SPI';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    /** Machine-readable context: field name, expected/actual values, offsets. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${code}: ${message}`);
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}

/** Per-code error counters, as a receiver reports them in telemetry. */
export type ErrorCounts = Partial<Record<ProtocolErrorCode, number>>;

export function countError(counts: ErrorCounts, e: ProtocolError): void {
  counts[e.code] = (counts[e.code] ?? 0) + 1;
}
