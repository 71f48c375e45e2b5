/** Contract between `npm run decode` and its format decoders (hil/decode/<format>.ts). */
export type DecodeRecord = Record<string, unknown>;
export type Emit = (record: DecodeRecord) => void;

export interface DecodeResult {
  /** Units the format counts (packets, frames): how many decoded cleanly. */
  valid: number;
  /** How many were reported with an `error`. */
  invalid: number;
  /** Input octets that belong to no unit (searched past, dropped); any makes the exit 1. */
  skippedBytes?: number;
  /** Octets of a unit cut off by the end of the input; any makes the exit 1. */
  truncatedBytes?: number;
  /** Warnings for stderr, one line each, said once for the whole input (not per unit). */
  notes?: string[];
  /** Extra summary lines for stderr (counters, gaps per APID, ...). */
  summary: Record<string, unknown>;
}
