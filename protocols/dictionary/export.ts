import { ACK_ALL, PUS_VERSION, TC_SECONDARY_HEADER_BYTES, TM_SECONDARY_HEADER_BYTES } from '../pus.ts';
import { PRIMARY_HEADER_BYTES } from '../space-packet.ts';
import { DICTIONARY } from './index.ts';
import { APID_PAYLOAD } from './mission.ts';
import { type FieldDef, type FieldType, SEVERITY_SUBTYPE } from './types.ts';
import { bitOffsets, fixedBits, type HeaderField, PEC, PRIMARY_HEADER, TC_SECONDARY_HEADER, TIME_FORMAT, TM_SECONDARY_HEADER, ACK_FLAG_BITS, WIRE_DEFAULTS, wirePackets } from './export-wire.ts';

/**
 * Everything derived from the dictionary for people and other tools: a JSON export
 * in the spirit of F Prime's JSON dictionary, and the Markdown reference in docs/.
 * The JSON carries every wire fact (bit offsets and sizes, byte order, length prefixes,
 * calibration, the headers, time format and PEC), so another tool can encode and decode
 * every packet from it alone (test/protocols/dictionary-json-encoder.test.ts does).
 */

function typeJson(t: FieldType): Record<string, unknown> {
  switch (t.kind) {
    case 'uint':
      return { name: `U${t.bits}`, kind: 'integer', size: t.bits, signed: false, encoding: 'unsigned', ...(t.scale ? { scale: { factor: t.scale.factor, offset: t.scale.offset ?? 0 } } : {}) };
    case 'int':
      return { name: `I${t.bits}`, kind: 'integer', size: t.bits, signed: true, encoding: 'twosComplement', ...(t.scale ? { scale: { factor: t.scale.factor, offset: t.scale.offset ?? 0 } } : {}) };
    case 'float':
      return { name: `F${t.bits}`, kind: 'float', size: t.bits, encoding: 'IEEE754' };
    case 'bool':
      return { name: 'bool', kind: 'bool', size: t.bits, encoding: 'unsigned', false: 0, true: 'any other value (1 when encoding)' };
    case 'enum':
      return { name: 'enum', kind: 'enum', size: t.bits, encoding: 'unsigned', enumeratedConstants: t.states.map((name, value) => ({ name, value })) };
    case 'bytes':
      return { name: 'bytes', kind: 'bytes', lengthPrefixBits: t.lengthBits, lengthUnit: 'octets', maxLength: t.maxLength };
    case 'string':
      return { name: 'string', kind: 'string', lengthPrefixBits: t.lengthBits, lengthUnit: 'octets', charset: 'US-ASCII', maxLength: t.maxLength };
  }
}

/** A field with its place: `bitOffset` into the application data (null after a variable-length field). */
function fieldJson(f: FieldDef, bitOffset: number | null): Record<string, unknown> {
  return {
    name: f.name,
    type: typeJson(f.type),
    bitOffset,
    bitSize: fixedBits(f.type),
    ...(f.unit ? { unit: f.unit } : {}),
    ...(f.range ? { range: { min: f.range[0], max: f.range[1] } } : {}),
    ...(f.limits ? { limits: f.limits } : {}),
    annotation: f.description,
  };
}

/** Fields with their offsets, after an identifying field of `prefixBits` (0 when none). */
function fieldsJson(fields: readonly FieldDef[], prefixBits: number): Record<string, unknown>[] {
  const offsets = bitOffsets(fields);
  return fields.map((f, i) => fieldJson(f, offsets[i] === null ? null : offsets[i] + prefixBits));
}

function headerJson(fields: readonly HeaderField[], octets: number): Record<string, unknown> {
  const offsets = bitOffsets(fields);
  return { octets, fields: fields.map((f, i) => ({ ...fieldJson(f, offsets[i]), ...(f.fixed !== undefined ? { value: f.fixed } : {}) })) };
}

export function dictionaryJson(): Record<string, unknown> {
  const d = DICTIONARY;
  const packets = wirePackets();
  const of = (kind: string) => packets.filter((p) => p.kind === kind);
  const idJson = (p: (typeof packets)[number]) => (p.id ? { idField: { ...fieldJson(p.id.field, 0), value: p.id.value } } : {});
  const prefix = (p: (typeof packets)[number]) => (p.id ? fixedBits(p.id.field.type) : 0);
  return {
    metadata: {
      deploymentName: 'qkd-payload',
      dictionarySpecVersion: '1.1',
      apid: APID_PAYLOAD,
      packet: {
        standard: 'CCSDS 133.0-B-2 space packets, ECSS-E-ST-70-41C (PUS-C) secondary headers',
        byteOrder: 'big-endian (most significant byte first)',
        bitOrder: 'most significant bit first; sub-octet fields pack from the top bit of each octet',
        layout: 'primary header, secondary header (TC or TM), application data (idField then the fields, in order), packet error control',
        pusVersion: PUS_VERSION,
        apids: { tc: WIRE_DEFAULTS.apid, tm: WIRE_DEFAULTS.apid },
        defaultSourceId: WIRE_DEFAULTS.sourceId,
        defaultDestinationId: WIRE_DEFAULTS.destinationId,
        primaryHeader: headerJson(PRIMARY_HEADER, PRIMARY_HEADER_BYTES),
        tcSecondaryHeader: headerJson(TC_SECONDARY_HEADER, TC_SECONDARY_HEADER_BYTES),
        tmSecondaryHeader: headerJson(TM_SECONDARY_HEADER, TM_SECONDARY_HEADER_BYTES),
        tcSecondaryHeaderOctets: TC_SECONDARY_HEADER_BYTES,
        tmSecondaryHeaderOctets: TM_SECONDARY_HEADER_BYTES,
        time: { ...TIME_FORMAT, octets: TIME_FORMAT.coarseOctets + TIME_FORMAT.fineOctets, seconds: 'timeCoarse + timeFine / 65536' },
        packetErrorControl: PEC,
        defaultAckFlags: ACK_ALL,
        ackFlagBits: ACK_FLAG_BITS,
        scale: 'engineering value = raw * factor + offset (raw is the integer on the wire; encoders round (value - offset) / factor)',
      },
    },
    commands: of('command').map((c) => ({
      name: c.name,
      service: c.service,
      subtype: c.subtype,
      ...(c.id ? { functionId: c.id.value } : {}),
      ...idJson(c),
      formalParams: fieldsJson(c.fields, prefix(c)),
      hazardous: c.hazardous ?? false,
      annotation: c.description,
    })),
    telemetryPackets: of('housekeeping').map((h, i) => ({
      name: h.name,
      service: h.service,
      subtype: h.subtype,
      sid: h.id!.value,
      ...idJson(h),
      intervalMs: d.housekeeping[i].intervalMs,
      members: fieldsJson(h.fields, prefix(h)),
      annotation: h.description,
    })),
    telemetryChannels: of('housekeeping').flatMap((h) => fieldsJson(h.fields, prefix(h)).map((f) => ({ ...f, name: `${h.name}.${f.name as string}`, packet: h.name }))),
    reports: of('report').map((r) => ({ name: r.name, service: r.service, subtype: r.subtype, members: fieldsJson(r.fields, 0), annotation: r.description })),
    events: of('event').map((e, i) => ({
      name: e.name,
      id: e.id!.value,
      severity: d.events[i].severity,
      service: e.service,
      subtype: e.subtype,
      ...idJson(e),
      formalParams: fieldsJson(e.fields, prefix(e)),
      annotation: e.description,
    })),
    parameters: d.parameters.map((p) => ({
      name: p.name,
      id: p.id,
      type: { name: 'F64', kind: 'float', size: 64, encoding: 'IEEE754' },
      ...(p.unit ? { unit: p.unit } : {}),
      range: { min: p.range[0], max: p.range[1] },
      integer: p.integer ?? false,
      default: p.default,
      annotation: p.description,
    })),
  };
}

function typeText(t: FieldType): string {
  switch (t.kind) {
    case 'uint':
      return `uint${t.bits}${t.scale ? ` ×${t.scale.factor}` : ''}`;
    case 'int':
      return `int${t.bits}${t.scale ? ` ×${t.scale.factor}` : ''}`;
    case 'float':
      return `float${t.bits}`;
    case 'bool':
      return t.bits === 1 ? 'bit' : 'bool8';
    case 'enum':
      return `enum${t.bits}: ${t.states.map((s, i) => `${i}=${s}`).join(', ')}`;
    case 'bytes':
      return `bytes (uint${t.lengthBits} length${t.maxLength ? `, ≤${t.maxLength}` : ''})`;
    case 'string':
      return `string (uint${t.lengthBits} length${t.maxLength ? `, ≤${t.maxLength}` : ''})`;
  }
}

/** Field table with bit offsets into the application data, derived from the layout. */
function fieldTable(fields: readonly FieldDef[], prefix: FieldDef[] = []): string {
  const rows = ['| offset (bit) | field | type | unit | range / limits | description |', '|---|---|---|---|---|---|'];
  const all = [...prefix, ...fields];
  const offsets = bitOffsets(all);
  all.forEach((f, i) => {
    const lim = f.limits
      ? Object.entries(f.limits)
          .map(([lvl, b]) => `${lvl} ${b.low ?? '−∞'}..${b.high ?? '∞'}`)
          .join('; ')
      : '';
    const range = f.range ? `${f.range[0]}..${f.range[1]}` : '';
    rows.push(`| ${offsets[i] ?? 'var'} | ${f.name} | ${typeText(f.type)} | ${f.unit ?? ''} | ${[range, lim].filter(Boolean).join('; ')} | ${f.description} |`);
  });
  return rows.join('\n');
}

export function dictionaryMarkdown(): string {
  const d = DICTIONARY;
  // The identifying field as the layout encodes it (its width is the layout's), described for readers.
  const idField = (layoutFields: readonly FieldDef[], description: string): FieldDef => ({ ...layoutFields[0], description });
  const out: string[] = [
    '# Command and telemetry dictionary',
    '',
    '<!-- Generated by `npm run dict -- --export markdown --out docs/dictionary.md`; a test fails when it is stale. Do not edit by hand. -->',
    '',
    `All packets are CCSDS space packets with PUS-C secondary headers and a CRC-16/IBM-3740 packet error control, APID 0x${APID_PAYLOAD.toString(16).padStart(3, '0')}. ` +
      'TM time is CUC 4+2 (implicit) from 2000-01-01T00:00:00Z. Offsets below are bit offsets into the application data (after the secondary header); `var` follows a variable-length field.',
    '',
    '## Telecommands',
  ];
  for (const c of d.commands) {
    out.push('', `### ${c.name} — TC(${c.service},${c.subtype})${c.functionId !== undefined ? ` function ${c.functionId}` : ''}`, '', c.description, '');
    if (c.hazardous) out.push('**Hazardous**: senders ask the operator to confirm it (`npm run cmd -- ... --yes`).', '');
    out.push(c.fields.length || c.functionId !== undefined ? fieldTable(c.fields, c.functionId !== undefined ? [idField(c.layout.fields, `ST08 function id = ${c.functionId}`)] : []) : '_No arguments._');
  }
  out.push('', '## Housekeeping — TM(3,25)');
  for (const h of d.housekeeping) out.push('', `### ${h.name} — SID ${h.sid}, every ${h.intervalMs} ms by default`, '', h.description, '', fieldTable(h.fields, [idField(h.layout.fields, `structure id = ${h.sid}`)]));
  out.push('', '## Events — TM(5, severity)');
  for (const e of d.events) {
    out.push('', `### ${e.name} — id ${e.id}, ${e.severity} (TM(5,${SEVERITY_SUBTYPE[e.severity]}))`, '', e.description, '', fieldTable(e.fields, [idField(e.layout.fields, `event id = ${e.id}`)]));
  }
  out.push('', '## Reports');
  for (const r of d.reports) out.push('', `### ${r.name} — TM(${r.service},${r.subtype})`, '', r.description, '', r.fields.length ? fieldTable(r.fields) : '_No data._');
  out.push('', '## Parameters — ST20, values as float64', '', '| id | name | unit | range | default | description |', '|---|---|---|---|---|---|');
  for (const p of d.parameters) out.push(`| ${p.id} | ${p.name} | ${p.unit ?? ''} | ${p.range[0]}..${p.range[1]}${p.integer ? ' (integer)' : ''} | ${p.default} | ${p.description} |`);
  return `${out.join('\n')}\n`;
}
