import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { configFlash, loadBoardDefinition, register } from '../../boards/definitions.ts';
import { buildNativeAgent, nativeAgentPath } from '../../hil/agent/build-native.ts';
import { startNativeAgent } from '../../hil/agent/native-host.ts';
import { parseBenchConfig } from '../../hil/bench/config.ts';
import { readBoardState } from '../../hil/flash/board-state.ts';
import { connectBoard } from '../../hil/flash/connect.ts';
import { FlashError, flashConfig } from '../../hil/flash/flasher.ts';
import { configRecords } from '../../hil/flash/image.ts';
import { type BoardConfig, configSchema } from '../../hil/flash/schema.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { type BoardRequest, decodeBoardMessage, encodeRequest, frameMessage, type ResponseMessage } from '../../protocols/board-link.ts';
import { crc32c } from '../../protocols/crc.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { decodeSerialFrame, encodeSerialFrame } from '../../protocols/serial-frame.ts';
import { runScriptAsync } from '../cli/run.ts';
import { toolTier } from '../tiers.ts';
import { ccAvailable, PipedAgent, SANITIZER_REPORT } from './native-agent.ts';

/**
 * The native board agent (boards/agent, built with the host cc under AddressSanitizer
 * and UBSan): its protocol behaviour, robustness against random and mutated frames,
 * the board suites on a pty, and the flasher's power-loss safety with real process kills.
 */
const HAVE_CC = toolTier('native board agent tier', ['cc'], ccAvailable());
const HAVE_PTY = toolTier('native board agent pty tier', ['cc', 'socat'], ccAvailable() && socatAvailable());

const resp = (m: unknown) => m as ResponseMessage;
const apt = loadBoardDefinition('apt');
const reg = (name: string) => register(apt, name).address;

describe.runIf(HAVE_CC)('native board agent (cc, sanitized)', () => {
  let exe = '';
  beforeAll(() => {
    exe = buildNativeAgent({ sanitize: true });
  }, 120_000);

  it('builds with -Wall -Wextra -Werror -pedantic and the sanitizers', () => {
    expect(exe).toBe(nativeAgentPath(true));
    expect(existsSync(exe)).toBe(true);
  });

  it('answers as its definition says: identity, all-or-nothing writes, repeats from its cache, NOR flash, SIM not supported, RESET', async () => {
    const a = new PipedAgent(exe, ['--board', 'apt']);
    let seq = 0;
    const ask = async (req: BoardRequest, again = false) => {
      if (!again) seq++;
      a.send(frameMessage(encodeRequest(seq, req)));
      return resp((await a.until(a.messages.length + 1)).at(-1));
    };
    const id = await ask({ op: 'IDENTIFY' });
    expect(id.body).toMatchObject({ op: 'IDENTIFY', identity: { boardId: apt.identity.boardId, emulated: false, name: 'apt' } });
    // One write out of range: nothing changes (checked all before any is applied).
    expect((await ask({ op: 'WRITE_REGS', writes: [{ address: reg('CAM_EXPOSURE_US'), value: 500 }, { address: reg('FSM_ENABLE'), value: 2 }] })).status).toBe('OUT_OF_RANGE');
    expect((await ask({ op: 'READ_REGS', addresses: [reg('CAM_EXPOSURE_US')] })).body).toEqual({ op: 'READ_REGS', values: [{ address: reg('CAM_EXPOSURE_US'), value: 1000 }] });
    expect((await ask({ op: 'WRITE_REGS', writes: [{ address: reg('SPOT_VALID'), value: 1 }] })).status).toBe('READ_ONLY');
    expect((await ask({ op: 'READ_REGS', addresses: [0x7777] })).status).toBe('BAD_ADDRESS');
    // Signed, scaled: -2000 urad is raw -200000 two's complement; -2000.01 is refused.
    const w = await ask({ op: 'WRITE_REGS', writes: [{ address: reg('FSM_CMD_X_URAD'), value: -200000 >>> 0 }] });
    expect(w.body).toEqual({ op: 'WRITE_REGS', values: [{ address: reg('FSM_CMD_X_URAD'), value: -200000 >>> 0 }] });
    expect((await ask({ op: 'WRITE_REGS', writes: [{ address: reg('FSM_CMD_X_URAD'), value: -200001 >>> 0 }] })).status).toBe('OUT_OF_RANGE');
    // The same request again (same seq, same bytes): the same answer, counted as a duplicate.
    const first = await ask({ op: 'WRITE_REGS', writes: [{ address: reg('CAM_EXPOSURE_US'), value: 700 }] });
    expect(await ask({ op: 'WRITE_REGS', writes: [{ address: reg('CAM_EXPOSURE_US'), value: 700 }] }, true)).toEqual(first);
    // Flash: NOR semantics, page alignment, CRC of what is there; RAM cannot be erased.
    const bankB = configFlash(apt).bankBase(1);
    expect((await ask({ op: 'MEM_ERASE', address: bankB, length: 512 })).status).toBe('OK');
    expect((await ask({ op: 'MEM_ERASE', address: bankB + 1, length: 256 })).status).toBe('ALIGNMENT');
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0x7f);
    expect((await ask({ op: 'MEM_WRITE', address: bankB, data })).body).toMatchObject({ crc32c: crc32c(data) });
    expect((await ask({ op: 'MEM_WRITE', address: bankB, data: Uint8Array.of(0xff) })).status).toBe('FLASH_NOT_ERASED');
    expect((await ask({ op: 'MEM_CRC', address: bankB, length: 300 })).body).toMatchObject({ crc32c: crc32c(data) });
    expect((await ask({ op: 'MEM_READ', address: bankB, length: 300 })).body).toEqual({ op: 'MEM_READ', address: bankB, data });
    expect((await ask({ op: 'MEM_ERASE', address: 0x20000000, length: 256 })).status).toBe('NOT_SUPPORTED');
    expect((await ask({ op: 'MEM_READ', address: 0x30000000, length: 4 })).status).toBe('BAD_ADDRESS');
    expect((await ask({ op: 'SIM', sim: { kind: 'FAULT', faultId: 1, active: true } })).status).toBe('NOT_SUPPORTED');
    // A well-framed request with a bad body is answered BAD_REQUEST under its own seq and opcode.
    seq++;
    a.send(encodeSerialFrame(Uint8Array.of(0x11, 0, seq, 0x02, 0)));
    expect(resp((await a.until(a.messages.length + 1)).at(-1))).toEqual({ kind: 'response', seq, op: 'READ_REGS', status: 'BAD_REQUEST' });
    // RESET: answered, then registers back to reset values, reset counter up, flash kept.
    const resets = resp(await ask({ op: 'READ_REGS', addresses: [reg('RESET_COUNT')] })).body as { values: { value: number }[] };
    expect((await ask({ op: 'RESET', mode: 0 })).status).toBe('OK');
    await new Promise((r) => setTimeout(r, 100));
    const after = (await ask({ op: 'READ_REGS', addresses: [reg('RESET_COUNT'), reg('CAM_EXPOSURE_US')] })).body as { values: { value: number }[] };
    expect(after.values.map((v) => v.value)).toEqual([resets.values[0].value + 1, 1000]);
    const crcAnswer = await ask({ op: 'MEM_CRC', address: bankB, length: 300 });
    expect(crcAnswer.body).toMatchObject({ crc32c: crc32c(data) });
    expect(await ask({ op: 'MEM_CRC', address: bankB, length: 300 }, true)).toEqual(crcAnswer);
    a.send(encodeSerialFrame(Uint8Array.of(0x11, 0, 99, 0x02, 0)));
    await a.until(a.messages.length + 1);
    // Counters run from the last boot (the RESET above): one repeat, one bad body.
    const { code, stats } = await a.end();
    expect(code).toBe(0);
    expect(a.stderr).not.toMatch(SANITIZER_REPORT);
    expect(stats).toMatchObject({ requests: 3, duplicates: 1, frameErrors: { BAD_MESSAGE: 1, CRC_MISMATCH: 0, COBS_INVALID: 0 } });
  }, 30_000);

  it('keeps the active bank and counts boots across process restarts on its flash file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'agent-flash-')), 'apt.flash');
    const run = async (reqs: BoardRequest[]) => {
      const a = new PipedAgent(exe, ['--board', 'apt', '--flash', file]);
      reqs.forEach((r, i) => a.send(frameMessage(encodeRequest(i + 1, r))));
      const m = await a.until(reqs.length);
      await a.end();
      expect(a.stderr).not.toMatch(SANITIZER_REPORT);
      return m.map(resp);
    };
    const read: BoardRequest = { op: 'READ_REGS', addresses: [reg('CFG_ACTIVE_BANK'), reg('RESET_COUNT')] };
    expect((await run([read]))[0].body).toEqual({ op: 'READ_REGS', values: [{ address: reg('CFG_ACTIVE_BANK'), value: 0 }, { address: reg('RESET_COUNT'), value: 0 }] });
    await run([{ op: 'WRITE_REGS', writes: [{ address: reg('CFG_ACTIVE_BANK'), value: 1 }] }]);
    // Many boots: the persistent-state log wraps its two pages and still finds the newest record.
    for (let i = 0; i < 20; i++) await run([read]);
    const last = (await run([read]))[0].body as { values: { value: number }[] };
    expect(last.values.map((v) => v.value)).toEqual([1, 22]);
    // Another board's file is refused in one line, exit 1.
    const b = new PipedAgent(exe, ['--board', 'qsrc', '--flash', file]);
    const { code } = await b.end();
    expect(code).toBe(1);
    expect(b.stderr).toMatch(/^agent: not this board's agent flash file/m);
  }, 60_000);

  it('random and mutated frames: no crash, no sanitizer report, every bad frame counted by its error, the link keeps answering (property, seeded)', async () => {
    const valid: BoardRequest[] = [
      { op: 'IDENTIFY' },
      { op: 'READ_REGS', addresses: [0, 1, 2, 3, 4, 5, 6, 0x10] },
      { op: 'WRITE_REGS', writes: [{ address: reg('CAM_EXPOSURE_US'), value: 900 }] },
      { op: 'MEM_READ', address: 0x00100000, length: 600 },
      { op: 'MEM_WRITE', address: 0x20000000, data: new Uint8Array(700).fill(3) },
      { op: 'MEM_CRC', address: 0x00100000, length: 4096 },
      { op: 'STREAM_STOP' },
    ];
    const frames = valid.map((r, i) => frameMessage(encodeRequest(i, r)));
    const payloads = valid.map((r, i) => encodeRequest(i, r));
    const noZero = (b: Uint8Array) => b.filter((x) => x !== 0);
    const chunk = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map(noZero),
      // A valid frame with bits flipped, cut short or with bytes inserted (delimiter excluded).
      fc.tuple(fc.constantFrom(...frames), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 })).map(([f, edits]) => {
        const b = f.slice(0, -1);
        for (const [at, x] of edits) b[at % b.length] ^= x;
        return noZero(b);
      }),
      fc.tuple(fc.constantFrom(...frames), fc.nat()).map(([f, n]) => f.slice(0, 1 + (n % (f.length - 1)))),
      // Good CRC, bad message: mutated request bodies, random payloads, responses and telemetry sent to the board.
      fc.tuple(fc.constantFrom(...payloads), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([p, at, x]) => {
        const b = p.slice();
        b[at % b.length] ^= x;
        return encodeSerialFrame(b).slice(0, -1);
      }),
      fc.uint8Array({ minLength: 0, maxLength: 40 }).map((p) => encodeSerialFrame(p).slice(0, -1)),
      // Over-long: more bytes than the largest request's frame before a delimiter.
      fc.integer({ min: 2100, max: 3000 }).map((n) => new Uint8Array(n).fill(0x41)),
    );
    const chunks = fc.sample(chunk, { numRuns: 600, seed: 20261130 }).filter((c) => c.length > 0);
    // What each chunk must do to the agent, judged by the TypeScript codecs.
    const want = { COBS_INVALID: 0, FRAME_TOO_SHORT: 0, FRAME_TOO_LONG: 0, CRC_MISMATCH: 0, BAD_MESSAGE: 0 };
    let ok = 0;
    let answered = 0;
    const sent: Uint8Array[] = [];
    for (const c of chunks) {
      if (c.length > 2073) {
        want.FRAME_TOO_LONG++;
        sent.push(c);
        continue;
      }
      let payload: Uint8Array;
      try {
        payload = decodeSerialFrame(c);
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        want[e.code as keyof typeof want]++;
        sent.push(c);
        continue;
      }
      let m;
      try {
        m = decodeBoardMessage(payload);
      } catch {
        m = null;
      }
      // A request that resets the board or starts a stream would change what follows: not sent.
      if (m?.kind === 'request' && (m.request.op === 'RESET' || m.request.op === 'STREAM_START')) continue;
      if (payload.length >= 4 && payload[0] === 0x11 && m?.kind !== 'request' && [1, 2, 3, 0x10, 0x11, 0x12, 0x13, 0x20, 0x30, 0x31, 0x40].includes(payload[3])) {
        if (payload[3] === 0x20 || payload[3] === 0x30) continue;
        answered++; // BAD_REQUEST under its own seq and opcode
      } else if (m?.kind === 'request') answered++;
      ok++;
      if (m?.kind !== 'request') want.BAD_MESSAGE++;
      sent.push(c);
    }
    const a = new PipedAgent(exe, ['--board', 'apt']);
    for (const c of sent) {
      a.send(c);
      a.send(Uint8Array.of(0));
    }
    a.send(frameMessage(encodeRequest(4242, { op: 'IDENTIFY' })));
    const msgs = await a.until(answered + 1, 20_000);
    expect(resp(msgs.at(-1))).toMatchObject({ seq: 4242, op: 'IDENTIFY', status: 'OK' });
    const { code, stats } = await a.end();
    expect(code).toBe(0);
    expect(a.stderr).not.toMatch(SANITIZER_REPORT);
    expect(stats?.frameErrors).toEqual(want);
    expect(stats?.framesOk).toBe(ok + 1);
    for (const k of ['COBS_INVALID', 'CRC_MISMATCH', 'BAD_MESSAGE', 'FRAME_TOO_LONG'] as const) expect(want[k], k).toBeGreaterThan(0);
    console.log(`agent robustness: ${sent.length} chunks, errors ${JSON.stringify(stats?.frameErrors)}, ${ok} good frames, ${answered} answered`);
  }, 60_000);
});

const schema = configSchema('qsrc');
const STATES = ['signal', 'decoy', 'vacuum'] as const;
const pattern = (n: number, salt: number) => Array.from({ length: n }, (_, i) => STATES[(i * 7 + salt + (i >> 3)) % 3]);
const OLD: BoardConfig = { board: 'qsrc', configVersion: 1, parameters: { MU_SIGNAL: 0.7, MU_DECOY: 0.15, P_SIGNAL: 0.6, P_DECOY: 0.2, P_VACUUM: 0.2 }, tables: { pattern: pattern(40, 1) } };
const NEW: BoardConfig = { board: 'qsrc', configVersion: 1, parameters: { MU_SIGNAL: 0.55, MU_DECOY: 0.12, MU_VACUUM: 0.001, SOURCE_REP_RATE_MHZ: 500 }, tables: { pattern: pattern(600, 2) } };

describe.runIf(HAVE_PTY)('native board agent on a pty (cc, socat)', () => {
  beforeAll(() => {
    buildNativeAgent({ sanitize: true });
  }, 120_000);

  it('`npm run hil` runs boards, apt and config-flash against sanitized native agents; emulator-only tests skip with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-agent-'));
    const bench = join(dir, 'agent.json');
    const boards = Object.fromEntries(['qsrc', 'apt', 'lct', 'acs'].map((b) => [b, { mode: 'agent', sanitize: true }]));
    writeFileSync(bench, JSON.stringify({ name: 'agent-sanitized', boards, captureDir: join(dir, 'captures') }));
    parseBenchConfig(JSON.parse(readFileSync(bench, 'utf8')), bench);
    const r = await runScriptAsync('hil', ['--bench', bench, '--report-dir', join(dir, 'report'), 'boards', 'apt', 'config-flash']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const xml = readFileSync(join(dir, 'report', 'junit.xml'), 'utf8');
    const suites = [...xml.matchAll(/<testsuite name="hil\/suites\/([a-z-]+)\.hil\.ts"[^>]*tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/g)].map((m) => ({ suite: m[1], tests: +m[2], failures: +m[3], errors: +m[4], skipped: +m[5] }));
    expect(suites.map((s) => s.suite).sort()).toEqual(['apt', 'boards', 'config-flash']);
    for (const s of suites) expect(s.failures + s.errors, s.suite).toBe(0);
    expect(suites.reduce((n, s) => n + s.tests - s.skipped, 0)).toBeGreaterThanOrEqual(4);
    const skips = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^\s*skip\s/.test(l));
    expect(skips.length).toBeGreaterThan(0);
    for (const l of skips) expect(l).toMatch(/needs emulated boards \(simulation control\)|needs hardware or an emulator behind the registers/);
  }, 240_000);

  it('flashing survives power cuts at bytes across the session: the board boots the old or the new config, never a torn one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-powerloss-'));
    const base = join(dir, 'base.flash');
    const session = async (file: string, config: BoardConfig, cut?: number) => {
      const agent = await startNativeAgent('qsrc', { sanitize: true, flashFile: file, extraArgs: cut === undefined ? [] : ['--cut-after-rx-bytes', String(cut)] });
      let stderr = '';
      agent.child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const conn = await connectBoard({ board: 'qsrc', port: agent.address, timeoutMs: 60, retries: 1 });
      let verdict: { ok: boolean; outcome?: string } = { ok: true };
      try {
        await flashConfig(conn.driver, schema, config, { clock: conn.clock, baud: conn.baud });
      } catch (e) {
        if (!(e instanceof FlashError)) throw e;
        verdict = { ok: false, outcome: e.outcome };
      }
      await conn.close();
      await agent.close();
      expect(stderr).not.toMatch(SANITIZER_REPORT);
      const rx = /"rxBytes":(\d+)/.exec(stderr);
      return { verdict, rxBytes: rx ? Number(rx[1]) : 0 };
    };
    const boot = async (file: string) => {
      const agent = await startNativeAgent('qsrc', { sanitize: true, flashFile: file });
      const conn = await connectBoard({ board: 'qsrc', port: agent.address });
      try {
        return await readBoardState(conn.driver, schema, { clock: conn.clock, readBooted: true });
      } finally {
        await conn.close();
        await agent.close();
      }
    };
    // The board runs OLD; a clean session to NEW measures the bytes a flash sends.
    expect((await session(base, OLD)).verdict.ok).toBe(true);
    const before = await boot(base);
    const oldGen = before.boot.header!.generation;
    const clean = join(dir, 'clean.flash');
    copyFileSync(base, clean);
    const { verdict, rxBytes } = await session(clean, NEW);
    expect(verdict.ok).toBe(true);
    expect(rxBytes).toBeGreaterThan(1000);
    const cuts = [1, ...Array.from({ length: 9 }, (_, i) => Math.round(((i + 1) * rxBytes) / 10)), rxBytes - 20, rxBytes - 5];
    const seen = { old: 0, new: 0 };
    for (const cut of cuts) {
      const file = join(dir, `cut-${cut}.flash`);
      copyFileSync(base, file);
      const v = (await session(file, NEW, cut)).verdict;
      const state = await boot(file);
      const where = `cut after ${cut} of ${rxBytes} bytes: boots ${state.boot.reason}; flasher ${v.ok ? 'ok' : v.outcome}`;
      expect(state.boot.image, where).not.toBeNull();
      const switched = state.activeBank !== before.activeBank;
      const want = switched ? NEW : OLD;
      expect(state.boot.header!.generation, where).toBe(switched ? oldGen + 1 : oldGen);
      const got = state.boot.image!.params;
      const records = configRecords(want, schema);
      expect([...got.entries()].sort(), where).toEqual([...records.entries()].sort());
      if (v.outcome === 'previous') expect(switched, where).toBe(false);
      seen[switched ? 'new' : 'old']++;
    }
    expect(seen.old).toBeGreaterThan(0);
    console.log(`agent power loss: ${cuts.length} cuts over ${rxBytes} bytes: booted old ${seen.old}, new ${seen.new}`);
  }, 240_000);
});
