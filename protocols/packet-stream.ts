import { decodePacket, type DecodedPacket } from './dictionary/index.ts';
import { isProtocolError, type ProtocolError } from './errors.ts';
import { PEC_BYTES, PUS_VERSION, TC_SECONDARY_HEADER_BYTES, TM_SECONDARY_HEADER_BYTES } from './pus.ts';
import { checkIdlePacket, IDLE_APID, PRIMARY_HEADER_BYTES, type PrimaryHeader, readPrimaryHeader } from './space-packet.ts';

/** One entry of a scanned stream of concatenated space packets. */
export type ScannedPacket =
  | { offset: number; length: number; ok: true; packet: DecodedPacket }
  | { offset: number; length: number; ok: true; idle: PrimaryHeader }
  | { offset: number; length: number; ok: false; error: ProtocolError; header?: PrimaryHeader };

type Good = Extract<ScannedPacket, { ok: true }>;

/** A whole valid packet at `offset` (a checked PUS packet, or an idle packet in its one legal form); throws ProtocolError. */
function packetAt(buf: Uint8Array, offset: number): Good {
  const h = readPrimaryHeader(buf, offset);
  if (h.apid === IDLE_APID && !h.secondaryHeader) {
    checkIdlePacket(buf, offset);
    return { offset, length: PRIMARY_HEADER_BYTES + h.dataLength + 1, ok: true, idle: h };
  }
  const packet = decodePacket(buf, offset);
  return { offset, length: packet.length, ok: true, packet };
}

/**
 * Cheap, non-throwing test of what `packetAt` would refuse for certain (version, flags,
 * lengths, PUS version), so a resynchronising scan over every offset only computes a
 * PEC where one can match. It never refuses a packet that `packetAt` accepts.
 */
function mayStartAt(buf: Uint8Array, o: number): boolean {
  if (buf.length - o < PRIMARY_HEADER_BYTES + 1 || buf[o] >>> 5 !== 0) return false;
  const len = PRIMARY_HEADER_BYTES + ((buf[o + 4] << 8) | buf[o + 5]) + 1;
  if (o + len > buf.length) return false;
  if ((buf[o] & 0x08) === 0) return ((buf[o] & 0x07) << 8 | buf[o + 1]) === IDLE_APID && buf[o + PRIMARY_HEADER_BYTES] === 0;
  const secLen = buf[o] & 0x10 ? TC_SECONDARY_HEADER_BYTES : TM_SECONDARY_HEADER_BYTES;
  return len >= PRIMARY_HEADER_BYTES + secLen + PEC_BYTES && buf[o + PRIMARY_HEADER_BYTES] >>> 4 === PUS_VERSION;
}

/** The first valid packet starting in [from, buf.length), or undefined. */
function nextPacket(buf: Uint8Array, from: number): Good | undefined {
  for (let o = from; o < buf.length; o++) {
    if (!mayStartAt(buf, o)) continue;
    try {
      return packetAt(buf, o);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
    }
  }
  return undefined;
}

/**
 * Walks a buffer of concatenated space packets. After a packet that fails, the scan
 * resumes at the byte after its start, not at its declared end: the declared length
 * is exactly what a damaged header gets wrong, so every valid packet that starts
 * inside the failed span is found and reported. The failed record spans from the bad
 * packet to the next valid one (or the end of the buffer: a truncated last packet).
 * Idle packets count only in their one legal form (checkIdlePacket), so payload bytes
 * that look like an idle header cannot pass as a packet and swallow real ones.
 */
export function* scanPackets(buf: Uint8Array): Generator<ScannedPacket> {
  let o = 0;
  while (o < buf.length) {
    let header: PrimaryHeader | undefined;
    let error: ProtocolError;
    try {
      header = readPrimaryHeader(buf, o);
      const good = packetAt(buf, o);
      yield good;
      o += good.length;
      continue;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      error = e;
    }
    const next = nextPacket(buf, o + 1);
    const end = next ? next.offset : buf.length;
    yield { offset: o, length: end - o, ok: false, error, header };
    if (!next) return;
    yield next;
    o = next.offset + next.length;
  }
}
