import { XMLBuilder } from 'fast-xml-parser';
import { ACK_ALL, PUS_VERSION } from '../pus.ts';
import { SEQ_FLAGS_UNSEGMENTED } from '../space-packet.ts';
import { ACK_FLAG_BITS, type HeaderField, PEC, PRIMARY_HEADER, TC_SECONDARY_HEADER, TIME_FORMAT, TM_SECONDARY_HEADER, WIRE_DEFAULTS, type WirePacket, wirePackets } from './export-wire.ts';
import type { FieldDef } from './types.ts';

/**
 * The dictionary as XTCE 1.2 (OMG XTCE 20180204, CCSDS 660.0-B-2), the form Yamcs's
 * XtceLoader and other XTCE-driven decoders load. TM: an abstract CCSDS primary header
 * container, a PUS-C TM secondary header container inheriting from it, abstract ST03
 * and ST05 containers carrying the SID and event id, and one SequenceContainer per
 * packet, chosen by RestrictionCriteria on APID, service, subtype and SID or event id.
 * TC: an abstract PUS-C TC MetaCommand whose header takes APID, service and subtype as
 * arguments that each command fixes by ArgumentAssignment. docs/xtce.md tells what of
 * XTCE is used; test/protocols/dictionary-xtce.test.ts decodes our packets from it.
 */

export const XTCE_NAMESPACE = 'http://www.omg.org/spec/XTCE/20180204';
export const XTCE_SPACE_SYSTEM = 'QKD_PAYLOAD';

// ---- a tiny element helper over fast-xml-parser's ordered form ----
type Node = Record<string, unknown>;
type Attrs = Record<string, string | number | boolean | undefined>;

function el(name: string, attrs: Attrs = {}, ...children: (Node | Node[] | null | false | undefined)[]): Node {
  const a: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a[`@_${k}`] = String(v);
  const kids = children.flat().filter((c): c is Node => !!c);
  return { [`xtce:${name}`]: kids, ...(Object.keys(a).length ? { ':@': a } : {}) };
}
const text = (name: string, value: string | number): Node => ({ [`xtce:${name}`]: [{ '#text': String(value) }] });

/** XTCE names may not contain '.', '/', ':', '[', ']' or spaces. */
const SNAKE = (camel: string) => camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const paramName = (p: WirePacket, f: FieldDef) => `${p.name}_${f.name}`;
const lengthName = (name: string) => `${name}Length`;

/** Hex of `value` in `bits` (FixedValueEntry's binaryValue is hexBinary: whole octets). */
function hexValue(value: number, bits: number): string {
  return value.toString(16).padStart(Math.ceil(bits / 8) * 2, '0');
}

type Use = 'Parameter' | 'Argument';

function unitSet(unit: string | undefined): Node | null {
  return unit ? el('UnitSet', {}, text('Unit', unit)) : null;
}

function integerEncoding(bits: number, signed: boolean, scale?: { factor: number; offset?: number }): Node {
  const calibrator = scale
    ? el('DefaultCalibrator', {}, el('PolynomialCalibrator', {}, el('Term', { exponent: 0, coefficient: scale.offset ?? 0 }), el('Term', { exponent: 1, coefficient: scale.factor })))
    : null;
  return el('IntegerDataEncoding', { sizeInBits: bits, encoding: signed ? 'twosComplement' : 'unsigned', byteOrder: 'mostSignificantByteFirst' }, calibrator);
}

function alarm(f: FieldDef): Node | null {
  if (!f.limits) return null;
  const range = (name: string, b?: { low?: number; high?: number }) => (b ? el(name, { minInclusive: b.low, maxInclusive: b.high }) : null);
  return el('DefaultAlarm', {}, el('StaticAlarmRanges', {}, range('WarningRange', f.limits.yellow), range('CriticalRange', f.limits.red)));
}

function validRange(f: FieldDef, use: Use): Node | null {
  if (use !== 'Argument' || !f.range) return null;
  return el('ValidRangeSet', { validRangeAppliesToCalibrated: true }, el('ValidRange', { minInclusive: f.range[0], maxInclusive: f.range[1] }));
}

/** The size of a variable field: the value of its length parameter (or argument), in octets. */
function dynamicSize(lengthRef: string, use: Use): Node {
  const ref = use === 'Parameter' ? el('ParameterInstanceRef', { parameterRef: lengthRef }) : el('ArgumentInstanceRef', { argumentRef: lengthRef });
  return el('DynamicValue', {}, ref, el('LinearAdjustment', { slope: 8, intercept: 0 }));
}

/** A parameter or argument type for one field; `name` is the type's name, `lengthRef` names a variable field's length. */
function dataType(name: string, f: FieldDef, use: Use, lengthRef: string): Node {
  const t = f.type;
  const desc = { name, shortDescription: f.description };
  const tail = use === 'Parameter' ? alarm(f) : validRange(f, use);
  switch (t.kind) {
    case 'uint':
    case 'int':
      if (t.scale) return el(`Float${use}Type`, { ...desc, sizeInBits: 64 }, unitSet(f.unit), integerEncoding(t.bits, t.kind === 'int', t.scale), tail);
      return el(`Integer${use}Type`, { ...desc, signed: t.kind === 'int', sizeInBits: t.bits <= 32 ? 32 : 64 }, unitSet(f.unit), integerEncoding(t.bits, t.kind === 'int'), tail);
    case 'float':
      return el(`Float${use}Type`, { ...desc, sizeInBits: t.bits }, unitSet(f.unit), el('FloatDataEncoding', { sizeInBits: t.bits, encoding: 'IEEE754_1985', byteOrder: 'mostSignificantByteFirst' }), tail);
    case 'bool':
      return el(`Boolean${use}Type`, { ...desc, zeroStringValue: 'false', oneStringValue: 'true' }, unitSet(f.unit), integerEncoding(t.bits, false));
    case 'enum':
      return el(
        `Enumerated${use}Type`,
        desc,
        unitSet(f.unit),
        integerEncoding(t.bits, false),
        el('EnumerationList', {}, t.states.map((label, value) => el('Enumeration', { value, label }))),
      );
    case 'string':
      return el(
        `String${use}Type`,
        desc,
        el('StringDataEncoding', { encoding: 'US-ASCII' }, el('Variable', { maxSizeInBits: Math.min(t.maxLength ?? 255, 2 ** t.lengthBits - 1) * 8 }, dynamicSize(lengthRef, use))),
      );
    case 'bytes':
      return el(`Binary${use}Type`, desc, el('BinaryDataEncoding', {}, el('SizeInBits', {}, dynamicSize(lengthRef, use))));
  }
}

const isVariable = (f: FieldDef) => f.type.kind === 'bytes' || f.type.kind === 'string';

/** The length prefix of a variable field as a field of its own (what the wire carries first). */
function lengthField(f: FieldDef): FieldDef | null {
  const t = f.type;
  if (t.kind !== 'bytes' && t.kind !== 'string') return null;
  const max = Math.min(t.maxLength ?? Infinity, 2 ** t.lengthBits - 1);
  return { name: lengthName(f.name), type: { kind: 'uint', bits: t.lengthBits }, unit: 'B', range: [0, max], description: `length of ${f.name} in octets` };
}

/** Each field preceded by its length field where it has one. */
function withLengths(fields: readonly FieldDef[]): FieldDef[] {
  return fields.flatMap((f) => [lengthField(f), f].filter((x): x is FieldDef => x !== null));
}

const HEADER_PREFIX = { primary: 'CCSDS_', tm: 'PUS_TM_', tc: 'PUS_TC_' } as const;
const headerName = (prefix: string, f: HeaderField) => (f.name === 'service' || f.name === 'subtype' ? `PUS_${SNAKE(f.name)}` : `${prefix}${SNAKE(f.name)}`);

export const XTCE_NAMES = {
  apid: headerName(HEADER_PREFIX.primary, PRIMARY_HEADER.find((f) => f.name === 'apid')!),
  type: headerName(HEADER_PREFIX.primary, PRIMARY_HEADER.find((f) => f.name === 'type')!),
  secondaryHeaderFlag: headerName(HEADER_PREFIX.primary, PRIMARY_HEADER.find((f) => f.name === 'secondaryHeaderFlag')!),
  service: 'PUS_SERVICE',
  subtype: 'PUS_SUBTYPE',
  time: 'PUS_TM_TIME',
  sid: 'HK_SID',
  eventId: 'EVENT_ID',
  pec: 'PUS_PEC',
  primaryContainer: 'CCSDS_PACKET',
  tmContainer: 'PUS_TM',
  hkContainer: 'PUS_TM_3_25',
  eventContainer: 'PUS_TM_5',
  tcCommand: 'PUS_TC',
} as const;

function telemetry(packets: WirePacket[]): Node {
  const types: Node[] = [];
  const params: Node[] = [];
  const seen = new Set<string>();
  const addParam = (name: string, type: Node, description: string) => {
    if (seen.has(name)) throw new Error(`xtce: duplicate parameter ${name}`);
    seen.add(name);
    types.push(type);
    params.push(el('Parameter', { name, parameterTypeRef: `${name}_T`, shortDescription: description }));
  };
  const addField = (name: string, f: FieldDef, lengthRef = '') => addParam(name, dataType(`${name}_T`, f, 'Parameter', lengthRef), f.description);
  const entries = (names: string[]) => el('EntryList', {}, names.map((n) => el('ParameterRefEntry', { parameterRef: n })));

  // Headers: the primary header, then the TM secondary header with its CUC time as one absolute time.
  const primary = PRIMARY_HEADER.map((f) => headerName(HEADER_PREFIX.primary, f));
  PRIMARY_HEADER.forEach((f, i) => addField(primary[i], f));
  const tmFields = TM_SECONDARY_HEADER.filter((f) => f.name !== 'timeCoarse' && f.name !== 'timeFine');
  const tmNames = tmFields.map((f) => headerName(HEADER_PREFIX.tm, f));
  tmFields.forEach((f, i) => addField(tmNames[i], f));
  const timeBits = (TIME_FORMAT.coarseOctets + TIME_FORMAT.fineOctets) * 8;
  addParam(
    XTCE_NAMES.time,
    el(
      'AbsoluteTimeParameterType',
      { name: `${XTCE_NAMES.time}_T`, shortDescription: `CUC ${TIME_FORMAT.coarseOctets}+${TIME_FORMAT.fineOctets}, implicit P-field, from ${TIME_FORMAT.epoch}` },
      el('Encoding', { units: 'seconds', scale: TIME_FORMAT.fineResolutionS, offset: 0 }, integerEncoding(timeBits, false)),
      el('ReferenceTime', {}, text('Epoch', TIME_FORMAT.epoch)),
    ),
    'packet time',
  );
  const hk = packets.find((p) => p.kind === 'housekeeping')!;
  const ev = packets.find((p) => p.kind === 'event')!;
  addField(XTCE_NAMES.sid, hk.id!.field);
  addField(XTCE_NAMES.eventId, ev.id!.field);
  addField(XTCE_NAMES.pec, { name: 'pec', type: { kind: 'uint', bits: PEC.width }, description: `packet error control, ${PEC.algorithm} over ${PEC.covers}` });

  const eq = (parameterRef: string, value: number | string) => el('Comparison', { parameterRef, value, comparisonOperator: '==' });
  const container = (name: string, abstract: boolean, description: string, names: string[], base?: { ref: string; where: Node[] }) =>
    el(
      'SequenceContainer',
      { name, abstract: abstract || undefined, shortDescription: description },
      entries(names),
      base ? el('BaseContainer', { containerRef: base.ref }, el('RestrictionCriteria', {}, el('ComparisonList', {}, base.where))) : null,
    );
  const tmHeaderNames = [...tmNames.slice(0, tmFields.length), XTCE_NAMES.time];
  const containers: Node[] = [
    container(XTCE_NAMES.primaryContainer, true, 'CCSDS space packet primary header', primary),
    container(XTCE_NAMES.tmContainer, true, 'PUS-C TM secondary header', tmHeaderNames, {
      ref: XTCE_NAMES.primaryContainer,
      where: [eq(XTCE_NAMES.type, 0), eq(XTCE_NAMES.secondaryHeaderFlag, 1)],
    }),
    container(XTCE_NAMES.hkContainer, true, 'ST03 housekeeping report: the SID names the structure', [XTCE_NAMES.sid], {
      ref: XTCE_NAMES.tmContainer,
      where: [eq(XTCE_NAMES.apid, hk.apid), eq(XTCE_NAMES.service, hk.service), eq(XTCE_NAMES.subtype, hk.subtype)],
    }),
    container(XTCE_NAMES.eventContainer, true, 'ST05 event report: the event id names the event', [XTCE_NAMES.eventId], {
      ref: XTCE_NAMES.tmContainer,
      where: [eq(XTCE_NAMES.apid, ev.apid), eq(XTCE_NAMES.service, ev.service)],
    }),
  ];
  for (const p of packets) {
    if (p.type !== 'TM') continue;
    const fields = withLengths(p.fields);
    const names = fields.map((f) => paramName(p, f));
    // withLengths puts each length field right before its variable field.
    fields.forEach((f, i) => addField(names[i], f, isVariable(f) ? names[i - 1] : ''));
    const base =
      p.kind === 'housekeeping'
        ? { ref: XTCE_NAMES.hkContainer, where: [eq(XTCE_NAMES.sid, p.id!.value)] }
        : p.kind === 'event'
          ? { ref: XTCE_NAMES.eventContainer, where: [eq(XTCE_NAMES.subtype, p.subtype), eq(XTCE_NAMES.eventId, p.id!.value)] }
          : { ref: XTCE_NAMES.tmContainer, where: [eq(XTCE_NAMES.apid, p.apid), eq(XTCE_NAMES.service, p.service), eq(XTCE_NAMES.subtype, p.subtype)] };
    containers.push(container(p.name, false, p.description, [...names, XTCE_NAMES.pec], base));
  }
  return el('TelemetryMetaData', {}, el('ParameterTypeSet', {}, types), el('ParameterSet', {}, params), el('ContainerSet', {}, containers));
}

function commands(packets: WirePacket[]): Node {
  const types: Node[] = [];
  const metaCommands: Node[] = [];
  const argType = (typeName: string, f: FieldDef, lengthRef = '') => types.push(dataType(typeName, f, 'Argument', lengthRef));

  // The abstract TC: the packet header, APID/service/subtype left to each command.
  let ack = 0;
  for (const [flag, on] of Object.entries(ACK_ALL)) if (on) ack |= ACK_FLAG_BITS[flag as keyof typeof ACK_FLAG_BITS];
  const hdrArgs: { name: string; f: HeaderField; initial?: number }[] = [];
  const hdrEntries: Node[] = [];
  for (const [prefix, fields] of [
    [HEADER_PREFIX.primary, PRIMARY_HEADER],
    [HEADER_PREFIX.tc, TC_SECONDARY_HEADER],
  ] as const) {
    for (const f of fields) {
      const name = headerName(prefix, f);
      const bits = f.type.kind === 'uint' ? f.type.bits : 0;
      const fixedValue = f.name === 'type' ? 1 : f.name === 'dataLength' ? 0 : f.fixed;
      if (fixedValue !== undefined) {
        hdrEntries.push(el('FixedValueEntry', { name, binaryValue: hexValue(fixedValue, bits), sizeInBits: bits }));
        continue;
      }
      const initial = f.name === 'ackFlags' ? ack : f.name === 'sourceId' ? WIRE_DEFAULTS.sourceId : f.name === 'sequenceCount' ? 0 : undefined;
      hdrArgs.push({ name, f, initial });
      argType(`${name}_T`, f);
      hdrEntries.push(el('ArgumentRefEntry', { argumentRef: name }));
    }
  }
  metaCommands.push(
    el(
      'MetaCommand',
      { name: XTCE_NAMES.tcCommand, abstract: true, shortDescription: 'PUS-C telecommand header; the data length and the PEC are filled in by the ground (see docs/xtce.md)' },
      el('ArgumentList', {}, hdrArgs.map((a) => el('Argument', { name: a.name, argumentTypeRef: `${a.name}_T`, initialValue: a.initial }))),
      el('CommandContainer', { name: XTCE_NAMES.tcCommand }, el('EntryList', {}, hdrEntries)),
    ),
  );

  for (const p of packets) {
    if (p.type !== 'TC') continue;
    const fields = withLengths(p.fields);
    fields.forEach((f, i) => argType(`${p.name}_${f.name}_T`, f, isVariable(f) ? fields[i - 1].name : ''));
    const entries: Node[] = [];
    if (p.id) {
      const bits = p.id.field.type.kind === 'uint' ? p.id.field.type.bits : 16;
      entries.push(el('FixedValueEntry', { name: SNAKE(p.id.field.name), binaryValue: hexValue(p.id.value, bits), sizeInBits: bits }));
    }
    // Argument names are the field names; argument references inside a command are local to it.
    for (const f of fields) entries.push(el('ArgumentRefEntry', { argumentRef: f.name }));
    metaCommands.push(
      el(
        'MetaCommand',
        { name: p.name, shortDescription: p.description },
        el(
          'BaseMetaCommand',
          { metaCommandRef: XTCE_NAMES.tcCommand },
          el(
            'ArgumentAssignmentList',
            {},
            el('ArgumentAssignment', { argumentName: XTCE_NAMES.apid, argumentValue: p.apid }),
            el('ArgumentAssignment', { argumentName: XTCE_NAMES.service, argumentValue: p.service }),
            el('ArgumentAssignment', { argumentName: XTCE_NAMES.subtype, argumentValue: p.subtype }),
          ),
        ),
        fields.length ? el('ArgumentList', {}, fields.map((f) => el('Argument', { name: f.name, argumentTypeRef: `${p.name}_${f.name}_T`, shortDescription: f.description }))) : null,
        el('CommandContainer', { name: p.name }, el('EntryList', {}, entries), el('BaseContainer', { containerRef: XTCE_NAMES.tcCommand })),
        // XTCE's mark of a command to confirm before sending (after CommandContainer in the schema's order).
        p.hazardous ? el('DefaultSignificance', { consequenceLevel: 'critical', reasonForWarning: `hazardous: ${p.description}` }) : null,
      ),
    );
  }
  return el('CommandMetaData', {}, el('ArgumentTypeSet', {}, types), el('MetaCommandSet', {}, metaCommands));
}

/** The whole dictionary as an XTCE 1.2 document. */
export function dictionaryXtce(): string {
  const packets = wirePackets();
  const doc = [
    { '?xml': [{ '#text': '' }], ':@': { '@_version': '1.0', '@_encoding': 'UTF-8' } },
    {
      'xtce:SpaceSystem': [
        el('Header', { version: '1.0', classification: 'NotClassified', validationStatus: 'Working' }),
        telemetry(packets),
        commands(packets),
      ],
      ':@': {
        '@_xmlns:xtce': XTCE_NAMESPACE,
        '@_name': XTCE_SPACE_SYSTEM,
        '@_shortDescription': `QKD payload command/telemetry dictionary: CCSDS space packets with PUS-C v${PUS_VERSION} headers, APID ${WIRE_DEFAULTS.apid}, sequence flags ${SEQ_FLAGS_UNSEGMENTED}, ${PEC.algorithm} PEC`,
      },
    },
  ];
  const builder = new XMLBuilder({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '@_', format: true, indentBy: '  ', suppressEmptyNode: true });
  return `${builder.build(doc) as string}`;
}
