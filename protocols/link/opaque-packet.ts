import { ProtocolError } from '../errors.ts';
import { packetLength, PRIMARY_HEADER_BYTES, readPrimaryHeader, SEQ_FLAGS_UNSEGMENTED, writePrimaryHeader, type PacketType } from '../space-packet.ts';

/**
 * The space packets the optical link carries for itself on its own APIDs
 * (LINK_APID in mission.ts: distillation segments, relay data): primary header with
 * no secondary header, unsegmented, then the data field as is.
 */
export interface OpaquePacket {
  apid: number;
  /** 14-bit sequence count. */
  seq: number;
  /** The data field (a view into the packet's bytes). */
  data: Uint8Array;
}

/** Throws FIELD_OUT_OF_RANGE for a bad APID or sequence count, or an empty or over-long data field (1..65536 octets). */
export function encodeOpaquePacket(type: PacketType, apid: number, seq: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(PRIMARY_HEADER_BYTES + data.length);
  writePrimaryHeader(out, 0, { type, secondaryHeader: false, apid, sequenceFlags: SEQ_FLAGS_UNSEGMENTED, seq, dataLength: data.length - 1 });
  out.set(data, PRIMARY_HEADER_BYTES);
  return out;
}

/** Throws PACKET_TOO_SHORT, HEADER_INVALID (version) or LENGTH_MISMATCH (length field against the octets present). */
export function decodeOpaquePacket(bytes: Uint8Array): OpaquePacket {
  const h = readPrimaryHeader(bytes, 0);
  if (packetLength(h) !== bytes.length) {
    throw new ProtocolError('LENGTH_MISMATCH', `packet length field says ${packetLength(h)} octets, ${bytes.length} present`, {
      field: 'dataLength',
      value: h.dataLength,
      length: bytes.length,
    });
  }
  return { apid: h.apid, seq: h.seq, data: bytes.subarray(PRIMARY_HEADER_BYTES) };
}
