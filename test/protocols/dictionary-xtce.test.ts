import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { valuesArb } from '../../hil/fuzz/dictionary-arbitraries.ts';
import { dictionaryXtce } from '../../protocols/dictionary/export-xtce.ts';
import { DICTIONARY, decodePacket, encodeEvent, encodeHousekeeping, encodeReport, type FieldDef } from '../../protocols/dictionary/index.ts';
import { cucToSeconds, type PusTm } from '../../protocols/pus.ts';
import { runScript } from '../cli/run.ts';

/**
 * Issue 15: the XTCE export decodes our TM packets in a standard XTCE consumer. The
 * consumer below parses the XML with @xmldom/xmldom (not the library that wrote it)
 * and does what Yamcs's XTCE decoder does: start at the root container, read its
 * entries in order with their encodings, descend into the inheriting container whose
 * RestrictionCriteria match, and so on down to the packet; calibrators, enumerations,
 * length-given strings and binaries and the CUC time are applied from the XML alone.
 * Every value is compared with the project's decoder.
 */

const NS = 'http://www.omg.org/spec/XTCE/20180204';
const xml = dictionaryXtce();
const doc = new DOMParser().parseFromString(xml, 'text/xml');

const kids = (e: Element, name?: string): Element[] =>
  Array.from(e.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).namespaceURI === NS && (name === undefined || (n as Element).localName === name));
const kid = (e: Element, name: string): Element | undefined => kids(e, name)[0];
const all = (name: string): Element[] => Array.from(doc.getElementsByTagNameNS(NS, name));
const byName = (elements: Element[]) => new Map(elements.map((e) => [e.getAttribute('name')!, e]));

const root = doc.documentElement!;
const tmMeta = kid(root, 'TelemetryMetaData')!;
const types = byName(kids(kid(tmMeta, 'ParameterTypeSet')!));
const params = byName(kids(kid(tmMeta, 'ParameterSet')!, 'Parameter'));
const containers = byName(kids(kid(tmMeta, 'ContainerSet')!, 'SequenceContainer'));

// ---- reading bits ----
class BitReader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  uint(size: number): bigint {
    if (this.pos + size > this.bytes.length * 8) throw new Error(`read past the end at bit ${this.pos}`);
    let v = 0n;
    for (let i = 0; i < size; i++, this.pos++) v = (v << 1n) | BigInt((this.bytes[this.pos >> 3] >> (7 - (this.pos & 7))) & 1);
    return v;
  }
  octets(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => Number(this.uint(8)));
  }
}

type Value = number | string | boolean | Uint8Array;

function readInteger(r: BitReader, enc: Element): number {
  expect(enc.getAttribute('byteOrder') ?? 'mostSignificantByteFirst').toBe('mostSignificantByteFirst');
  const size = Number(enc.getAttribute('sizeInBits') ?? 8);
  let v = r.uint(size);
  const encoding = enc.getAttribute('encoding') ?? 'unsigned';
  if (encoding === 'twosComplement' && v >= 1n << BigInt(size - 1)) v -= 1n << BigInt(size);
  else if (encoding !== 'unsigned' && encoding !== 'twosComplement') throw new Error(`encoding ${encoding}`);
  return Number(v);
}

function calibrate(enc: Element, raw: number): number {
  const poly = kid(kid(enc, 'DefaultCalibrator') ?? enc, 'PolynomialCalibrator');
  if (!poly) return raw;
  return kids(poly, 'Term').reduce((sum, t) => sum + Number(t.getAttribute('coefficient')) * raw ** Number(t.getAttribute('exponent')), 0);
}

function dynamicSizeBits(sizeEl: Element, values: Map<string, Value>): number {
  const dyn = kid(sizeEl, 'DynamicValue')!;
  const ref = kid(dyn, 'ParameterInstanceRef')!.getAttribute('parameterRef')!;
  const adj = kid(dyn, 'LinearAdjustment');
  const v = values.get(ref) as number;
  return adj ? v * Number(adj.getAttribute('slope') ?? 1) + Number(adj.getAttribute('intercept') ?? 0) : v;
}

/** Reads one parameter's value by its type, as an XTCE consumer does. */
function readParameter(r: BitReader, name: string, values: Map<string, Value>): Value {
  const type = types.get(params.get(name)!.getAttribute('parameterTypeRef')!)!;
  const intEnc = kid(type, 'IntegerDataEncoding');
  switch (type.localName) {
    case 'IntegerParameterType':
    case 'FloatParameterType': {
      if (intEnc) return calibrate(intEnc, readInteger(r, intEnc));
      const f = kid(type, 'FloatDataEncoding')!;
      expect(f.getAttribute('encoding')).toBe('IEEE754_1985');
      const size = Number(f.getAttribute('sizeInBits'));
      const view = new DataView(r.octets(size / 8).buffer);
      return size === 32 ? view.getFloat32(0) : view.getFloat64(0);
    }
    case 'BooleanParameterType':
      return readInteger(r, intEnc!) !== 0;
    case 'EnumeratedParameterType': {
      const raw = readInteger(r, intEnc!);
      const e = kids(kid(type, 'EnumerationList')!, 'Enumeration').find((x) => Number(x.getAttribute('value')) === raw);
      if (!e) throw new Error(`${name}: no enumeration for ${raw}`);
      return e.getAttribute('label')!;
    }
    case 'StringParameterType': {
      const enc = kid(type, 'StringDataEncoding')!;
      expect(enc.getAttribute('encoding')).toBe('US-ASCII');
      const variable = kid(enc, 'Variable')!;
      const bits = dynamicSizeBits(variable, values);
      expect(bits).toBeLessThanOrEqual(Number(variable.getAttribute('maxSizeInBits')));
      return String.fromCharCode(...r.octets(bits / 8));
    }
    case 'BinaryParameterType':
      return r.octets(dynamicSizeBits(kid(kid(type, 'BinaryDataEncoding')!, 'SizeInBits')!, values) / 8);
    case 'AbsoluteTimeParameterType': {
      const enc = kid(type, 'Encoding')!;
      const raw = readInteger(r, kid(enc, 'IntegerDataEncoding')!);
      const epoch = Date.parse(kid(kid(type, 'ReferenceTime')!, 'Epoch')!.textContent!);
      // seconds since the epoch, and the epoch itself, kept apart to stay exact
      values.set(`${name}@epochMs`, epoch);
      return raw * Number(enc.getAttribute('scale')) + Number(enc.getAttribute('offset') ?? 0);
    }
    default:
      throw new Error(`unsupported type ${type.localName}`);
  }
}

function matches(c: Element, values: Map<string, Value>): boolean {
  const base = kid(c, 'BaseContainer')!;
  const list = kid(kid(base, 'RestrictionCriteria')!, 'ComparisonList')!;
  return kids(list, 'Comparison').every((cmp) => {
    expect(cmp.getAttribute('comparisonOperator') ?? '==').toBe('==');
    return String(values.get(cmp.getAttribute('parameterRef')!)) === cmp.getAttribute('value');
  });
}

/** Decodes a packet from the root container down; returns the leaf container's name and every value read. */
function xtceDecode(bytes: Uint8Array): { container: string; values: Map<string, Value>; bitsRead: number } {
  const r = new BitReader(bytes);
  const values = new Map<string, Value>();
  const roots = [...containers.values()].filter((c) => !kid(c, 'BaseContainer'));
  expect(roots.map((c) => c.getAttribute('name'))).toHaveLength(1);
  let current = roots[0];
  for (;;) {
    for (const e of kids(kid(current, 'EntryList')!)) {
      expect(e.localName).toBe('ParameterRefEntry');
      const name = e.getAttribute('parameterRef')!;
      values.set(name, readParameter(r, name, values));
    }
    const name = current.getAttribute('name')!;
    const children = [...containers.values()].filter((c) => kid(c, 'BaseContainer')?.getAttribute('containerRef') === name && matches(c, values));
    expect(children.length, `containers under ${name} matching`).toBeLessThanOrEqual(1);
    if (children.length === 0) break;
    current = children[0];
  }
  expect(current.getAttribute('abstract'), `${current.getAttribute('name')} is a concrete packet`).not.toBe('true');
  return { container: current.getAttribute('name')!, values, bitsRead: r.pos };
}

const show = (v: unknown) => (v instanceof Uint8Array ? `hex:${Buffer.from(v).toString('hex')}` : v);

describe('the XTCE export, read by an XTCE consumer, decodes our TM packets', () => {
  it('is XTCE 1.2: the namespace, one SpaceSystem, a CCSDS root container and a PUS-C TM container inheriting from it', () => {
    expect(root.namespaceURI).toBe(NS);
    expect(root.localName).toBe('SpaceSystem');
    expect(kid(containers.get('PUS_TM')!, 'BaseContainer')!.getAttribute('containerRef')).toBe('CCSDS_PACKET');
    expect(containers.get('CCSDS_PACKET')!.getAttribute('abstract')).toBe('true');
    // units, calibrators and alarm ranges where the dictionary has them
    const temp = types.get('PAYLOAD_HK_laserTempC_T')!;
    expect(kid(kid(temp, 'UnitSet')!, 'Unit')!.textContent).toBe('degC');
    expect(kids(kid(kid(kid(temp, 'IntegerDataEncoding')!, 'DefaultCalibrator')!, 'PolynomialCalibrator')!, 'Term').map((t) => t.getAttribute('coefficient'))).toEqual(['0', '0.01']);
    const ranges = kid(kid(temp, 'DefaultAlarm')!, 'StaticAlarmRanges')!;
    expect(kid(ranges, 'WarningRange')!.getAttribute('minInclusive')).toBe('20');
    expect(kid(ranges, 'CriticalRange')!.getAttribute('maxInclusive')).toBe('35');
  });

  it('every housekeeping structure, event and report (fast-check values, seeded): every value equals our decoder', () => {
    const tmOpts = fc.record({
      seq: fc.integer({ min: 0, max: 0x3fff }),
      timeS: fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 0xffff })).map(([s, f]) => s + f / 65536),
      msgTypeCounter: fc.integer({ min: 0, max: 0xffff }),
    });
    type Encode = (name: string, v: Record<string, unknown>, o: { seq: number; timeS: number }) => Uint8Array;
    const kinds: [{ name: string; fields: readonly FieldDef[] }, Encode][] = [
      ...DICTIONARY.housekeeping.map((d): [typeof d, Encode] => [d, encodeHousekeeping]),
      ...DICTIONARY.events.map((d): [typeof d, Encode] => [d, encodeEvent]),
      ...DICTIONARY.reports.map((d): [typeof d, Encode] => [d, encodeReport]),
    ];
    for (const [def, encode] of kinds) {
      fc.assert(
        fc.property(valuesArb(def.fields), tmOpts, (v, o) => {
          const bytes = encode(def.name, v, o);
          const ours = decodePacket(bytes);
          const x = xtceDecode(bytes);
          expect(x.container).toBe(def.name);
          expect(x.bitsRead).toBe(bytes.length * 8);
          const pus = ours.pus as PusTm;
          expect(x.values.get('CCSDS_APID')).toBe(ours.header.apid);
          expect(x.values.get('CCSDS_SEQUENCE_COUNT')).toBe(ours.header.seq);
          expect(x.values.get('PUS_SERVICE')).toBe(pus.service);
          expect(x.values.get('PUS_SUBTYPE')).toBe(pus.subtype);
          expect(x.values.get('PUS_TM_MSG_TYPE_COUNTER')).toBe(pus.msgTypeCounter);
          expect(x.values.get('PUS_TM_TIME')).toBe(cucToSeconds(pus.time));
          expect(x.values.get('PUS_TM_TIME@epochMs')).toBe(Date.UTC(2000, 0, 1));
          expect(x.values.get('PUS_PEC')).toBe((bytes[bytes.length - 2] << 8) | bytes[bytes.length - 1]);
          for (const f of def.fields) expect(show(x.values.get(`${def.name}_${f.name}`)), `${def.name}.${f.name}`).toEqual(show(ours.fields![f.name]));
        }),
        { seed: 1503, numRuns: 20 },
      );
    }
  });

  it('a packet the dictionary does not know matches no concrete container', () => {
    const bytes = encodeReport('PONG', {}, { seq: 1, timeS: 1 });
    bytes[8] = 99; // subtype 2 -> 99; the consumer stops at the abstract PUS_TM container
    expect(() => xtceDecode(bytes)).toThrow(/PUS_TM is a concrete packet/);
  });

  it('npm run dict -- --export xtce --out FILE writes the document and says how big it is', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'xtce-')), 'new', 'dictionary.xml');
    const r = runScript('dict', ['--export', 'xtce', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`wrote .*dictionary\\.xml \\(${statSync(out).size} bytes\\)`));
    expect(readFileSync(out, 'utf8')).toBe(xml);
  });
});
