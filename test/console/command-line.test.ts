import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { CommandLineError, formatCommandLine, parseCommandLine, parseCommandWords, parseTelemetryItem, TELEMETRY_ITEMS, tokenize } from '../../hil/console/command-line.ts';
import { type ConsoleBench, followTelemetry, openConsoleBench, sendCommand } from '../../hil/console/operations.ts';
import { valuesArb } from '../../hil/fuzz/dictionary-arbitraries.ts';
import { DICTIONARY, encodeCommandAppData } from '../../protocols/dictionary/index.ts';
import { ROOT } from '../cli/run.ts';

/**
 * Issue 16, the scriptable twins: what an operator types (`NAME field=value ...`,
 * `PACKET.field`) read against the dictionary, and the operations on the bench the
 * console and `npm run cmd` / `npm run tlm` share.
 */

/** The error a parse throws (fails the test when it parses). */
function refusal(f: () => unknown): CommandLineError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CommandLineError);
    return e as CommandLineError;
  }
  throw new Error('expected a CommandLineError, but it parsed');
}

describe('command lines against the dictionary', () => {
  it('reads enums by name, numbers, booleans, quoted strings and hex bytes', () => {
    expect(parseCommandLine('SET_MODE mode=ACQUISITION')).toMatchObject({ name: 'SET_MODE', args: { mode: 'ACQUISITION' }, hazardous: false });
    expect(parseCommandLine('set_mode mode=safe').args).toEqual({ mode: 'SAFE' });
    expect(parseCommandLine('SET_HK_INTERVAL sid=0x1 intervalMs=1e3').args).toEqual({ sid: 1, intervalMs: 1000 });
    expect(parseCommandLine('SET_PARAM paramId=2 value=0.65').args).toEqual({ paramId: 2, value: 0.65 });
    expect(parseCommandLine('LOAD_MEMORY memoryId=CONFIG_B offset=16 data=0a0BfF').args).toEqual({ memoryId: 'CONFIG_B', offset: 16, data: Uint8Array.from([0x0a, 0x0b, 0xff]) });
    const plan = parseCommandLine(
      `UPLOAD_PASS_PLAN station=beijing latDeg=40 lonDeg=116.3 altM=50 startS=100 endS=700 minElevationDeg=15 tleLine1="1 25544U 98067A \\"x\\"" tleLine2='2 25544'`,
    );
    expect(plan.args).toMatchObject({ station: 'beijing', tleLine1: '1 25544U 98067A "x"', tleLine2: '2 25544' });
    expect(parseCommandWords(['PING']).args).toEqual({});
  });

  it('refuses naming the command, the field and the value', () => {
    expect(refusal(() => parseCommandLine('SET_MODE mode=WARP'))).toMatchObject({ code: 'OUT_OF_RANGE', details: { command: 'SET_MODE', field: 'mode', value: 'WARP' } });
    const range = refusal(() => parseCommandLine('SET_HK_INTERVAL sid=1 intervalMs=5'));
    expect(range).toMatchObject({ code: 'OUT_OF_RANGE', details: { field: 'intervalMs' } });
    expect(range.message).toMatch(/field 'intervalMs': 5 ms outside 100\.\.600000/);
    expect(refusal(() => parseCommandLine('SET_PARAM paramId=1 value=5000'))).toMatchObject({ code: 'OUT_OF_RANGE', details: { field: 'value' } });
    expect(refusal(() => parseCommandLine('SET_PARAM paramId=999 value=1'))).toMatchObject({ code: 'OUT_OF_RANGE', details: { field: 'paramId' } });
    expect(refusal(() => parseCommandLine('DUMP_MEMORY memoryId=CONFIG_A offset=0 length=-1'))).toMatchObject({ details: { field: 'length' } });
    expect(refusal(() => parseCommandLine('SET_HK_INTERVAL sid=one intervalMs=1000'))).toMatchObject({ code: 'BAD_VALUE', details: { field: 'sid', value: 'one' } });
    expect(refusal(() => parseCommandLine('LOAD_MEMORY memoryId=CONFIG_A offset=0 data=abc'))).toMatchObject({ code: 'BAD_VALUE', details: { field: 'data' } });
    const unknown = refusal(() => parseCommandLine('SET_MODE mod=SAFE'));
    expect(unknown).toMatchObject({ code: 'UNKNOWN_FIELD', details: { field: 'mod', suggestions: ['mode'] } });
    expect(refusal(() => parseCommandLine('PNG'))).toMatchObject({ code: 'UNKNOWN_COMMAND', details: { command: 'PNG', suggestions: expect.arrayContaining(['PING']) } });
    expect(refusal(() => parseCommandLine('SET_MODE'))).toMatchObject({ code: 'MISSING_FIELD', details: { field: 'mode' } });
    expect(refusal(() => parseCommandLine('SET_MODE mode=SAFE mode=OFF'))).toMatchObject({ code: 'DUPLICATE_FIELD', details: { field: 'mode' } });
    expect(refusal(() => parseCommandLine('PING now'))).toMatchObject({ code: 'SYNTAX' });
    expect(refusal(() => parseCommandLine('   '))).toMatchObject({ code: 'EMPTY' });
    expect(refusal(() => tokenize('SET_MODE mode="SAFE'))).toMatchObject({ code: 'SYNTAX' });
  });

  it('marks the config bank switch and the board reset hazardous, nothing else', () => {
    const hazardous = DICTIONARY.commands.filter((c) => c.hazardous).map((c) => c.name);
    expect(hazardous).toEqual(['SELECT_CONFIG_BANK', 'RESET_BOARD']);
    expect(parseCommandLine('RESET_BOARD board=apt').hazardous).toBe(true);
    expect(parseCommandLine('SELECT_CONFIG_BANK bank=B').hazardous).toBe(true);
  });

  it('property: every valid command line of the dictionary parses to the same command', () => {
    const plain = DICTIONARY.commands.filter((c) => c.name !== 'SET_PARAM' && c.name !== 'GET_PARAM');
    const param = fc.constantFrom(...DICTIONARY.parameters);
    const command = fc.oneof(
      fc.constantFrom(...plain).chain((c) => valuesArb(c.fields).map((args) => ({ name: c.name, args }))),
      param.map((p) => ({ name: 'GET_PARAM', args: { paramId: p.id } as Record<string, unknown> })),
      param.chain((p) => fc.double({ min: p.range[0], max: p.range[1], noNaN: true }).map((x) => ({ name: 'SET_PARAM', args: { paramId: p.id, value: p.integer ? Math.round(x) : x } }))),
    );
    fc.assert(
      fc.property(command, ({ name, args }) => {
        const line = formatCommandLine(name, args);
        const parsed = parseCommandLine(line);
        expect(parsed.name).toBe(name);
        expect(Buffer.from(encodeCommandAppData(name, parsed.args)).equals(Buffer.from(encodeCommandAppData(name, args))), line).toBe(true);
        // The same words as the shell would pass them.
        expect(parseCommandWords(tokenize(line)).args).toEqual(parsed.args);
      }),
      { numRuns: 500 },
    );
  });

  it('property: any string is parsed or refused with a CommandLineError, never anything else', () => {
    const names = DICTIONARY.commands.flatMap((c) => [c.name, ...c.fields.map((f) => `${f.name}=`)]);
    const fragments = fc.constantFrom(...names, '=', ' ', '"', "'", '\\', '0x', '-1e999', 'NaN', '1e3', 'SAFE', 'true', '.', 'PAYLOAD_HK', 'ff', '');
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.array(fragments, { maxLength: 12 }).map((a) => a.join('')), fc.array(fragments, { maxLength: 8 }).map((a) => a.join(' ')));
    fc.assert(
      fc.property(text, (s) => {
        for (const parse of [parseCommandLine, parseTelemetryItem]) {
          try {
            parse(s);
          } catch (e) {
            if (!(e instanceof CommandLineError)) throw e;
            expect(e.message.length).toBeGreaterThan(5);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('telemetry items', () => {
  it('names every housekeeping field as PACKET.field; unknown packets and fields are refused with close names', () => {
    expect(TELEMETRY_ITEMS).toContain('PAYLOAD_HK.mode');
    expect(TELEMETRY_ITEMS).toContain('QKD_HK.qber');
    expect(parseTelemetryItem('PAYLOAD_HK.laserTempC')).toMatchObject({ item: 'PAYLOAD_HK.laserTempC', field: { unit: 'degC' } });
    expect(parseTelemetryItem('payload_hk.MODE').item).toBe('PAYLOAD_HK.mode');
    expect(refusal(() => parseTelemetryItem('PAYLOAD_HK.lasertemp'))).toMatchObject({ code: 'UNKNOWN_FIELD', details: { suggestions: ['PAYLOAD_HK.laserTempC'] } });
    expect(refusal(() => parseTelemetryItem('PAYLOD_HK.mode'))).toMatchObject({ code: 'UNKNOWN_PACKET', details: { suggestions: expect.arrayContaining(['PAYLOAD_HK']) } });
    expect(refusal(() => parseTelemetryItem('PAYLOAD_HK'))).toMatchObject({ code: 'SYNTAX' });
  });
});

describe('operations on the default emulated bench (the payload hosted and booted)', () => {
  let cb: ConsoleBench;
  beforeAll(async () => {
    cb = await openConsoleBench(loadBenchConfig(resolve(ROOT, 'hil/benches/emulated.json')), { seed: 1, root: ROOT });
  });
  afterAll(async () => {
    await cb?.close();
  });

  it('PING: the three ST01 reports and the PONG', async () => {
    const out = await sendCommand(cb, parseCommandLine('PING'));
    expect(out.status).toBe('completed');
    expect(out.reports.map((r) => r.name)).toEqual(['VERIFY_ACCEPT_OK', 'VERIFY_START_OK', 'PONG', 'VERIFY_COMPLETE_OK']);
    expect(out.reports.filter((r) => r.kind === 'verification').every((r) => r.fields.tcSeq === out.seq)).toBe(true);
  });

  it('SET_MODE round trip: completed, and PAYLOAD_HK.mode then reports the mode', async () => {
    const refused = await sendCommand(cb, parseCommandLine('SET_MODE mode=ACQUISITION'));
    expect(refused).toMatchObject({ status: 'failed', failure: { stage: 'VERIFY_START_FAIL', code: 'EXECUTION_FAILED', detail: expect.stringMatching(/no pass plan/) } });
    const out = await sendCommand(cb, parseCommandLine('SET_MODE mode=SAFE'));
    expect(out.status).toBe('completed');
    expect(out.reports.map((r) => r.name)).toEqual(['VERIFY_ACCEPT_OK', 'VERIFY_START_OK', 'VERIFY_COMPLETE_OK']);
    const next = await followTelemetry(cb, parseTelemetryItem('PAYLOAD_HK.mode'), { pace: null, timeoutMs: 5000 }).next();
    expect(next.value).toMatchObject({ item: 'PAYLOAD_HK.mode', value: 'SAFE' });
  });

  it('follows an item with its unit, one update per packet', async () => {
    const got = [];
    for await (const u of followTelemetry(cb, parseTelemetryItem('PAYLOAD_HK.laserTempC'), { pace: null, timeoutMs: 5000 })) {
      got.push(u);
      if (got.length === 3) break;
    }
    expect(got.map((u) => u.unit)).toEqual(['degC', 'degC', 'degC']);
    expect(got[1].t - got[0].t).toBeCloseTo(1000, 0);
  });
});
