import { CUC_BYTES, MISSION_EPOCH_UNIX_MS, PEC_BYTES, PUS_VERSION } from '../pus.ts';
import { SEQ_FLAGS_UNSEGMENTED } from '../space-packet.ts';
import { u16, u32, u8, uBits } from './fields.ts';
import { DICTIONARY } from './index.ts';
import { APID_PAYLOAD, DESTINATION_ID_GROUND, SOURCE_ID_GROUND } from './mission.ts';
import { type FieldDef, type FieldType, SEVERITY_SUBTYPE } from './types.ts';

/**
 * The wire facts every export (JSON, XTCE, COSMOS) is derived from: the header layouts,
 * the time format, the packet error control, and each packet of the dictionary with its
 * identifying field (SID, event id, ST08 function id) taken from its compiled layout.
 * The header tables describe what protocols/pus.ts writes; the export tests re-encode
 * packets from them and compare bytes with pus.ts, so the two cannot drift apart.
 */

/** A header field whose value is the same in every packet of this mission. */
export type HeaderField = FieldDef & { fixed?: number };

const fixed = (f: FieldDef, value: number): HeaderField => ({ ...f, fixed: value });

/** CCSDS 133.0-B-2 primary header, 6 octets. */
export const PRIMARY_HEADER: readonly HeaderField[] = [
  fixed(uBits('version', 3, 'packet version number'), 0),
  uBits('type', 1, 'packet type: 0 TM, 1 TC'),
  fixed(uBits('secondaryHeaderFlag', 1, 'secondary header present'), 1),
  uBits('apid', 11, 'application process id'),
  fixed(uBits('sequenceFlags', 2, 'sequence flags: 3 = unsegmented'), SEQ_FLAGS_UNSEGMENTED),
  uBits('sequenceCount', 14, 'packet sequence count (TM) or packet name (TC)'),
  u16('dataLength', 'octets in the packet data field minus one (secondary header + application data + PEC - 1)'),
];

/** PUS-C TC secondary header, 5 octets. */
export const TC_SECONDARY_HEADER: readonly HeaderField[] = [
  fixed(uBits('pusVersion', 4, 'TC packet PUS version number'), PUS_VERSION),
  uBits('ackFlags', 4, 'acknowledgement flags: bit 3 (0x8) completion, 0x4 progress, 0x2 start, 0x1 acceptance'),
  u8('service', 'service type'),
  u8('subtype', 'message subtype'),
  u16('sourceId', 'source id'),
];

/** Bit values of the TC acknowledgement flags within ackFlags. */
export const ACK_FLAG_BITS = { acceptance: 0x1, start: 0x2, progress: 0x4, completion: 0x8 } as const;

/** PUS-C TM secondary header, 13 octets (the time is CUC 4+2). */
export const TM_SECONDARY_HEADER: readonly HeaderField[] = [
  fixed(uBits('pusVersion', 4, 'TM packet PUS version number'), PUS_VERSION),
  uBits('timeRefStatus', 4, 'spacecraft time reference status'),
  u8('service', 'service type'),
  u8('subtype', 'message subtype'),
  u16('msgTypeCounter', 'message type counter'),
  u16('destinationId', 'destination id'),
  u32('timeCoarse', 'CUC coarse time: whole seconds since the epoch', { unit: 's' }),
  u16('timeFine', 'CUC fine time: units of 1/65536 s'),
];

/** Mission time: CUC 4+2 with an implicit P-field. */
export const TIME_FORMAT = {
  format: 'CUC',
  pField: 'implicit (not in the packet)',
  coarseOctets: 4,
  fineOctets: CUC_BYTES - 4,
  fineResolutionS: 2 ** -16,
  epoch: new Date(MISSION_EPOCH_UNIX_MS).toISOString(),
  timeScale: 'UTC',
} as const;

/** Packet error control: CRC-16/IBM-3740 (a.k.a. CRC-16/CCITT-FALSE) in the last two octets. */
export const PEC = {
  algorithm: 'CRC-16/IBM-3740',
  octets: PEC_BYTES,
  width: 16,
  polynomial: 0x1021,
  init: 0xffff,
  reflectIn: false,
  reflectOut: false,
  xorOut: 0x0000,
  /** The CRC of the ASCII octets "123456789". */
  check: 0x29b1,
  covers: 'every octet of the packet before the PEC (primary header, secondary header, application data)',
} as const;

export const WIRE_DEFAULTS = { apid: APID_PAYLOAD, sourceId: SOURCE_ID_GROUND, destinationId: DESTINATION_ID_GROUND } as const;

export interface WirePacket {
  kind: 'command' | 'housekeeping' | 'event' | 'report';
  name: string;
  type: 'TC' | 'TM';
  apid: number;
  service: number;
  subtype: number;
  /** The identifying field in front of the application data, with its value (SID, event id, function id). */
  id?: { field: FieldDef; value: number };
  /** The named fields after the id field. */
  fields: readonly FieldDef[];
  description: string;
  /** Commands only: the operator confirms it before it is sent (CommandDef.hazardous). */
  hazardous?: boolean;
}

/** Every packet of the dictionary, commands first, then housekeeping, events and reports. */
export function wirePackets(): WirePacket[] {
  const d = DICTIONARY;
  const base = { apid: APID_PAYLOAD };
  return [
    ...d.commands.map((c): WirePacket => ({
      ...base,
      kind: 'command',
      type: 'TC',
      name: c.name,
      service: c.service,
      subtype: c.subtype,
      ...(c.functionId !== undefined ? { id: { field: c.layout.fields[0], value: c.functionId } } : {}),
      fields: c.fields,
      description: c.description,
      hazardous: c.hazardous ?? false,
    })),
    ...d.housekeeping.map((h): WirePacket => ({
      ...base,
      kind: 'housekeeping',
      type: 'TM',
      name: h.name,
      service: 3,
      subtype: 25,
      id: { field: h.layout.fields[0], value: h.sid },
      fields: h.fields,
      description: h.description,
    })),
    ...d.events.map((e): WirePacket => ({
      ...base,
      kind: 'event',
      type: 'TM',
      name: e.name,
      service: 5,
      subtype: SEVERITY_SUBTYPE[e.severity],
      id: { field: e.layout.fields[0], value: e.id },
      fields: e.fields,
      description: e.description,
    })),
    ...d.reports.map((r): WirePacket => ({ ...base, kind: 'report', type: 'TM', name: r.name, service: r.service, subtype: r.subtype, fields: r.fields, description: r.description })),
  ];
}

/** Bits a field occupies before any variable part: its width, or its length prefix. */
export function fixedBits(t: FieldType): number {
  return t.kind === 'bytes' || t.kind === 'string' ? t.lengthBits : t.bits;
}

/** Bit offset of each field from the start of the list; null after a variable-length field. */
export function bitOffsets(fields: readonly FieldDef[]): (number | null)[] {
  let bit: number | null = 0;
  return fields.map((f) => {
    const at = bit;
    bit = bit === null || f.type.kind === 'bytes' || f.type.kind === 'string' ? null : bit + fixedBits(f.type);
    return at;
  });
}
