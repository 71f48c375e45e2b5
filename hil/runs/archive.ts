import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { BoardConfig } from '../bench/config.ts';
import { rfc2217Spec } from '../transport/rfc2217.ts';
import { tcpSpec } from '../transport/tcp.ts';

/**
 * The run archive: every `npm start` and `npm run hil` run in a folder of its own,
 * <reports root>/runs/<time>-<name>/ (report, JUnit, metrics, data, captures, bench.json,
 * run.json), and <reports root>/latest a symlink to the last one. A fresh folder per
 * run, so nothing of one run is mixed into another.
 */

/** Test verdicts of a run (from its JUnit XML). */
export interface Verdicts {
  passed: number;
  failed: number;
  skipped: number;
}

/** run.json: what a run was. Written at the start (durationS, verdicts null) and again when it ends. */
export interface RunInfo {
  name: string;
  /** git HEAD of the working tree the run ran from, null outside a git checkout. */
  commit: string | null;
  /** Uncommitted changes (tracked or untracked files) in that tree. */
  dirty: boolean | null;
  bench: string;
  /** Each board's address: "emulated", "pty", "/dev/ttyUSB0", "tcp:127.0.0.1:7002". */
  ports: Record<string, string>;
  seed: number;
  startedAt: string;
  durationS: number | null;
  /** The command as typed (npm start -- ..., npm run hil -- ...). */
  command: string;
  verdicts: Verdicts | null;
  /** 'console': an operator console's run (npm run console; nothing tested, so no verdicts). */
  kind?: 'console';
  /** The suite filters, --grep pattern and --repeat count the run was given. */
  filters?: string[];
  grep?: string | null;
  repeat?: number;
  /** The part of the selection this run ran (`--shard K/N`: vitest's sharding over suite files), null unsharded. */
  shard?: Shard | null;
  /** For a merged run (npm run runs -- merge): the run folders it joins, in shard order. */
  mergedFrom?: string[];
}

/** Shard K of N: the suite files vitest's --shard=K/N gives this run. */
export interface Shard {
  index: number;
  count: number;
}

export class ShardSpecError extends Error {
  override readonly name = 'ShardSpecError';
}

/** "2/3" → { index: 2, count: 3 }; anything else (0/2, 3/2, 1/0, 1.5/2, " 1/2") is refused naming the spelling. */
export function parseShard(spec: string): Shard {
  const m = /^([1-9]\d{0,3})\/([1-9]\d{0,3})$/.exec(spec);
  if (!m || Number(m[1]) > Number(m[2])) throw new ShardSpecError(`--shard must be K/N with 1 <= K <= N <= 9999 (e.g. 1/2), got '${spec}'`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

/** A run name with its shard: "hil-emulated-seed1-apt" → "hil-emulated-seed1-apt-shard1of2" (unchanged unsharded). */
export function shardRunName(name: string, shard: Shard | null | undefined): string {
  return shard ? `${name}-shard${shard.index}of${shard.count}` : name;
}

export const RUN_FILE = 'run.json';

/** A board's address as --port spells it: "emulated" (in-process), "pty" (a process the bench starts), the device path, "tcp:HOST:PORT", "rfc2217://HOST:PORT". */
export function boardAddress(bc: BoardConfig): string {
  if (bc.mode === 'port') return bc.path;
  if (bc.mode === 'tcp') return tcpSpec(bc.host, bc.port);
  if (bc.mode === 'rfc2217') return rfc2217Spec(bc.host, bc.port);
  return bc.mode;
}

/** "20251130T161205Z": the run's start in UTC, ISO 8601 basic form (sorts by time, no colons). */
export function runStamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** A run name as a folder-name part: letters, digits, '.', '_', '-' only. */
export function safeRunName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+|[._-]+$/g, '') || 'run';
}

/** Creates <runsDir>/<stamp>-<name>/ (with -2, -3, ... when two runs start in the same second) and returns it. */
export function createRunDir(runsDir: string, name: string, date: Date): string {
  mkdirSync(runsDir, { recursive: true });
  const base = `${runStamp(date)}-${safeRunName(name)}`;
  for (let i = 1; ; i++) {
    const dir = join(runsDir, i === 1 ? base : `${base}-${i}`);
    if (!existsSync(dir)) {
      mkdirSync(dir);
      return dir;
    }
  }
}

/**
 * What a run leaves in its folder: emptied when --report-dir puts a run in a folder used
 * before, so no metric, data file or capture of the earlier run is taken for this one's.
 */
const RUN_OUTPUTS = ['data', 'metrics', 'captures', 'junit.xml', 'report.html', 'bench.json', RUN_FILE, 'repeat.json'];

export function clearRunOutputs(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of RUN_OUTPUTS) rmSync(join(dir, f), { recursive: true, force: true });
  for (const f of readdirSync(dir)) if (/^(repeat-\d+|compare-.*\.html)$/.test(f)) rmSync(join(dir, f), { recursive: true, force: true });
}

/** Points <reportsRoot>/latest at `runDir` (a relative symlink, replaced atomically). */
export function linkLatest(reportsRoot: string, runDir: string): void {
  const link = join(reportsRoot, 'latest');
  const tmp = `${link}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(relative(reportsRoot, runDir), tmp);
  // A real folder named latest (not ours) is left alone: rename would fail on it.
  if (existsSync(link) && !lstatSync(link).isSymbolicLink()) {
    rmSync(tmp, { force: true });
    throw new Error(`${link} exists and is not a symlink: not replaced`);
  }
  renameSync(tmp, link);
}

/** HEAD and whether the tree has uncommitted changes; nulls when `root` is not a git checkout (or git is missing). */
export function gitState(root: string): { commit: string | null; dirty: boolean | null } {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0) return { commit: null, dirty: null };
  const status = git('status', '--porcelain');
  return { commit: head.stdout.trim(), dirty: status.status === 0 ? status.stdout.trim().length > 0 : null };
}

export function writeRunInfo(dir: string, info: RunInfo): void {
  writeFileSync(join(dir, RUN_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export function readRunInfo(dir: string): RunInfo | null {
  try {
    return JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8')) as RunInfo;
  } catch {
    return null;
  }
}

/** The run folders under `runsDir` (those holding a run.json), oldest first. */
export function listRunDirs(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((f) => existsSync(join(runsDir, f, RUN_FILE)))
    .sort()
    .map((f) => join(runsDir, f));
}

export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
}

/**
 * A run named on the command line: `latest`, a folder name, or a unique prefix of one
 * (the time stamp is enough: "20251130T1612"). Unknown or ambiguous names are refused
 * listing what there is.
 */
export function resolveRun(reportsRoot: string, ref: string): string {
  const runsDir = join(reportsRoot, 'runs');
  const runs = listRunDirs(runsDir);
  if (ref === 'latest') {
    const link = join(reportsRoot, 'latest');
    if (existsSync(join(link, RUN_FILE))) return join(runsDir, basename(readLink(link)));
    if (runs.length > 0) return runs[runs.length - 1];
    throw new RunNotFoundError(`no runs in ${runsDir}`);
  }
  const names = runs.map((r) => basename(r));
  const exact = names.indexOf(ref);
  if (exact >= 0) return runs[exact];
  const hits = runs.filter((r) => basename(r).startsWith(ref));
  if (hits.length === 1) return hits[0];
  const known = names.length > 0 ? `; runs: ${names.slice(-10).join(', ')}${names.length > 10 ? ` (and ${names.length - 10} older)` : ''}` : `; no runs in ${runsDir}`;
  throw new RunNotFoundError(hits.length > 1 ? `run '${ref}' is ambiguous: ${hits.map((h) => basename(h)).join(', ')}` : `no run '${ref}'${known}`);
}

/**
 * A run named on the command line as resolveRun takes it, or the path of a run folder
 * (another machine's run copied here). Refused naming the run and where it was looked for.
 */
export function resolveRunFolder(reportsRoot: string, ref: string): string {
  if (existsSync(ref) && statSync(ref).isDirectory()) return resolve(ref);
  try {
    return resolveRun(reportsRoot, ref);
  } catch (e) {
    if (e instanceof RunNotFoundError) {
      const runsDir = join(reportsRoot, 'runs');
      throw new RunNotFoundError(`${e.message} (${e.message.includes(runsDir) ? '' : `looked in ${runsDir}; `}nor a folder ${resolve(ref)})`);
    }
    throw e;
  }
}

function readLink(link: string): string {
  return lstatSync(link).isSymbolicLink() ? join(dirname(link), readlinkSync(link)) : link;
}
