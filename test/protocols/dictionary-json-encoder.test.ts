import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { valuesArb } from '../../hil/fuzz/dictionary-arbitraries.ts';
import { dictionaryJson } from '../../protocols/dictionary/export.ts';
import { DICTIONARY, encodeCommand, encodeEvent, encodeHousekeeping, encodeReport, type FieldDef } from '../../protocols/dictionary/index.ts';

/**
 * Issue 15: another tool encodes every packet from the JSON export alone. The encoder
 * below reads only the JSON (as text, the way a tool in another language would) and
 * knows nothing of the project's codecs; the project's encoders only produce the
 * reference bytes it must match, for every command, housekeeping structure, event and
 * report, with field values from fast-check.
 */

// ---- the JSON, as another tool receives it ----
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const J: Json = JSON.parse(JSON.stringify(dictionaryJson()));
const P: Json = J.metadata.packet;

// ---- an independent encoder over that JSON ----
class BitWriter {
  private bits: number[] = [];
  get position(): number {
    return this.bits.length;
  }
  uint(value: number, size: number): void {
    const v = BigInt(value);
    if (v < 0n || v >= 1n << BigInt(size)) throw new Error(`${value} does not fit ${size} bits`);
    for (let i = size - 1; i >= 0; i--) this.bits.push(Number((v >> BigInt(i)) & 1n));
  }
  octets(bytes: Uint8Array): void {
    for (const b of bytes) this.uint(b, 8);
  }
  bytes(): Uint8Array {
    if (this.bits.length % 8 !== 0) throw new Error(`${this.bits.length} bits are not whole octets`);
    const out = new Uint8Array(this.bits.length / 8);
    this.bits.forEach((b, i) => (out[i >> 3] |= b << (7 - (i & 7))));
    return out;
  }
}

function encodeValue(w: BitWriter, type: Json, value: unknown): void {
  switch (type.kind) {
    case 'integer': {
      const scale = type.scale ?? { factor: 1, offset: 0 };
      let raw = Math.round(((value as number) - scale.offset) / scale.factor);
      if (type.encoding === 'twosComplement' && raw < 0) raw += 2 ** type.size;
      else if (type.encoding !== 'unsigned' && type.encoding !== 'twosComplement') throw new Error(`encoding ${type.encoding}`);
      return w.uint(raw, type.size);
    }
    case 'float': {
      const b = new Uint8Array(type.size / 8);
      const view = new DataView(b.buffer);
      if (type.size === 32) view.setFloat32(0, value as number, P.byteOrder.startsWith('little'));
      else view.setFloat64(0, value as number, P.byteOrder.startsWith('little'));
      return w.octets(b);
    }
    case 'bool':
      return w.uint(value ? 1 : type.false, type.size);
    case 'enum':
      return w.uint(type.enumeratedConstants.find((c: Json) => c.name === value).value, type.size);
    case 'bytes':
    case 'string': {
      const b = type.kind === 'string' ? Uint8Array.from(value as string, (ch) => ch.charCodeAt(0)) : (value as Uint8Array);
      w.uint(b.length, type.lengthPrefixBits);
      return w.octets(b);
    }
    default:
      throw new Error(`unknown kind ${type.kind}`);
  }
}

/** Application data: the id field with its value, then each field, checking the offsets the JSON states. */
function appData(idField: Json | undefined, fields: Json[], values: Record<string, unknown>): Uint8Array {
  const w = new BitWriter();
  const all = idField ? [idField, ...fields] : fields;
  for (const f of all) {
    if (f.bitOffset !== null) expect(w.position, `${f.name} bitOffset`).toBe(f.bitOffset);
    encodeValue(w, f.type, f === idField ? f.value : values[f.name]);
  }
  return w.bytes();
}

function header(w: BitWriter, h: Json, values: Record<string, number>): void {
  const start = w.position;
  for (const f of h.fields) {
    expect(w.position - start, `${f.name} bitOffset`).toBe(f.bitOffset);
    w.uint(f.value ?? values[f.name], f.type.size);
  }
}

/** The CRC the JSON describes, computed bit by bit from its parameters. */
function crc(bytes: Uint8Array, pec: Json): number {
  if (pec.reflectIn || pec.reflectOut) throw new Error('reflected CRCs not needed here');
  const top = 1 << (pec.width - 1);
  const mask = (1 << pec.width) - 1;
  let c = pec.init;
  for (const byte of bytes) {
    c ^= byte << (pec.width - 8);
    for (let i = 0; i < 8; i++) c = c & top ? ((c << 1) ^ pec.polynomial) & mask : (c << 1) & mask;
  }
  return (c ^ pec.xorOut) & mask;
}

function packet(type: 'TC' | 'TM', secondary: Record<string, number>, data: Uint8Array, seq: number): Uint8Array {
  const sec = type === 'TC' ? P.tcSecondaryHeader : P.tmSecondaryHeader;
  const total = P.primaryHeader.octets + sec.octets + data.length + P.packetErrorControl.octets;
  const w = new BitWriter();
  header(w, P.primaryHeader, { type: type === 'TC' ? 1 : 0, apid: P.apids[type === 'TC' ? 'tc' : 'tm'], sequenceCount: seq, dataLength: total - P.primaryHeader.octets - 1 });
  header(w, sec, secondary);
  w.octets(data);
  const body = w.bytes();
  const pec = crc(body, P.packetErrorControl);
  const out = new Uint8Array(total);
  out.set(body);
  out[total - 2] = pec >> 8;
  out[total - 1] = pec & 0xff;
  return out;
}

function tc(cmd: Json, args: Record<string, unknown>, seq: number): Uint8Array {
  let ack = 0;
  for (const [flag, on] of Object.entries(P.defaultAckFlags)) if (on) ack |= P.ackFlagBits[flag];
  return packet('TC', { ackFlags: ack, service: cmd.service, subtype: cmd.subtype, sourceId: P.defaultSourceId }, appData(cmd.idField, cmd.formalParams, args), seq);
}

function tm(def: Json, fields: Json[], values: Record<string, unknown>, o: { seq: number; timeS: number; msgTypeCounter: number }): Uint8Array {
  const coarse = Math.floor(o.timeS);
  const secondary = {
    timeRefStatus: 0,
    service: def.service,
    subtype: def.subtype,
    msgTypeCounter: o.msgTypeCounter,
    destinationId: P.defaultDestinationId,
    timeCoarse: coarse,
    timeFine: Math.round((o.timeS - coarse) / P.time.fineResolutionS),
  };
  return packet('TM', secondary, appData(def.idField, fields, values), o.seq);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const seqArb = fc.integer({ min: 0, max: 0x3fff });
const tmOptsArb = fc.record({ seq: seqArb, timeS: fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 0xffff })).map(([s, f]) => s + f / 65536), msgTypeCounter: fc.integer({ min: 0, max: 0xffff }) });

describe('the JSON export alone encodes every packet byte for byte', () => {
  it('states the widths of the SID, event id and ST08 function id, and the PEC parameters', () => {
    expect(J.commands.find((c: Json) => c.name === 'SET_MODE').idField).toMatchObject({ name: 'functionId', value: 1, bitOffset: 0, type: { size: 16, signed: false } });
    expect(J.telemetryPackets[0].idField).toMatchObject({ name: 'sid', type: { size: 16 } });
    expect(J.events[0].idField).toMatchObject({ name: 'eventId', type: { size: 16 } });
    expect(crc(new TextEncoder().encode('123456789'), P.packetErrorControl)).toBe(P.packetErrorControl.check);
  });

  it('every telecommand (fast-check values, seeded)', () => {
    for (const cmd of J.commands as Json[]) {
      const def = DICTIONARY.commands.find((c) => c.name === cmd.name)!;
      // SET_PARAM / GET_PARAM name a parameter: values come from the JSON's parameter table.
      const args =
        cmd.name === 'SET_PARAM' || cmd.name === 'GET_PARAM'
          ? fc.constantFrom(...(J.parameters as Json[])).map((p) => (cmd.name === 'SET_PARAM' ? { paramId: p.id, value: p.default } : { paramId: p.id }))
          : valuesArb(def.fields);
      fc.assert(
        fc.property(args, seqArb, (v, seq) => {
          expect(hex(tc(cmd, v, seq))).toBe(hex(encodeCommand(cmd.name, v, { seq })));
        }),
        { seed: 1501, numRuns: 25 },
      );
    }
  });

  it('every housekeeping structure, event and report (fast-check values, seeded)', () => {
    type Encode = (name: string, v: Record<string, unknown>, o: { seq: number; timeS: number; msgTypeCounter: number }) => Uint8Array;
    const fieldsOf = (list: readonly { name: string; fields: readonly FieldDef[] }[], name: string) => list.find((x) => x.name === name)!.fields;
    const kinds: [Json, Json[], readonly FieldDef[], Encode][] = [
      ...(J.telemetryPackets as Json[]).map((h): [Json, Json[], readonly FieldDef[], Encode] => [h, h.members, fieldsOf(DICTIONARY.housekeeping, h.name), encodeHousekeeping]),
      ...(J.events as Json[]).map((e): [Json, Json[], readonly FieldDef[], Encode] => [e, e.formalParams, fieldsOf(DICTIONARY.events, e.name), encodeEvent]),
      ...(J.reports as Json[]).map((r): [Json, Json[], readonly FieldDef[], Encode] => [r, r.members, fieldsOf(DICTIONARY.reports, r.name), encodeReport]),
    ];
    expect(kinds.length).toBe(DICTIONARY.housekeeping.length + DICTIONARY.events.length + DICTIONARY.reports.length);
    for (const [def, fields, dictFields, encode] of kinds) {
      fc.assert(
        fc.property(valuesArb(dictFields), tmOptsArb, (v, o) => {
          expect(hex(tm(def, fields, v, o))).toBe(hex(encode(def.name, v, o)));
        }),
        { seed: 1502, numRuns: 25 },
      );
    }
  });
});
