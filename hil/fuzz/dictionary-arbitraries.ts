import fc from 'fast-check';
import { DICTIONARY, encodeCommand, encodeEvent, encodeHousekeeping, encodeReport, type FieldDef } from '../../protocols/dictionary/index.ts';

/** Arbitraries derived from the dictionary alone, shared by the dictionary and decoder property tests. */

/** An arbitrary valid engineering value for a field, from its definition alone. */
export function valueArb(f: FieldDef): fc.Arbitrary<unknown> {
  const t = f.type;
  switch (t.kind) {
    case 'enum':
      return fc.constantFrom(...t.states);
    case 'bool':
      return fc.boolean();
    case 'bytes':
      return fc.uint8Array({ maxLength: Math.min(t.maxLength ?? 255, 300) });
    case 'string':
      return fc.string({ maxLength: Math.min(t.maxLength ?? 255, 80) }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));
    case 'float': {
      const [lo, hi] = f.range ?? [-1e6, 1e6];
      return t.bits === 32 ? fc.float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true }).map(Math.fround) : fc.double({ min: lo, max: hi, noNaN: true });
    }
    default: {
      const scale = t.scale?.factor ?? 1;
      const rawLo = t.kind === 'int' ? -(2 ** (t.bits - 1)) : 0;
      const rawHi = t.kind === 'int' ? 2 ** (t.bits - 1) - 1 : 2 ** t.bits - 1;
      const lo = Math.max(rawLo, Math.ceil((f.range?.[0] ?? -Infinity) / scale));
      const hi = Math.min(rawHi, Math.floor((f.range?.[1] ?? Infinity) / scale));
      return fc.integer({ min: lo, max: hi }).map((r) => r * scale);
    }
  }
}
export const valuesArb = (fields: readonly FieldDef[]) => fc.record(Object.fromEntries(fields.map((f) => [f.name, valueArb(f)])) as Record<string, fc.Arbitrary<unknown>>);


/**
 * Any packet the dictionary defines, with valid random field values, sequence count and
 * time: commands (SET_PARAM/GET_PARAM with a real parameter), housekeeping, events and
 * reports. The encoders are the project's; what decoders must find is these bytes.
 */
export function dictionaryPacketArb(): fc.Arbitrary<Uint8Array> {
  const seq = fc.integer({ min: 0, max: 0x3fff });
  const tmOpts = fc.record({ seq, timeS: fc.integer({ min: 0, max: 2 ** 31 }), msgTypeCounter: fc.integer({ min: 0, max: 0xffff }) });
  const plain = DICTIONARY.commands.filter((c) => c.name !== 'SET_PARAM' && c.name !== 'GET_PARAM');
  const param = fc.constantFrom(...DICTIONARY.parameters);
  return fc.oneof(
    fc.constantFrom(...plain).chain((c) => fc.tuple(valuesArb(c.fields), seq).map(([v, s]) => encodeCommand(c.name, v, { seq: s }))),
    fc.tuple(param, seq).map(([p, s]) => encodeCommand('GET_PARAM', { paramId: p.id }, { seq: s })),
    fc.tuple(param, seq).map(([p, s]) => encodeCommand('SET_PARAM', { paramId: p.id, value: p.default }, { seq: s })),
    fc.constantFrom(...DICTIONARY.housekeeping).chain((h) => fc.tuple(valuesArb(h.fields), tmOpts).map(([v, o]) => encodeHousekeeping(h.name, v, o))),
    fc.constantFrom(...DICTIONARY.events).chain((e) => fc.tuple(valuesArb(e.fields), tmOpts).map(([v, o]) => encodeEvent(e.name, v, o))),
    fc.constantFrom(...DICTIONARY.reports).chain((r) => fc.tuple(valuesArb(r.fields), tmOpts).map(([v, o]) => encodeReport(r.name, v, o))),
  );
}
