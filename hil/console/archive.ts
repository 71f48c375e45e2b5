import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench } from '../bench/bench.ts';
import type { BenchConfig } from '../bench/config.ts';
import { benchSuiteData } from '../report/suite-data.ts';
import { boardAddress, createRunDir, gitState, linkLatest, type RunInfo, writeRunInfo } from '../runs/archive.ts';

/**
 * A console run in the run archive, as `npm run hil` leaves its runs:
 * <reports root>/runs/<time>-console-<bench>-seed<N>/ with run.json (written at the start,
 * durationS at the end), data/console.json (the bench's histories, events, limit
 * transitions and boards in the suite-data form, hil/report/suite-data.ts) and captures/
 * (board lines of their own). data/console.json is rewritten every `periodMs` of wall
 * time and at close, each time whole to a temporary file then renamed over the old one,
 * so a console that is killed leaves a readable recording short of at most one period.
 */

export const CONSOLE_DATA = 'console.json';

export interface ConsoleRun {
  dir: string;
  info: RunInfo;
}

/** Creates the run folder and its run.json; `reports root`/latest points at it from the start (a killed console is still `latest`). */
export function createConsoleRun(o: { root: string; reportsRoot: string; config: BenchConfig; seed: number; command: string; startedAt?: Date }): ConsoleRun {
  const { reportsRoot, config, seed } = o;
  const startedAt = o.startedAt ?? new Date();
  const name = `console-${config.name}-seed${seed}`;
  const dir = createRunDir(join(reportsRoot, 'runs'), name, startedAt);
  const info: RunInfo = {
    name,
    ...gitState(o.root),
    bench: config.name,
    ports: Object.fromEntries(Object.entries(config.boards).flatMap(([b, c]) => (c ? [[b, boardAddress(c)]] : []))),
    seed,
    startedAt: startedAt.toISOString(),
    durationS: null,
    command: o.command,
    verdicts: null,
    kind: 'console',
  };
  writeRunInfo(dir, info);
  linkLatest(reportsRoot, dir);
  return { dir, info };
}

/** The run's captures folder: where the bench writes each board line's capture. */
export const capturesDir = (run: ConsoleRun) => join(run.dir, 'captures');

/** Writes what `bench` recorded so far to <run>/data/console.json (whole, atomically); returns the path. */
export function writeConsoleData(run: ConsoleRun, bench: Bench): string {
  const dir = join(run.dir, 'data');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, CONSOLE_DATA);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(benchSuiteData(CONSOLE_DATA.replace(/\.json$/, ''), bench)));
  renameSync(tmp, path);
  return path;
}

/** Keeps data/console.json current while the console runs; close() writes it a last time and completes run.json. */
export class ConsoleArchiver {
  private readonly timer: NodeJS.Timeout;
  private readonly t0 = performance.now();
  private closed = false;

  constructor(
    readonly run: ConsoleRun,
    private readonly bench: Bench,
    periodMs = 10_000,
  ) {
    this.timer = setInterval(() => this.write(), periodMs);
    this.timer.unref();
  }

  /** One periodic write; a failure (disk full) is reported, not fatal: the console goes on. */
  write(): void {
    try {
      writeConsoleData(this.run, this.bench);
    } catch (e) {
      console.error(`console: archive ${this.run.dir}: ${(e as Error).message}`);
    }
  }

  /** Call before the bench closes (its histories are still there). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.write();
    writeRunInfo(this.run.dir, { ...this.run.info, durationS: Math.round((performance.now() - this.t0) / 100) / 10 });
  }
}
