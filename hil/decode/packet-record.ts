import { type DecodedPacket, decodeWithDictionary, type FieldValues, matchPacket } from '../../protocols/dictionary/index.ts';
import { isProtocolError, type ProtocolError } from '../../protocols/errors.ts';
import type { FailedLayer, ScannedPacket } from '../../protocols/packet-stream.ts';
import { cucToSeconds, type DecodedPus, decodePus, peekPusHeaders, type PusPacket } from '../../protocols/pus.ts';
import { packetLength, type PrimaryHeader } from '../../protocols/space-packet.ts';
import type { DecodeRecord } from './types.ts';

/** The JSON form of a packet that every decoder format prints (one JSON Lines object). */
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function jsonFields(f: FieldValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) out[k] = v instanceof Uint8Array ? hex(v) : v;
  return out;
}

/**
 * Every fact a packet's headers give, in one place for good and refused packets alike:
 * the primary header, the PUS-C secondary header and the leading SID / event id /
 * function id, when the bytes hold them. `length` is the octets the record spans.
 */
function headerFacts(length: number | undefined, header?: PrimaryHeader, pus?: PusPacket): DecodeRecord {
  const r: DecodeRecord = {};
  if (header) {
    r.apid = header.apid;
    r.type = header.type;
    r.seqFlags = header.sequenceFlags;
    r.seq = header.seq;
  }
  if (length !== undefined) r.length = length;
  if (header && packetLength(header) !== length) r.declaredLength = packetLength(header);
  if (!pus) return r;
  r.service = pus.service;
  r.subtype = pus.subtype;
  if (pus.type === 'TM') {
    r.timeS = cucToSeconds(pus.time);
    r.msgTypeCounter = pus.msgTypeCounter;
  } else {
    r.sourceId = pus.sourceId;
  }
  const m = matchPacket(pus);
  if (m.sid !== undefined) r.sid = m.sid;
  if (m.eventId !== undefined) r.eventId = m.eventId;
  if (m.functionId !== undefined) r.functionId = m.functionId;
  if (m.name !== undefined) {
    r.kind = m.kind;
    r.name = m.name;
  }
  return r;
}

export function decodedRecord(p: DecodedPacket): DecodeRecord {
  const r = headerFacts(p.length, p.header, p.pus);
  if (p.name !== undefined && p.fields !== undefined) {
    r.kind = p.kind;
    r.name = p.name;
    r.fields = jsonFields(p.fields);
  } else {
    r.kind = 'unknown';
    r.appDataHex = hex(p.pus.appData);
  }
  return r;
}

/**
 * A refused unit: the error, which layer refused it (`transport`: framing, headers,
 * length field, PEC or CRC, truncation; `dictionary`: well formed, but the data do not
 * fit the dictionary's layout or ranges) and every header fact that could be read.
 */
export function errorRecord(e: ProtocolError, layer: FailedLayer, facts: DecodeRecord = {}): DecodeRecord {
  return { ...facts, error: e.message, code: e.code, layer };
}

export function scannedRecord(s: ScannedPacket): DecodeRecord {
  if (!s.ok) return errorRecord(s.error, s.layer, { offset: s.offset, ...headerFacts(s.length, s.header, s.pus) });
  if ('idle' in s) return { offset: s.offset, apid: s.idle.apid, type: s.idle.type, seq: s.idle.seq, length: s.length, idle: true };
  return { offset: s.offset, ...decodedRecord(s.packet) };
}

/** One packet's bytes to its record; never throws on bad bytes. */
export function packetRecord(bytes: Uint8Array): DecodeRecord {
  let pus: DecodedPus;
  try {
    pus = decodePus(bytes);
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    const { header, packet } = peekPusHeaders(bytes);
    return errorRecord(e, 'transport', headerFacts(bytes.length, header, packet));
  }
  let r: DecodeRecord;
  try {
    r = decodedRecord(decodeWithDictionary(pus));
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    r = errorRecord(e, 'dictionary', headerFacts(pus.length, pus.header, pus.packet));
  }
  // Octets after the packet are a framing fault, whatever the dictionary made of it.
  if (pus.length !== bytes.length) return { ...r, error: `${bytes.length - pus.length} octets after the packet`, code: 'LENGTH_MISMATCH', layer: 'transport' };
  return r;
}
