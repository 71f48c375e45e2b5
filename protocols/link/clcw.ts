import { ProtocolError } from '../errors.ts';

/**
 * Communications Link Control Word (CCSDS 232.0-B, 4 octets), carried in the TM
 * operational control field. Bits, MSB first:
 *   control word type 1 (0) · version 2 (00) · status field 3 · COP in effect 2 (01) ·
 *   VCID 6 · spare 2 · no RF available 1 · no bit lock 1 · lockout 1 · wait 1 ·
 *   retransmit 1 · FARM-B counter 2 · spare 1 · report value (N(R)) 8
 */
export interface Clcw {
  statusField: number;
  copInEffect: number;
  vcid: number;
  noRfAvailable: boolean;
  noBitLock: boolean;
  lockout: boolean;
  wait: boolean;
  retransmit: boolean;
  farmBCounter: number;
  /** N(R): the next expected frame sequence number, V(R). */
  reportValue: number;
}

export function encodeClcw(c: Clcw): number {
  return (
    (((c.statusField & 7) << 26) |
      ((c.copInEffect & 3) << 24) |
      ((c.vcid & 0x3f) << 18) |
      ((c.noRfAvailable ? 1 : 0) << 15) |
      ((c.noBitLock ? 1 : 0) << 14) |
      ((c.lockout ? 1 : 0) << 13) |
      ((c.wait ? 1 : 0) << 12) |
      ((c.retransmit ? 1 : 0) << 11) |
      ((c.farmBCounter & 3) << 9) |
      (c.reportValue & 0xff)) >>>
    0
  );
}

/** Decodes an OCF word as a CLCW; HEADER_INVALID when it is not a type-0, version-0 word. */
export function decodeClcw(word: number): Clcw {
  const w = word >>> 0;
  if (w >>> 31 !== 0) throw new ProtocolError('HEADER_INVALID', 'OCF holds a type-1 report, not a CLCW', { field: 'controlWordType' });
  const version = (w >>> 29) & 3;
  if (version !== 0) throw new ProtocolError('HEADER_INVALID', `CLCW version ${version}, expected 0`, { field: 'version', value: version });
  return {
    statusField: (w >>> 26) & 7,
    copInEffect: (w >>> 24) & 3,
    vcid: (w >>> 18) & 0x3f,
    noRfAvailable: ((w >>> 15) & 1) === 1,
    noBitLock: ((w >>> 14) & 1) === 1,
    lockout: ((w >>> 13) & 1) === 1,
    wait: ((w >>> 12) & 1) === 1,
    retransmit: ((w >>> 11) & 1) === 1,
    farmBCounter: (w >>> 9) & 3,
    reportValue: w & 0xff,
  };
}
