import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dictionaryJson, dictionaryMarkdown } from '../../protocols/dictionary/export.ts';
import { DICTIONARY, decodePacket, encodeCommand, encodeEvent, encodeHousekeeping, encodeReport, type FieldDef } from '../../protocols/dictionary/index.ts';
import { valuesArb } from '../../hil/fuzz/dictionary-arbitraries.ts';
import { ProtocolError } from '../../protocols/errors.ts';

function normalise(v: Record<string, unknown>, fields: readonly FieldDef[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const x = v[f.name];
    out[f.name] = x instanceof Uint8Array ? Buffer.from(x).toString('hex') : typeof x === 'number' && !Number.isInteger(x) ? Number(x.toPrecision(6)) : x;
  }
  return out;
}

describe('dictionary', () => {
  it('every command round-trips any valid arguments through encode and decode', () => {
    for (const c of DICTIONARY.commands) {
      if (c.name === 'SET_PARAM' || c.name === 'GET_PARAM') continue; // arguments depend on the parameter table
      fc.assert(
        fc.property(valuesArb(c.fields), (args) => {
          const d = decodePacket(encodeCommand(c.name, args));
          expect(d.name).toBe(c.name);
          expect(normalise(d.fields!, c.fields)).toEqual(normalise(args, c.fields));
        }),
        { numRuns: 30 },
      );
    }
  });
  it('every housekeeping structure, event and report round-trips', () => {
    const tmOpts = { seq: 1, timeS: 1 };
    const kinds = [
      ...DICTIONARY.housekeeping.map((h) => [h, (v: Record<string, unknown>) => encodeHousekeeping(h.name, v, tmOpts)] as const),
      ...DICTIONARY.events.map((e) => [e, (v: Record<string, unknown>) => encodeEvent(e.name, v, tmOpts)] as const),
      ...DICTIONARY.reports.map((r) => [r, (v: Record<string, unknown>) => encodeReport(r.name, v, tmOpts)] as const),
    ];
    for (const [def, enc] of kinds) {
      fc.assert(
        fc.property(valuesArb(def.fields), (v) => {
          const d = decodePacket(enc(v));
          expect(d.name).toBe(def.name);
          expect(normalise(d.fields!, def.fields)).toEqual(normalise(v, def.fields));
        }),
        { numRuns: 20 },
      );
    }
  });
  it('SET_PARAM accepts every parameter default and refuses values outside each range', () => {
    for (const p of DICTIONARY.parameters) {
      expect(decodePacket(encodeCommand('SET_PARAM', { paramId: p.id, value: p.default })).fields).toEqual({ paramId: p.id, value: p.default });
      let err: unknown;
      try {
        encodeCommand('SET_PARAM', { paramId: p.id, value: p.range[1] + 1 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).message).toContain(p.name);
    }
  });
  it('the JSON export carries every definition with its type, unit, range, enum and limits', () => {
    const j = dictionaryJson() as Record<string, Array<Record<string, unknown>>>;
    expect(j.commands.length).toBe(DICTIONARY.commands.length);
    expect(j.events.length).toBe(DICTIONARY.events.length);
    expect(j.parameters.length).toBe(DICTIONARY.parameters.length);
    const setMode = j.commands.find((c) => c.name === 'SET_MODE') as { formalParams: Array<{ type: { enumeratedConstants: unknown[] } }> };
    expect(setMode.formalParams[0].type.enumeratedConstants).toContainEqual({ name: 'QKD', value: 5 });
    const rms = j.telemetryChannels.find((c) => c.name === 'PAYLOAD_HK.pointingErrorRmsUrad');
    expect(rms).toMatchObject({ unit: 'urad', limits: { red: { high: 20 } } });
  });
  it('docs/dictionary.md is what the dictionary generates (regenerate with npm run dict -- --export markdown --out docs/dictionary.md)', () => {
    expect(readFileSync(new URL('../../docs/dictionary.md', import.meta.url), 'utf8')).toBe(dictionaryMarkdown());
  });
});
