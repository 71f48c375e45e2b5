import { ProtocolError } from '../errors.ts';
import { ACK_ALL, type AckFlags, cucFromSeconds, type DecodedPus, decodePus, encodePusTc, encodePusTm, type PusPacket, type PusTc } from '../pus.ts';
import type { PrimaryHeader } from '../space-packet.ts';
import { compileLayout, type Layout } from './codec.ts';
import { payload } from './defs/payload.ts';
import { services } from './defs/services.ts';
import { APID_PAYLOAD, DESTINATION_ID_GROUND, SOURCE_ID_GROUND } from './mission.ts';
import {
  type CommandDef,
  type DictionaryPart,
  type EventDef,
  type FieldDef,
  type FieldValues,
  type HousekeepingDef,
  type ParameterDef,
  type ReportDef,
  SEVERITY_SUBTYPE,
  type ValuesOf,
} from './types.ts';

export * from './mission.ts';
export * from './types.ts';
export { compileLayout, type Layout } from './codec.ts';

/**
 * The payload's command/telemetry dictionary: the single source of truth. Every part
 * is merged here once, checked for duplicate names and ids, and compiled into
 * encoders and binary-parser decoders.
 */
const PARTS: readonly DictionaryPart[] = [services, payload];

type CommandDefs = (typeof services.commands)[number] | (typeof payload.commands)[number];
/** Every telecommand name of the dictionary, as a literal union. */
export type CommandName = CommandDefs['name'];
/** The decoded arguments of a telecommand, typed from its field definitions. */
export type CommandArgs<N extends CommandName> = ValuesOf<Extract<CommandDefs, { name: N }>['fields']>;

export type Compiled<T> = T & { readonly layout: Layout };

/** ST08 commands carry a 16-bit function id in front of their arguments. */
const FUNCTION_ID_FIELD: FieldDef = { name: 'functionId', type: { kind: 'uint', bits: 16 }, description: 'ST08 function id' };

function unique<T>(items: T[], key: (t: T) => string | number, what: string): Map<string | number, T> {
  const m = new Map<string | number, T>();
  for (const it of items) {
    const k = key(it);
    if (m.has(k)) throw new Error(`dictionary: duplicate ${what} ${k}`);
    m.set(k, it);
  }
  return m;
}

const commands = PARTS.flatMap((p) => p.commands ?? []).map(
  (c): Compiled<CommandDef> => ({ ...c, layout: c.functionId === undefined ? compileLayout(c.fields, c.name) : compileLayout([FUNCTION_ID_FIELD, ...c.fields], c.name, 1) }),
);
const reports = PARTS.flatMap((p) => p.reports ?? []).map((r): Compiled<ReportDef> => ({ ...r, layout: compileLayout(r.fields, r.name) }));
const housekeeping = PARTS.flatMap((p) => p.housekeeping ?? []).map(
  (h): Compiled<HousekeepingDef> => ({ ...h, layout: compileLayout([{ name: 'sid', type: { kind: 'uint', bits: 16 }, description: 'structure id' }, ...h.fields], h.name, 1) }),
);
const events = PARTS.flatMap((p) => p.events ?? []).map(
  (e): Compiled<EventDef> => ({ ...e, layout: compileLayout([{ name: 'eventId', type: { kind: 'uint', bits: 16 }, description: 'event id' }, ...e.fields], e.name, 1) }),
);
const parameters = PARTS.flatMap((p) => p.parameters ?? []);

// Names are unique across every kind, so a name alone identifies a packet.
unique([...commands, ...reports, ...housekeeping, ...events], (d) => d.name, 'name');
const commandsByName = unique(commands, (c) => c.name, 'command');
const commandsByKey = unique(
  commands,
  (c) => (c.functionId === undefined ? `${c.service}:${c.subtype}` : `${c.service}:${c.subtype}:${c.functionId}`),
  'command service/subtype/function',
);
const reportsByKey = unique(reports, (r) => `${r.service}:${r.subtype}`, 'report service/subtype');
const hkBySid = unique(housekeeping, (h) => h.sid, 'housekeeping SID');
const eventsById = unique(events, (e) => e.id, 'event id');
const paramsById = unique(parameters, (p) => p.id, 'parameter id');
const paramsByName = unique(parameters, (p) => p.name, 'parameter name');
for (const r of reports) {
  if (r.service === 3 || r.service === 5) throw new Error(`dictionary: report ${r.name} collides with ST03/ST05 reports`);
}

export const DICTIONARY = { commands, reports, housekeeping, events, parameters } as const;

function lookup<T>(map: Map<string | number, T>, key: string | number, what: string): T {
  const v = map.get(key);
  if (v === undefined) throw new ProtocolError('UNKNOWN_PACKET', `unknown ${what} '${key}'`, { [what]: key });
  return v;
}

export const commandDef = (name: string) => lookup(commandsByName, name, 'command') as Compiled<CommandDef>;
export const housekeepingDef = (nameOrSid: string | number) =>
  (typeof nameOrSid === 'number' ? lookup(hkBySid, nameOrSid, 'sid') : lookup(unique(housekeeping, (h) => h.name, 'hk'), nameOrSid, 'housekeeping')) as Compiled<HousekeepingDef>;
export const eventDef = (nameOrId: string | number) =>
  (typeof nameOrId === 'number' ? lookup(eventsById, nameOrId, 'event id') : lookup(unique(events, (e) => e.name, 'ev'), nameOrId, 'event')) as Compiled<EventDef>;
export const reportDef = (name: string) => {
  const r = reports.find((x) => x.name === name);
  if (!r) throw new ProtocolError('UNKNOWN_PACKET', `unknown report '${name}'`, { report: name });
  return r;
};
export const parameterDef = (nameOrId: string | number): ParameterDef =>
  typeof nameOrId === 'number' ? lookup(paramsById, nameOrId, 'parameter id') : lookup(paramsByName, nameOrId, 'parameter');

/** Checks a parameter value against its definition; throws FIELD_OUT_OF_RANGE naming the parameter. */
export function validateParameterValue(p: ParameterDef, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ProtocolError('FIELD_INVALID', `parameter ${p.name}: expected a finite number, got ${JSON.stringify(value)}`, { field: p.name, value });
  }
  if (p.integer && !Number.isInteger(value)) {
    throw new ProtocolError('FIELD_INVALID', `parameter ${p.name}: ${value} is not an integer`, { field: p.name, value });
  }
  if (value < p.range[0] || value > p.range[1]) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `parameter ${p.name}: ${value}${p.unit ? ` ${p.unit}` : ''} outside ${p.range[0]}..${p.range[1]}`, {
      field: p.name,
      value,
      range: p.range,
    });
  }
}

/** Checks that go beyond one field's range (the parameter a SET_PARAM names). */
function crossValidate(def: CommandDef, args: Record<string, unknown>): void {
  if (def.name === 'SET_PARAM' || def.name === 'GET_PARAM') {
    const p = paramsById.get(args.paramId as number);
    if (!p) throw new ProtocolError('FIELD_OUT_OF_RANGE', `field 'paramId': no parameter with id ${args.paramId}`, { field: 'paramId', value: args.paramId });
    if (def.name === 'SET_PARAM') validateParameterValue(p, args.value as number);
  }
}

/** Range/enum-checks and encodes a command's application data (function id included). */
export function encodeCommandAppData(name: string, args: Record<string, unknown> = {}): Uint8Array {
  const def = commandDef(name);
  const full = def.functionId === undefined ? args : { functionId: def.functionId, ...args };
  def.layout.validate(full);
  crossValidate(def, args);
  return def.layout.encode(full);
}

export interface TcOptions {
  apid?: number;
  seq?: number;
  sourceId?: number;
  ack?: AckFlags;
}

/** A complete PUS-C TC packet for a dictionary command; refused before encoding if any field is out of range. */
export function encodeCommand(name: string, args: Record<string, unknown> = {}, opts: TcOptions = {}): Uint8Array {
  const def = commandDef(name);
  return encodePusTc({
    apid: opts.apid ?? APID_PAYLOAD,
    seq: opts.seq ?? 0,
    ack: opts.ack ?? ACK_ALL,
    service: def.service,
    subtype: def.subtype,
    sourceId: opts.sourceId ?? SOURCE_ID_GROUND,
    appData: encodeCommandAppData(name, args),
  });
}

export interface TmOptions {
  seq: number;
  timeS: number;
  msgTypeCounter?: number;
  apid?: number;
  destinationId?: number;
}

function tm(service: number, subtype: number, appData: Uint8Array, o: TmOptions): Uint8Array {
  return encodePusTm({
    apid: o.apid ?? APID_PAYLOAD,
    seq: o.seq,
    timeRefStatus: 0,
    service,
    subtype,
    msgTypeCounter: o.msgTypeCounter ?? 0,
    destinationId: o.destinationId ?? DESTINATION_ID_GROUND,
    time: cucFromSeconds(o.timeS),
    appData,
  });
}

export function encodeReport(name: string, fields: Record<string, unknown>, o: TmOptions): Uint8Array {
  const def = reportDef(name);
  return tm(def.service, def.subtype, def.layout.encode(fields), o);
}

export function encodeHousekeeping(name: string, fields: Record<string, unknown>, o: TmOptions): Uint8Array {
  const def = housekeepingDef(name);
  return tm(3, 25, def.layout.encode({ sid: def.sid, ...fields }), o);
}

export function encodeEvent(name: string, fields: Record<string, unknown>, o: TmOptions): Uint8Array {
  const def = eventDef(name);
  return tm(5, SEVERITY_SUBTYPE[def.severity], def.layout.encode({ eventId: def.id, ...fields }), o);
}

export type PacketKind = 'command' | 'report' | 'housekeeping' | 'event' | 'unknown';

export interface DecodedPacket {
  header: PrimaryHeader;
  pus: PusPacket;
  /** Octets the packet occupied. */
  length: number;
  kind: PacketKind;
  /** Dictionary name, when the dictionary knows the packet. */
  name?: string;
  /** Named engineering values (without the SID / event id / function id prefix). */
  fields?: FieldValues;
}

/** What the dictionary makes of a packet's service, subtype and leading id, before any field is decoded. */
export interface PacketMatch {
  kind: PacketKind;
  /** The dictionary's name for the packet, when service/subtype (and SID, event id or function id) match one. */
  name?: string;
  /** The leading id of TM(3,25), TM(5,x) and TC(8,1), when the application data hold its 16 bits. */
  sid?: number;
  eventId?: number;
  functionId?: number;
}

type Matched = PacketMatch & { def?: Compiled<CommandDef | ReportDef | HousekeepingDef | EventDef> };

const leadingId = (d: Uint8Array): number | undefined => (d.length >= 2 ? (d[0] << 8) | d[1] : undefined);

/** The one lookup behind matchPacket, identifyCommand and identifyTelemetry. */
function lookupPacket(p: Pick<PusPacket, 'type' | 'service' | 'subtype' | 'appData'>): Matched {
  if (p.type === 'TC') {
    const def = commandsByKey.get(`${p.service}:${p.subtype}`);
    if (def) return { kind: 'command', name: def.name, def };
    if (p.service !== 8 || p.subtype !== 1) return { kind: 'unknown' };
    const functionId = leadingId(p.appData);
    const byFid = functionId === undefined ? undefined : commandsByKey.get(`8:1:${functionId}`);
    return byFid ? { kind: 'command', name: byFid.name, functionId, def: byFid } : { kind: 'unknown', functionId };
  }
  if (p.service === 3 && p.subtype === 25) {
    const sid = leadingId(p.appData);
    const def = sid === undefined ? undefined : hkBySid.get(sid);
    return def ? { kind: 'housekeeping', name: def.name, sid, def } : { kind: 'unknown', sid };
  }
  if (p.service === 5 && p.subtype >= 1 && p.subtype <= 4) {
    const eventId = leadingId(p.appData);
    const def = eventId === undefined ? undefined : eventsById.get(eventId);
    return def ? { kind: 'event', name: def.name, eventId, def } : { kind: 'unknown', eventId };
  }
  const def = reportsByKey.get(`${p.service}:${p.subtype}`);
  return def ? { kind: 'report', name: def.name, def } : { kind: 'unknown' };
}

/**
 * Names a packet from its headers and leading id alone; never throws and decodes no
 * field, so it also names a packet whose data do not fit (kind 'unknown' and no name
 * when nothing matches).
 */
export function matchPacket(p: Pick<PusPacket, 'type' | 'service' | 'subtype' | 'appData'>): PacketMatch {
  const { def: _def, ...match } = lookupPacket(p);
  return match;
}

/** Identifies a telecommand and decodes its arguments; throws UNKNOWN_PACKET or a field error. */
export function identifyCommand(tc: Pick<PusTc, 'service' | 'subtype' | 'appData'>): { def: Compiled<CommandDef>; args: FieldValues } {
  const m = lookupPacket({ type: 'TC', ...tc });
  if (!m.def && tc.service === 8 && tc.subtype === 1) {
    if (m.functionId === undefined) throw new ProtocolError('LENGTH_MISMATCH', 'TC(8,1) shorter than its function id', { available: tc.appData.length });
    throw new ProtocolError('UNKNOWN_PACKET', `unknown function id ${m.functionId}`, { functionId: m.functionId });
  }
  if (!m.def) throw new ProtocolError('UNKNOWN_PACKET', `unknown telecommand TC(${tc.service},${tc.subtype})`, { service: tc.service, subtype: tc.subtype });
  const def = m.def as Compiled<CommandDef>;
  const args = def.layout.decode(tc.appData);
  // A receiver checks ranges and enums too: a command from another encoder (or a bad
  // one) must be refused on board, not only by our own encoder.
  def.layout.validate(def.functionId === undefined ? args : { functionId: def.functionId, ...args });
  crossValidate(def, args);
  return { def, args };
}

/** Names and decodes a TM packet's application data, or returns null when the dictionary does not know it. */
export function identifyTelemetry(pus: Pick<PusPacket, 'service' | 'subtype' | 'appData'>): { kind: PacketKind; name: string; fields: FieldValues } | null {
  const m = lookupPacket({ type: 'TM', ...pus });
  if (m.kind === 'unknown' || !m.def) {
    if (pus.service === 3 && pus.subtype === 25 && m.sid === undefined) throw new ProtocolError('LENGTH_MISMATCH', 'TM(3,25) shorter than its SID', { available: pus.appData.length });
    if (pus.service === 5 && pus.subtype >= 1 && pus.subtype <= 4 && m.eventId === undefined) {
      throw new ProtocolError('LENGTH_MISMATCH', 'TM(5,x) shorter than its event id', { available: pus.appData.length });
    }
    return null;
  }
  if (m.kind === 'event') {
    const e = m.def as Compiled<EventDef>;
    if (SEVERITY_SUBTYPE[e.severity] !== pus.subtype) {
      throw new ProtocolError('HEADER_INVALID', `event ${e.name} is ${e.severity} but came as TM(5,${pus.subtype})`, { event: e.name });
    }
  }
  return { kind: m.kind, name: m.def.name, fields: m.def.layout.decode(pus.appData) };
}

/**
 * The dictionary's step of decoding, on a packet whose headers and PEC have passed
 * (decodePus): names it and decodes its fields. Throws ProtocolError when the data do
 * not fit the dictionary's layout or ranges; a packet the dictionary does not know
 * decodes as kind 'unknown' with its raw application data.
 */
export function decodeWithDictionary({ header, packet, length }: DecodedPus): DecodedPacket {
  if (packet.type === 'TC') {
    try {
      const { def, args } = identifyCommand(packet);
      return { header, pus: packet, length, kind: 'command', name: def.name, fields: args };
    } catch (e) {
      if (e instanceof ProtocolError && e.code === 'UNKNOWN_PACKET') return { header, pus: packet, length, kind: 'unknown' };
      throw e;
    }
  }
  const t = identifyTelemetry(packet);
  return t ? { header, pus: packet, length, ...t } : { header, pus: packet, length, kind: 'unknown' };
}

/**
 * Decodes one packet at `offset`: PUS header and PEC (decodePus), then the dictionary's
 * named fields (decodeWithDictionary). Throws ProtocolError on any fault.
 */
export function decodePacket(bytes: Uint8Array, offset = 0): DecodedPacket {
  return decodeWithDictionary(decodePus(bytes, offset));
}

export interface LimitViolation {
  packet: string;
  field: string;
  value: number;
  level: 'yellow' | 'red';
  bound: 'low' | 'high';
  limit: number;
}

/** Every limit a decoded housekeeping packet violates (red before yellow for the same field). */
export function checkLimits(packetName: string, fields: FieldValues): LimitViolation[] {
  const def = housekeeping.find((h) => h.name === packetName);
  if (!def) return [];
  const out: LimitViolation[] = [];
  for (const f of def.fields) {
    const v = fields[f.name];
    if (!f.limits || typeof v !== 'number') continue;
    for (const level of ['red', 'yellow'] as const) {
      const band = f.limits[level];
      if (!band) continue;
      if (band.low !== undefined && v < band.low) out.push({ packet: packetName, field: f.name, value: v, level, bound: 'low', limit: band.low });
      else if (band.high !== undefined && v > band.high) out.push({ packet: packetName, field: f.name, value: v, level, bound: 'high', limit: band.high });
      else continue;
      break;
    }
  }
  return out;
}
