import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { BoardName } from '../boards/definitions.ts';
import { Bench } from './bench/bench.ts';
import { applyPortOverrides, loadBenchConfig } from './bench/config.ts';
import type { PayloadEndpoint } from './bench/payload.ts';

/**
 * The bench fixture for suites (hil/suites/*.hil.ts). The bench comes from the
 * environment that `npm run hil` sets: HIL_BENCH (config file, default
 * hil/benches/emulated.json), HIL_SEED (default 1), HIL_PORTS ("apt=/dev/pts/7,...").
 * At the end the suite's histories, events and limit transitions go to
 * reports/hil/data/<suite>.json for the HTML report.
 */
export interface BenchContext {
  readonly bench: Bench;
}

export function benchConfigFromEnv() {
  const root = process.env.HIL_ROOT ?? process.cwd();
  const file = resolve(root, process.env.HIL_BENCH ?? 'hil/benches/emulated.json');
  return applyPortOverrides(loadBenchConfig(file), process.env.HIL_PORTS);
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
  return {
    get bench(): Bench {
      if (!bench) throw new Error('bench not open (beforeAll failed?)');
      return bench;
    },
  };
}

export function writeReportData(root: string, suite: string, bench: Bench): string {
  const dir = join(process.env.HIL_REPORT_DIR ?? join(root, 'reports', 'hil'), 'data');
  mkdirSync(dir, { recursive: true });
  const items: Record<string, [number, number | string | boolean][]> = {};
  for (const n of bench.store.names()) items[n] = bench.store.history(n).map((s) => [Math.round(s.t * 1000) / 1000, s.value]);
  const data = {
    suite: basename(suite),
    bench: bench.config.name,
    clock: bench.clock.kind,
    seed: bench.seed,
    endMs: bench.now(),
    boards: bench.boards.map((b) => ({ name: b.name, port: b.port, capture: b.capture.path, rejectedFrames: b.rejectedFrames, driver: b.driver.stats })),
    items,
    events: bench.store.events,
    limits: bench.limits.transitions,
    commands: bench.tcLog,
  };
  const path = join(dir, `${basename(suite).replace(/\.hil\.ts$/, '')}.json`);
  writeFileSync(path, JSON.stringify(data));
  return path;
}
