import { ACK_ALL } from '../pus.ts';
import { CUC_BYTES, PEC_BYTES, PUS_VERSION, TC_SECONDARY_HEADER_BYTES, TM_SECONDARY_HEADER_BYTES } from '../pus.ts';
import { DICTIONARY } from './index.ts';
import { APID_PAYLOAD } from './mission.ts';
import type { FieldDef, FieldType } from './types.ts';

/**
 * Everything derived from the dictionary for people and other tools: a JSON export
 * in the spirit of F Prime's JSON dictionary, and the Markdown reference in docs/.
 */

function typeJson(t: FieldType): Record<string, unknown> {
  switch (t.kind) {
    case 'uint':
      return { name: `U${t.bits}`, kind: 'integer', size: t.bits, signed: false, ...(t.scale ? { scale: t.scale } : {}) };
    case 'int':
      return { name: `I${t.bits}`, kind: 'integer', size: t.bits, signed: true, ...(t.scale ? { scale: t.scale } : {}) };
    case 'float':
      return { name: `F${t.bits}`, kind: 'float', size: t.bits };
    case 'bool':
      return { name: 'bool', kind: 'bool', size: t.bits };
    case 'enum':
      return { name: 'enum', kind: 'enum', size: t.bits, enumeratedConstants: t.states.map((name, value) => ({ name, value })) };
    case 'bytes':
      return { name: 'bytes', kind: 'bytes', lengthPrefixBits: t.lengthBits, maxLength: t.maxLength };
    case 'string':
      return { name: 'string', kind: 'string', lengthPrefixBits: t.lengthBits, maxLength: t.maxLength };
  }
}

function fieldJson(f: FieldDef): Record<string, unknown> {
  return {
    name: f.name,
    type: typeJson(f.type),
    ...(f.unit ? { unit: f.unit } : {}),
    ...(f.range ? { range: { min: f.range[0], max: f.range[1] } } : {}),
    ...(f.limits ? { limits: f.limits } : {}),
    annotation: f.description,
  };
}

export function dictionaryJson(): Record<string, unknown> {
  const d = DICTIONARY;
  return {
    metadata: {
      deploymentName: 'qkd-payload',
      dictionarySpecVersion: '1.0',
      apid: APID_PAYLOAD,
      packet: {
        standard: 'CCSDS 133.0-B-2 space packets, ECSS-E-ST-70-41C (PUS-C) secondary headers',
        pusVersion: PUS_VERSION,
        tcSecondaryHeaderOctets: TC_SECONDARY_HEADER_BYTES,
        tmSecondaryHeaderOctets: TM_SECONDARY_HEADER_BYTES,
        time: { format: 'CUC 4+2, implicit P-field', octets: CUC_BYTES, epoch: '2000-01-01T00:00:00Z' },
        packetErrorControl: { algorithm: 'CRC-16/IBM-3740', octets: PEC_BYTES },
        defaultAckFlags: ACK_ALL,
      },
    },
    commands: d.commands.map((c) => ({
      name: c.name,
      service: c.service,
      subtype: c.subtype,
      ...(c.functionId !== undefined ? { functionId: c.functionId } : {}),
      formalParams: c.fields.map(fieldJson),
      annotation: c.description,
    })),
    telemetryPackets: d.housekeeping.map((h) => ({
      name: h.name,
      service: 3,
      subtype: 25,
      sid: h.sid,
      intervalMs: h.intervalMs,
      members: h.fields.map(fieldJson),
      annotation: h.description,
    })),
    telemetryChannels: d.housekeeping.flatMap((h) =>
      h.fields.map((f) => ({ ...fieldJson(f), name: `${h.name}.${f.name}`, packet: h.name })),
    ),
    reports: d.reports.map((r) => ({ name: r.name, service: r.service, subtype: r.subtype, members: r.fields.map(fieldJson), annotation: r.description })),
    events: d.events.map((e) => ({
      name: e.name,
      id: e.id,
      severity: e.severity,
      service: 5,
      subtype: { info: 1, low: 2, medium: 3, high: 4 }[e.severity],
      formalParams: e.fields.map(fieldJson),
      annotation: e.description,
    })),
    parameters: d.parameters.map((p) => ({
      name: p.name,
      id: p.id,
      type: { name: 'F64', kind: 'float', size: 64 },
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
  let bit: number | null = 0;
  for (const f of [...prefix, ...fields]) {
    const t = f.type;
    const bits = t.kind === 'bytes' || t.kind === 'string' ? t.lengthBits : t.bits;
    const lim = f.limits
      ? Object.entries(f.limits)
          .map(([lvl, b]) => `${lvl} ${b.low ?? '−∞'}..${b.high ?? '∞'}`)
          .join('; ')
      : '';
    const range = f.range ? `${f.range[0]}..${f.range[1]}` : '';
    rows.push(`| ${bit === null ? 'var' : bit} | ${f.name} | ${typeText(t)} | ${f.unit ?? ''} | ${[range, lim].filter(Boolean).join('; ')} | ${f.description} |`);
    bit = bit === null || t.kind === 'bytes' || t.kind === 'string' ? null : bit + bits;
  }
  return rows.join('\n');
}

export function dictionaryMarkdown(): string {
  const d = DICTIONARY;
  const u16 = (name: string, description: string): FieldDef => ({ name, type: { kind: 'uint', bits: 16 }, description });
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
    out.push(c.fields.length || c.functionId !== undefined ? fieldTable(c.fields, c.functionId !== undefined ? [u16('functionId', `ST08 function id = ${c.functionId}`)] : []) : '_No arguments._');
  }
  out.push('', '## Housekeeping — TM(3,25)');
  for (const h of d.housekeeping) out.push('', `### ${h.name} — SID ${h.sid}, every ${h.intervalMs} ms by default`, '', h.description, '', fieldTable(h.fields, [u16('sid', `structure id = ${h.sid}`)]));
  out.push('', '## Events — TM(5, severity)');
  for (const e of d.events) {
    out.push('', `### ${e.name} — id ${e.id}, ${e.severity} (TM(5,${{ info: 1, low: 2, medium: 3, high: 4 }[e.severity]}))`, '', e.description, '', fieldTable(e.fields, [u16('eventId', `event id = ${e.id}`)]));
  }
  out.push('', '## Reports');
  for (const r of d.reports) out.push('', `### ${r.name} — TM(${r.service},${r.subtype})`, '', r.description, '', r.fields.length ? fieldTable(r.fields) : '_No data._');
  out.push('', '## Parameters — ST20, values as float64', '', '| id | name | unit | range | default | description |', '|---|---|---|---|---|---|');
  for (const p of d.parameters) out.push(`| ${p.id} | ${p.name} | ${p.unit ?? ''} | ${p.range[0]}..${p.range[1]}${p.integer ? ' (integer)' : ''} | ${p.default} | ${p.description} |`);
  return `${out.join('\n')}\n`;
}
