import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, it, type TestFunction } from 'vitest';
import type { BoardName } from '../boards/definitions.ts';
import { Bench, clockPlan, emulatedByBench } from './bench/bench.ts';
import { applyPortOverrides, type BenchConfig, describeBoardLine, loadBenchConfig } from './bench/config.ts';
import type { PayloadEndpoint } from './bench/payload.ts';
import { benchSuiteData } from './report/suite-data.ts';

/**
 * The bench fixture for suites (hil/suites/*.hil.ts). The bench comes from the
 * environment that `npm run hil` sets: HIL_BENCH (config file, default
 * hil/benches/emulated.json), HIL_SEED (default 1), HIL_PORTS ("apt=/dev/pts/7,...").
 * At the end the suite's histories, events, limit transitions and each board's identity
 * (as read at the bench's identity check) go to <report dir>/data/<suite>.json for the
 * HTML report (hil/report/suite-data.ts).
 */
export interface BenchContext {
  readonly bench: Bench;
  /** `it` for a test that needs `need` of `boards` (default: the suite's boards); see Need. */
  needs(need: Need, boards?: readonly BoardName[]): NeedyIt;
}

export function benchConfigFromEnv() {
  const root = process.env.HIL_ROOT ?? process.cwd();
  const file = resolve(root, process.env.HIL_BENCH ?? 'hil/benches/emulated.json');
  return applyPortOverrides(loadBenchConfig(file), process.env.HIL_PORTS);
}

/** "apt on /dev/ttyUSB0, lct on a pty": where `boards` are on the config, for skip reasons. */
function boardLines(cfg: BenchConfig, boards: readonly BoardName[]): string {
  return boards.map((b) => `${b} ${cfg.boards[b] ? describeBoardLine(cfg.boards[b]!) : 'absent'}`).join(', ');
}

/**
 * Why some of `boards` are not in-process emulators on this run's bench, or null when
 * all are (the suites size their timeouts by it: in-process a pass takes seconds).
 * Decided from the bench config, so it is known when the tests are collected.
 */
export function emulatorMissing(boards: readonly BoardName[]): string | null {
  const cfg = benchConfigFromEnv();
  const other = boards.filter((b) => cfg.boards[b]?.mode !== 'emulated');
  if (other.length === 0) return null;
  return `needs in-process emulators; bench ${cfg.name} has ${boardLines(cfg, other)}`;
}

/**
 * Why this run's bench does not run `boards` on simulated time, or null when it does:
 * every one emulated by the bench itself (in-process, or an emulator process it starts on
 * a pty, in lockstep) and the clock not set to wall. Decided from the bench config, so
 * it is known when the tests are collected.
 */
export function simTimeMissing(boards: readonly BoardName[]): string | null {
  const cfg = benchConfigFromEnv();
  const other = boards.filter((b) => !cfg.boards[b] || !emulatedByBench(cfg.boards[b]!));
  if (other.length > 0) return `needs simulated time on boards the bench emulates itself (in-process or on a pty); bench ${cfg.name} has ${boardLines(cfg, other)}`;
  return clockPlan(cfg, boards).clock === 'sim' ? null : `needs simulated time; bench ${cfg.name} runs on the wall clock`;
}

/** Bench modes that run the board agent with nothing behind its registers (they hold what was written). */
const BARE_AGENT_MODES: ReadonlySet<string> = new Set(['agent', 'qemu']);

/**
 * Why some of `boards` have no hardware (nor an emulator's physics) behind their
 * registers on this run's bench, or null: the board agent on the host or in QEMU.
 * Decided from the bench config, so it is known when the tests are collected.
 */
export function hardwareMissing(boards: readonly BoardName[]): string | null {
  const cfg = benchConfigFromEnv();
  const bare = boards.filter((b) => cfg.boards[b] && BARE_AGENT_MODES.has(cfg.boards[b]!.mode));
  return bare.length === 0 ? null : `needs hardware or an emulator behind the registers; bench ${cfg.name} has ${boardLines(cfg, bare)} (the board agent alone: registers hold what was written)`;
}

/**
 * What a test needs of the bench beyond its lines:
 *   'sim'       every board answers simulation control (environment, faults, power): an
 *               emulator on any line, known from each board's IDENTIFY when the test runs;
 *   'sim-time'  every board emulated by the bench on its simulated clock (in-process or in
 *               lockstep on a pty): what a run planned in simulated time needs (the mission
 *               pass: orbit, beacon and link loss by SIM requests); known from the bench config.
 *   'hardware'  the board's registers are driven by hardware or an emulator's physics, not
 *               the bare board agent (bench modes agent, qemu); known from the bench config.
 * On a bench without it the test is reported skipped with the reason (in its name, or
 * as the skip note), never silently skipped and never run in-process instead.
 */
export type Need = 'sim' | 'sim-time' | 'hardware';
export type NeedyIt = (name: string, fn: () => unknown, timeoutMs?: number) => void;

function needIt(need: Need, boards: readonly BoardName[], bench: () => Bench): NeedyIt {
  if (need === 'sim-time' || need === 'hardware') {
    const why = need === 'sim-time' ? simTimeMissing(boards) : hardwareMissing(boards);
    return (name, fn, timeoutMs) => (why ? it.skip(`${name} [skipped: ${why}]`, fn, timeoutMs) : it(name, fn, timeoutMs));
  }
  return (name, fn, timeoutMs) =>
    it(
      name,
      async (t) => {
        const why = await simMissing(bench(), boards);
        if (why) t.skip(why);
        return fn();
      },
      timeoutMs,
    );
}

/** Why some of `boards` do not answer simulation control (their identity says real hardware), or null. */
export async function simMissing(bench: Bench, boards: readonly BoardName[]): Promise<string | null> {
  const real: string[] = [];
  for (const n of boards) {
    const b = bench.board(n);
    b.identity ??= await b.driver.verifyIdentity();
    if (!b.identity.emulated) real.push(`${n} on ${b.port}`);
  }
  return real.length === 0 ? null : `needs emulated boards (simulation control); real hardware: ${real.join(', ')}`;
}

/**
 * Opens the bench for a suite file before its tests and closes it after. `payload`
 * builds the payload endpoint once the bench exists (so the firmware model can run
 * on `bench.clock`, simulated or wall).
 */
export function useBench(opts: { boards: BoardName[]; suite: string; payload?: (bench: Bench) => PayloadEndpoint; seed?: number }): BenchContext {
  let bench: Bench | null = null;
  const root = process.env.HIL_ROOT ?? process.cwd();
  beforeAll(async () => {
    const seed = opts.seed ?? Number(process.env.HIL_SEED ?? 1);
    bench = await Bench.open(benchConfigFromEnv(), { seed, boards: opts.boards, runName: `${basename(opts.suite).replace(/\.hil\.ts$/, '')}-seed${seed}`, root });
    if (opts.payload) bench.attachPayload(opts.payload(bench));
  }, 60_000);
  afterAll(async () => {
    if (!bench) return;
    writeReportData(root, opts.suite, bench);
    await bench.close();
  }, 30_000);
  const ctx: BenchContext = {
    get bench(): Bench {
      if (!bench) throw new Error('bench not open (beforeAll failed?)');
      return bench;
    },
    needs: (need, boards = opts.boards) => needIt(need, boards, () => ctx.bench),
  };
  return ctx;
}

export function writeReportData(root: string, suite: string, bench: Bench): string {
  const dir = join(process.env.HIL_REPORT_DIR ?? join(root, 'reports', 'hil'), 'data');
  mkdirSync(dir, { recursive: true });
  const data = benchSuiteData(basename(suite), bench);
  const path = join(dir, `${basename(suite).replace(/\.hil\.ts$/, '')}.json`);
  writeFileSync(path, JSON.stringify(data));
  return path;
}
