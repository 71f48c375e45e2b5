import { ProtocolError } from '../errors.ts';
import { PRIMARY_HEADER_BYTES, readPrimaryHeader, SEQ_FLAGS_UNSEGMENTED, writePrimaryHeader } from '../space-packet.ts';
import { type Clcw, decodeClcw, encodeClcw } from './clcw.ts';

/**
 * Packet-level go-back-N for a downlink virtual channel, reusing COP-1's FOP-1/FARM-1.
 * A reliable packet's N(S) is its sequence count modulo 256 (the sender numbers them).
 * The receiver's report is a CLCW carried in an acknowledgement space packet:
 *   primary header (TC, no secondary header, apid) ‖ CLCW 4 octets.
 */
export const ARQ_ACK_BYTES = PRIMARY_HEADER_BYTES + 4;

export function arqSequenceNumber(packet: Uint8Array): number {
  return packet[3];
}

/** A copy of `packet` with its 14-bit sequence count set. */
export function withSequenceCount(packet: Uint8Array, seq: number): Uint8Array {
  const p = packet.slice();
  p[2] = (p[2] & 0xc0) | ((seq >>> 8) & 0x3f);
  p[3] = seq & 0xff;
  return p;
}

export function encodeArqAck(apid: number, seq: number, clcw: Clcw): Uint8Array {
  const p = new Uint8Array(ARQ_ACK_BYTES);
  writePrimaryHeader(p, 0, { type: 'TC', secondaryHeader: false, apid, sequenceFlags: SEQ_FLAGS_UNSEGMENTED, seq: seq & 0x3fff, dataLength: 3 });
  const w = encodeClcw(clcw);
  p[6] = w >>> 24;
  p[7] = (w >>> 16) & 0xff;
  p[8] = (w >>> 8) & 0xff;
  p[9] = w & 0xff;
  return p;
}

/** The CLCW of an acknowledgement packet; LENGTH_MISMATCH / HEADER_INVALID when it is not one. */
export function decodeArqAck(packet: Uint8Array, apid: number): Clcw {
  if (packet.length !== ARQ_ACK_BYTES) {
    throw new ProtocolError('LENGTH_MISMATCH', `acknowledgement of ${packet.length} octets, expected ${ARQ_ACK_BYTES}`, { length: packet.length });
  }
  const h = readPrimaryHeader(packet, 0);
  if (h.apid !== apid) throw new ProtocolError('HEADER_INVALID', `APID ${h.apid} is not the acknowledgement APID ${apid}`, { field: 'apid' });
  return decodeClcw(((packet[6] << 24) | (packet[7] << 16) | (packet[8] << 8) | packet[9]) >>> 0);
}
