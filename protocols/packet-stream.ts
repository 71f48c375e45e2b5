import { decodePacket, type DecodedPacket } from './dictionary/index.ts';
import { isProtocolError, ProtocolError } from './errors.ts';
import { decodePus } from './pus.ts';
import { IDLE_APID, packetLength, PRIMARY_HEADER_BYTES, type PrimaryHeader, readPrimaryHeader } from './space-packet.ts';

/** One entry of a scanned stream of concatenated space packets. */
export type ScannedPacket =
  | { offset: number; length: number; ok: true; packet: DecodedPacket }
  | { offset: number; length: number; ok: true; idle: PrimaryHeader }
  | { offset: number; length: number; ok: false; error: ProtocolError; header?: PrimaryHeader };

/** True when a checked PUS packet (header + PEC) or an idle packet starts at `offset`. */
function plausibleAt(buf: Uint8Array, offset: number): boolean {
  try {
    const h = readPrimaryHeader(buf, offset);
    if (h.apid === IDLE_APID) return offset + packetLength(h) <= buf.length;
    decodePus(buf, offset);
    return true;
  } catch {
    return false;
  }
}

/**
 * Walks a buffer of concatenated space packets. A bad packet is reported and skipped
 * by its declared length when a good packet (or the end) follows there; otherwise the
 * scanner resynchronises on the next offset where a packet checks out, so one
 * corrupted length field cannot hide the packets after it.
 */
export function* scanPackets(buf: Uint8Array): Generator<ScannedPacket> {
  let o = 0;
  while (o < buf.length) {
    let header: PrimaryHeader | undefined;
    try {
      header = readPrimaryHeader(buf, o);
      const len = packetLength(header);
      if (header.apid === IDLE_APID && o + len <= buf.length) {
        yield { offset: o, length: len, ok: true, idle: header };
        o += len;
        continue;
      }
      const packet = decodePacket(buf, o);
      yield { offset: o, length: packet.length, ok: true, packet };
      o += packet.length;
      continue;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      let next: number;
      const declaredEnd = header ? o + packetLength(header) : -1;
      if (header && declaredEnd <= buf.length && (declaredEnd === buf.length || plausibleAt(buf, declaredEnd))) {
        next = declaredEnd;
      } else {
        next = o + 1;
        while (next < buf.length && !(buf.length - next >= PRIMARY_HEADER_BYTES && plausibleAt(buf, next))) next++;
      }
      yield { offset: o, length: next - o, ok: false, error: e, header };
      o = next;
    }
  }
}
