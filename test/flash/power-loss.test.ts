import { describe, expect, it } from 'vitest';
import { Prng } from '../../boards/prng.ts';
import { cobsEncode } from '../../protocols/cobs.ts';
import { decodeSerialFrame } from '../../protocols/serial-frame.ts';
import { bootOfEmulator, installImage } from '../../hil/flash/emulated-boot.ts';
import { FlashError, flashConfig } from '../../hil/flash/flasher.ts';
import { configRecords, configToImage } from '../../hil/flash/image.ts';
import { type BoardConfig, configSchema } from '../../hil/flash/schema.ts';
import { simRig, type SimRig } from './harness.ts';

/**
 * Power-loss safety of a flash session, in-process on simulated time: power is cut at
 * every page boundary and frame boundary of the byte stream, at random bytes, and at
 * instants inside erase and program operations (torn flash); the line goes dead
 * mid-flash; garbage is injected. After each run the board is rebooted and judged by
 * the boot rule: it must boot a valid config, the old one while the active bank is
 * unchanged and the new one once it switched, and the flasher's own verdict must agree.
 */
const schema = configSchema('qsrc');
const STATES = ['signal', 'decoy', 'vacuum'] as const;
const pattern = (n: number, salt: number) => Array.from({ length: n }, (_, i) => STATES[(i * 7 + salt + (i >> 3)) % 3]);
const OLD: BoardConfig = { board: 'qsrc', configVersion: 1, parameters: { MU_SIGNAL: 0.7, MU_DECOY: 0.15, P_SIGNAL: 0.6, P_DECOY: 0.2, P_VACUUM: 0.2 }, tables: { pattern: pattern(40, 1) } };
const NEW: BoardConfig = {
  board: 'qsrc',
  configVersion: 1,
  parameters: { MU_SIGNAL: 0.55, MU_DECOY: 0.12, MU_VACUUM: 0.001, SOURCE_REP_RATE_MHZ: 500, PULSES_PER_FRAME: 100_000_000, LASER_TEMP_SETPOINT_C: 24.5 },
  tables: { pattern: pattern(600, 2) },
};
const STALE: BoardConfig = { board: 'qsrc', configVersion: 1, parameters: { MU_SIGNAL: 0.9 }, tables: {} };
const OLD_GEN = 7;
const NEW_GEN = 8;
const BAUD = 921_600;
const LONG_OFF_MS = 1e9;

/** A board running OLD (generation 7) from bank A, with a stale generation 6 in bank B. */
async function freshBoard(seed = 1): Promise<SimRig> {
  const r = await simRig('qsrc', { seed });
  installImage(r.emu, 1, configToImage(STALE, schema, 6), false);
  installImage(r.emu, 0, configToImage(OLD, schema, OLD_GEN), true);
  return r;
}

type Verdict = { ok: true } | { ok: false; outcome: FlashError['outcome']; message: string };

async function runFlash(r: SimRig, first = true): Promise<Verdict> {
  try {
    const res = await flashConfig(r.driver, schema, NEW, { clock: r.clock, baud: BAUD });
    if (first) {
      expect(res.oldGeneration).toBe(OLD_GEN);
      expect(res.newGeneration).toBe(NEW_GEN);
    }
    return { ok: true };
  } catch (e) {
    if (!(e instanceof FlashError)) throw e;
    return { ok: false, outcome: e.outcome, message: e.message };
  }
}

function sameRecords(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!Object.is(b.get(k), v)) return false;
  return true;
}

/** Reboots the board and checks what it boots against the bank switch and the flasher's verdict. */
function judge(r: SimRig, v: Verdict, label: string): 'old' | 'new' {
  r.emu.powerOn();
  r.emu.reset();
  const boot = bootOfEmulator(r.emu, schema);
  const where = `${label}: boots ${boot.reason}; flasher ${v.ok ? 'succeeded' : `failed (${v.outcome}): ${v.message}`}`;
  expect(boot.image, where).not.toBeNull();
  const switched = r.emu.flash.activeBank === 1;
  const want = switched ? NEW : OLD;
  expect(boot.header!.generation, where).toBe(switched ? NEW_GEN : OLD_GEN);
  expect(sameRecords(boot.image!.params, configRecords(want, schema)), where).toBe(true);
  if (v.ok) expect(switched, where).toBe(true);
  else if (v.outcome === 'previous') expect(switched, where).toBe(false);
  else if (v.outcome === 'new' || v.outcome === 'acknowledged') expect(switched, where).toBe(true);
  return switched ? 'new' : 'old';
}

/** Byte offset, within a frame on the wire, where payload byte `k` travels (COBS shifts it). */
function wireOffset(payload: Uint8Array, k: number): number {
  return cobsEncode(payload.subarray(0, k)).length;
}

interface Reference {
  totalBytes: number;
  pageCuts: number[];
  frameCuts: number[];
  /** Sim instants inside erase/program operations (from the clean run). */
  tornInstants: number[];
  durationMs: number;
}

/** A clean flash on an identical board: where the frames and pages are in the byte stream, and when flash operations run. */
async function reference(): Promise<Reference> {
  const r = await freshBoard();
  const starts: number[] = [];
  const recv = r.emu.receive.bind(r.emu);
  const pending: { t: number }[] = [];
  r.emu.receive = (b: Uint8Array) => {
    if (b.includes(0)) pending.push({ t: r.clock.now() });
    recv(b);
  };
  const v = await runFlash(r);
  expect(v.ok).toBe(true);
  const pageCuts: number[] = [];
  const frameCuts: number[] = [];
  const pageProgramMs = r.emu.def.memory.find((m) => m.name === 'config')!.pageProgramMs!;
  const tornInstants: number[] = [];
  r.frames.forEach((f, i) => {
    frameCuts.push(f.offset, f.offset + 1, f.offset + f.bytes.length - 1, f.offset + f.bytes.length);
    starts.push(f.offset);
    if (f.op === 'MEM_WRITE' || f.op === 'MEM_ERASE') {
      const payload = decodeSerialFrame(f.bytes.subarray(0, f.bytes.length - 1));
      const t0 = pending[i]?.t;
      if (f.op === 'MEM_WRITE') {
        const dataLen = payload.length - 10;
        const pages = Math.ceil(dataLen / 256);
        // Header 4 + address 4 + length 2 bytes precede the data; page p starts at 10 + 256 p.
        for (let p = 0; p <= pages; p++) pageCuts.push(f.offset + wireOffset(payload, Math.min(payload.length, 10 + p * 256)));
        if (t0 !== undefined) for (const frac of [0.1, 0.5, 0.9]) tornInstants.push(t0 + frac * pages * pageProgramMs);
      } else if (t0 !== undefined) {
        const len = new DataView(payload.buffer, payload.byteOffset).getUint32(8);
        for (const frac of [0.05, 0.3, 0.6, 0.95]) tornInstants.push(t0 + (frac * len * pageProgramMs) / 256);
      }
    }
  });
  return { totalBytes: r.txBytes(), pageCuts, frameCuts, tornInstants, durationMs: r.clock.now() };
}

describe('flashing survives power loss, a dead line and garbage', () => {
  it('boots the old or the new config, never a corrupt one, at hundreds of cut points', async () => {
    const ref = await reference();
    const prng = new Prng(20261122, 7);
    const random = Array.from({ length: 240 }, () => Math.floor(prng.next() * ref.totalBytes));
    const byteCuts = [...new Set([0, ...ref.pageCuts, ...ref.frameCuts, ...random])].filter((n) => n >= 0 && n <= ref.totalBytes).sort((a, b) => a - b);
    const counts = { old: 0, new: 0 };
    let flasherFailed = 0;
    let recovered = 0;
    for (const [i, n] of byteCuts.entries()) {
      const r = await freshBoard();
      // Alternate: the board comes back at once (the flasher's retries meet a rebooted board) or stays off until the flasher gave up.
      r.emu.armPowerCut(n, i % 2 === 0 ? 5 : LONG_OFF_MS);
      const v = await runFlash(r);
      counts[judge(r, v, `byte cut ${n}`)]++;
      if (!v.ok) {
        flasherFailed++;
        // A failed flash never blocks the next one.
        const again = await runFlash(r, false);
        expect(again.ok, `re-flash after cut ${n}`).toBe(true);
        expect(bootOfEmulator(r.emu, schema).header!.generation).toBeGreaterThanOrEqual(NEW_GEN);
        recovered++;
      }
    }
    // Instants inside erase and program operations (the flash is torn), plus random instants.
    const instants = [...ref.tornInstants, ...Array.from({ length: 60 }, () => prng.next() * ref.durationMs)];
    let torn = 0;
    for (const [i, t] of instants.entries()) {
      const r = await freshBoard();
      r.clock.setTimeout(() => {
        // STATUS bit 2: flash busy, so this cut tears an erase or a page program.
        if (r.emu.readRegister('STATUS') & 4) torn++;
        r.emu.cutPower(i % 2 === 0 ? 5 : LONG_OFF_MS);
      }, t);
      const v = await runFlash(r);
      counts[judge(r, v, `cut at t=${t.toFixed(3)} ms`)]++;
    }
    const total = byteCuts.length + instants.length;
    console.log(
      `power-loss: ${total} cut points (${byteCuts.length} at bytes: ${ref.pageCuts.length} page boundaries, ${ref.frameCuts.length} frame edges, ${random.length} random; ${instants.length} at instants, ${ref.tornInstants.length} aimed inside erase/program, ${torn} tore one), all booted valid config (old ${counts.old}, new ${counts.new}); flasher failed ${flasherFailed} times, re-flash recovered ${recovered}`,
    );
    expect(total).toBeGreaterThanOrEqual(300);
    expect(torn).toBeGreaterThan(0);
    expect(counts.old).toBeGreaterThan(0);
    expect(counts.new).toBeGreaterThan(0);
  });

  it('a blank board (safe defaults) boots the defaults or the complete new image, never a torn one', async () => {
    const ref = await reference();
    const prng = new Prng(20261122, 9);
    const points = [...ref.pageCuts, ...Array.from({ length: 40 }, () => Math.floor(prng.next() * ref.totalBytes))];
    const counts = { defaults: 0, new: 0 };
    for (const [i, n] of points.entries()) {
      const r = await simRig('qsrc');
      r.emu.armPowerCut(n, i % 2 === 0 ? 5 : LONG_OFF_MS);
      let v: Verdict;
      try {
        await flashConfig(r.driver, schema, NEW, { clock: r.clock, baud: BAUD });
        v = { ok: true };
      } catch (e) {
        if (!(e instanceof FlashError)) throw e;
        v = { ok: false, outcome: e.outcome, message: e.message };
      }
      r.emu.powerOn();
      const boot = bootOfEmulator(r.emu, schema);
      const where = `blank board, cut ${n}: boots ${boot.reason}`;
      if (boot.image) {
        // With no valid bank the complete image commits on its own; it must be the whole new config.
        expect(boot.header!.generation, where).toBe(1);
        expect(sameRecords(boot.image.params, configRecords(NEW, schema)), where).toBe(true);
        counts.new++;
      } else {
        expect(boot.source, where).toBe('defaults');
        counts.defaults++;
      }
      if (v.ok) expect(boot.image, where).not.toBeNull();
      else if (v.outcome === 'previous') expect(boot.image, where).toBeNull();
    }
    console.log(`power-loss (blank board): ${points.length} cut points, booted defaults ${counts.defaults}, complete new image ${counts.new}, never a torn one`);
    expect(counts.defaults).toBeGreaterThan(0);
  });

  it('a board that stops answering mid-flash keeps a valid config', async () => {
    const ref = await reference();
    const prng = new Prng(20261122, 8);
    const points = [...ref.frameCuts.filter((_, i) => i % 4 === 0), ...Array.from({ length: 40 }, () => Math.floor(prng.next() * ref.totalBytes))];
    const counts = { old: 0, new: 0 };
    for (const n of points) {
      const r = await freshBoard();
      let dead = false;
      r.beforeWrite = (offset, bytes) => {
        if (!dead && offset + bytes.length > n) {
          dead = true;
          r.line.disconnect();
        }
      };
      const v = await runFlash(r);
      if (dead && !v.ok) expect(['previous', 'acknowledged', 'unknown']).toContain(v.outcome);
      r.line.reconnect();
      counts[judge(r, v, `line dead from byte ${n}`)]++;
    }
    console.log(`stop-answering: ${points.length} points, all booted valid config (old ${counts.old}, new ${counts.new})`);
    expect(counts.old).toBeGreaterThan(0);
  });

  it('garbage on the line: the flash completes or fails cleanly, the board boots a valid config', async () => {
    const counts = { old: 0, new: 0 };
    let completed = 0;
    const seeds = 40;
    for (let s = 1; s <= seeds; s++) {
      const r = await freshBoard(s);
      const prng = new Prng(s, 99);
      // Bit errors and lost bytes both ways, plus bursts of random bytes (zeros included) straight into the board's receiver.
      r.line.inject({ corruptRate: s % 2 ? 2e-4 : 1e-3, dropRate: s % 3 ? 0 : 2e-4, direction: 'both' });
      r.beforeWrite = () => {
        if (prng.next() < 0.2) r.emu.receive(Uint8Array.from({ length: 1 + Math.floor(prng.next() * 40) }, () => (prng.next() < 0.1 ? 0 : Math.floor(prng.next() * 256))));
      };
      const v = await runFlash(r);
      if (v.ok) completed++;
      r.line.clear();
      r.beforeWrite = null;
      counts[judge(r, v, `garbage seed ${s}`)]++;
    }
    console.log(`garbage: ${seeds} sessions, ${completed} completed despite errors, all booted valid config (old ${counts.old}, new ${counts.new})`);
    expect(completed).toBeGreaterThan(seeds / 2);
  });
});
