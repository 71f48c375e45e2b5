import { type DecodedPacket, decodeWithDictionary } from './dictionary/index.ts';
import { isProtocolError, type ProtocolError } from './errors.ts';
import { decodePus, PEC_BYTES, peekPusHeaders, PUS_VERSION, type PusPacket, TC_SECONDARY_HEADER_BYTES, TM_SECONDARY_HEADER_BYTES } from './pus.ts';
import { checkIdlePacket, IDLE_APID, PRIMARY_HEADER_BYTES, type PrimaryHeader, readPrimaryHeader } from './space-packet.ts';

/** Which check refused a packet: its framing (headers, length field, PEC), or the dictionary (a well-formed packet whose data do not fit). */
export type FailedLayer = 'transport' | 'dictionary';

/**
 * One entry of a scanned stream of concatenated space packets. A failed entry carries
 * what its headers say (peekPusHeaders: unverified when the layer is 'transport').
 */
export type ScannedPacket =
  | { offset: number; length: number; ok: true; packet: DecodedPacket }
  | { offset: number; length: number; ok: true; idle: PrimaryHeader }
  | { offset: number; length: number; ok: false; layer: FailedLayer; error: ProtocolError; header?: PrimaryHeader; pus?: PusPacket };

type Good = Extract<ScannedPacket, { ok: true }>;
type DictionaryFailure = Extract<ScannedPacket, { ok: false }> & { layer: 'dictionary' };

/**
 * A packet at `offset` that passed its framing checks: a whole valid packet (a checked
 * PUS packet, or an idle packet in its one legal form), or a well-formed PUS packet the
 * dictionary refuses. Throws ProtocolError when the framing fails.
 */
function packetAt(buf: Uint8Array, offset: number): Good | DictionaryFailure {
  const h = readPrimaryHeader(buf, offset);
  if (h.apid === IDLE_APID && !h.secondaryHeader) {
    checkIdlePacket(buf, offset);
    return { offset, length: PRIMARY_HEADER_BYTES + h.dataLength + 1, ok: true, idle: h };
  }
  const pus = decodePus(buf, offset);
  try {
    return { offset, length: pus.length, ok: true, packet: decodeWithDictionary(pus) };
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return { offset, length: pus.length, ok: false, layer: 'dictionary', error: e, header: pus.header, pus: pus.packet };
  }
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

/** The first packet whose framing passes (headers, length, PEC) in [from, buf.length), or undefined. */
function nextPacket(buf: Uint8Array, from: number): Good | DictionaryFailure | undefined {
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
 * Walks a buffer of concatenated space packets. A packet whose headers, length and PEC
 * check out but whose data the dictionary refuses is reported alone (layer
 * 'dictionary') and the walk goes on at its end: its framing is sound, so one packet
 * another implementation filled differently costs only its own record. After a packet
 * whose framing fails (layer 'transport') the scan resumes at the byte after its start,
 * not at its declared end: the declared length is exactly what a damaged header gets
 * wrong, so every packet that starts inside the failed span and passes its PEC is found
 * and reported. The failed record spans from the bad packet to the next such packet (or
 * the end of the buffer: a truncated last packet). Idle packets count only in their one
 * legal form (checkIdlePacket), so payload bytes that look like an idle header cannot
 * pass as a packet and swallow real ones.
 */
export function* scanPackets(buf: Uint8Array): Generator<ScannedPacket> {
  let o = 0;
  while (o < buf.length) {
    let error: ProtocolError;
    try {
      const p = packetAt(buf, o);
      yield p;
      o += p.length;
      continue;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      error = e;
    }
    const next = nextPacket(buf, o + 1);
    const end = next ? next.offset : buf.length;
    const { header, packet } = peekPusHeaders(buf, o);
    yield { offset: o, length: end - o, ok: false, layer: 'transport', error, header, pus: packet };
    if (!next) return;
    yield next;
    o = next.offset + next.length;
  }
}
