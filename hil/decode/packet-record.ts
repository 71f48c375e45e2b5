import { type DecodedPacket, decodePacket, type FieldValues } from '../../protocols/dictionary/index.ts';
import { isProtocolError, type ProtocolError } from '../../protocols/errors.ts';
import { cucToSeconds } from '../../protocols/pus.ts';
import type { ScannedPacket } from '../../protocols/packet-stream.ts';
import type { PrimaryHeader } from '../../protocols/space-packet.ts';
import type { DecodeRecord } from './types.ts';

/** The JSON form of a packet that every decoder format prints (one JSON Lines object). */
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function jsonFields(f: FieldValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) out[k] = v instanceof Uint8Array ? hex(v) : v;
  return out;
}

export function decodedRecord(p: DecodedPacket): DecodeRecord {
  const r: DecodeRecord = {
    apid: p.header.apid,
    type: p.header.type,
    seq: p.header.seq,
    length: p.length,
    service: p.pus.service,
    subtype: p.pus.subtype,
  };
  if (p.pus.type === 'TM') {
    r.timeS = cucToSeconds(p.pus.time);
    r.msgTypeCounter = p.pus.msgTypeCounter;
  } else {
    r.sourceId = p.pus.sourceId;
  }
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

export function errorRecord(e: ProtocolError, header?: PrimaryHeader, extra: DecodeRecord = {}): DecodeRecord {
  const r: DecodeRecord = { error: e.message, code: e.code, ...extra };
  if (header) {
    r.apid = header.apid;
    r.type = header.type;
    r.seq = header.seq;
  }
  return r;
}

export function scannedRecord(s: ScannedPacket): DecodeRecord {
  if (!s.ok) return errorRecord(s.error, s.header, { offset: s.offset, length: s.length });
  if ('idle' in s) return { offset: s.offset, apid: s.idle.apid, type: s.idle.type, seq: s.idle.seq, length: s.length, idle: true };
  return { offset: s.offset, ...decodedRecord(s.packet) };
}

/** One packet's bytes to its record; never throws on bad bytes. */
export function packetRecord(bytes: Uint8Array): DecodeRecord {
  try {
    const p = decodePacket(bytes);
    if (p.length !== bytes.length) return { ...decodedRecord(p), error: `${bytes.length - p.length} octets after the packet`, code: 'LENGTH_MISMATCH' };
    return decodedRecord(p);
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return errorRecord(e);
  }
}
