import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildReport, parseJunit } from '../report/html.ts';
import { stampJunit } from '../report/junit.ts';
import { type RunInfo, readRunInfo, type Verdicts, writeRunInfo } from './archive.ts';

/**
 * Joins runs made apart (the shards of `npm run hil -- --shard K/N` on several benches or
 * machines) into one run folder: their JUnit test suites under one root, their metrics,
 * suite data and captures side by side, a run.json saying what was joined, the JUnit
 * stamped and the HTML report built from the whole, as for any run.
 */
export class MergeError extends Error {
  override readonly name = 'MergeError';
}

export interface MergeResult {
  info: RunInfo;
  /** Warnings about runs that do not look like one selection (different commits, seeds, benches). */
  warnings: string[];
}

/**
 * Checks that `runs` (their run.json) are the shards of one run: all sharded the same
 * way, each shard once, none missing; or none sharded (runs joined as they are). Throws
 * MergeError naming what is wrong; returns the runs in shard order and warnings.
 */
export function checkShards(runs: { dir: string; info: RunInfo }[]): { ordered: { dir: string; info: RunInfo }[]; warnings: string[] } {
  const sharded = runs.filter((r) => r.info.shard);
  if (sharded.length > 0 && sharded.length < runs.length) {
    throw new MergeError(`mixes sharded and unsharded runs: ${runs.filter((r) => !r.info.shard).map((r) => basename(r.dir)).join(', ')} ran no --shard`);
  }
  const warnings: string[] = [];
  let ordered = runs;
  if (sharded.length > 0) {
    const counts = [...new Set(sharded.map((r) => r.info.shard!.count))];
    if (counts.length > 1) throw new MergeError(`the runs are shards of different splits (of ${counts.join(', ')})`);
    const n = counts[0];
    ordered = [...runs].sort((a, b) => a.info.shard!.index - b.info.shard!.index);
    const seen = new Map<number, string>();
    for (const r of ordered) {
      const k = r.info.shard!.index;
      if (seen.has(k)) throw new MergeError(`shard ${k}/${n} given twice: ${seen.get(k)} and ${basename(r.dir)}`);
      seen.set(k, basename(r.dir));
    }
    const missing = Array.from({ length: n }, (_x, i) => i + 1).filter((k) => !seen.has(k));
    if (missing.length > 0) throw new MergeError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${n}`).join(', ')} missing: the merge would not hold the whole selection`);
  }
  for (const key of ['commit', 'seed', 'bench'] as const) {
    const values = [...new Set(runs.map((r) => String(r.info[key] ?? '')))];
    if (values.length > 1) warnings.push(`the runs differ in ${key}: ${values.join(', ')}`);
  }
  const unfinished = runs.filter((r) => r.info.verdicts === null);
  if (unfinished.length > 0) throw new MergeError(`${unfinished.map((r) => basename(r.dir)).join(', ')} did not finish (run.json has no verdicts)`);
  return { ordered, warnings };
}

/** One JUnit file from several: every <testsuite> under one <testsuites> root whose counts are the sums. */
export function mergeJunit(xmls: string[]): string {
  const suites: string[] = [];
  const sum = { tests: 0, failures: 0, errors: 0, time: 0 };
  for (const xml of xmls) {
    const root = /<testsuites\b([^>]*)>/.exec(xml)?.[1] ?? '';
    for (const k of ['tests', 'failures', 'errors', 'time'] as const) sum[k] += Number(new RegExp(`\\s${k}="([^"]*)"`).exec(root)?.[1] ?? 0) || 0;
    for (const m of xml.matchAll(/<testsuite\s[^>]*?(?:\/>|>[\s\S]*?<\/testsuite>)/g)) suites.push(`    ${m[0]}`);
  }
  return [
    '<?xml version="1.0" encoding="UTF-8" ?>',
    `<testsuites name="merged" tests="${sum.tests}" failures="${sum.failures}" errors="${sum.errors}" time="${sum.time}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

/** Copies every file of `sub` in each run into `dir/sub`; a name two runs share is refused (it would hide one of them). */
function copyFolder(runs: string[], sub: string, dir: string): void {
  const owner = new Map<string, string>();
  for (const r of runs) {
    const from = join(r, sub);
    if (!existsSync(from)) continue;
    mkdirSync(join(dir, sub), { recursive: true });
    for (const f of readdirSync(from)) {
      if (owner.has(f)) throw new MergeError(`${sub}/${f} is in both ${basename(owner.get(f)!)} and ${basename(r)}: the runs overlap (the same suite in two shards?)`);
      owner.set(f, r);
      cpSync(join(from, f), join(dir, sub, f), { recursive: true });
    }
  }
}

/**
 * Merges the finished runs `dirs` into `outDir` (an empty run folder) as run `name`:
 * junit.xml, metrics/, data/ (capture paths pointed at the copies), captures/, bench.json
 * of the first run, run.json (verdicts from the merged JUnit, earliest start, the longest
 * run's duration: the shards ran side by side), then stampJunit and buildReport.
 */
export function mergeRuns(dirs: string[], outDir: string, name: string, command: string): MergeResult {
  const runs = dirs.map((dir) => {
    const info = readRunInfo(dir);
    if (!info) throw new MergeError(`${dir} is not a run folder (no readable run.json)`);
    return { dir, info };
  });
  const { ordered, warnings } = checkShards(runs);
  const junits = ordered.map((r) => {
    const f = join(r.dir, 'junit.xml');
    if (!existsSync(f)) throw new MergeError(`${basename(r.dir)} has no junit.xml`);
    return readFileSync(f, 'utf8');
  });
  const orderedDirs = ordered.map((r) => r.dir);
  writeFileSync(join(outDir, 'junit.xml'), mergeJunit(junits));
  for (const sub of ['metrics', 'data', 'captures']) copyFolder(orderedDirs, sub, outDir);
  repointCaptures(join(outDir, 'data'), join(outDir, 'captures'));
  if (existsSync(join(orderedDirs[0], 'bench.json'))) cpSync(join(orderedDirs[0], 'bench.json'), join(outDir, 'bench.json'));

  const tests = parseJunit(readFileSync(join(outDir, 'junit.xml'), 'utf8'));
  const verdicts: Verdicts = { passed: tests.filter((t) => t.failure === undefined && !t.skipped).length, failed: tests.filter((t) => t.failure !== undefined).length, skipped: tests.filter((t) => t.skipped).length };
  const infos = ordered.map((r) => r.info);
  const first = infos[0];
  const same = <T>(f: (i: RunInfo) => T): T | null => (new Set(infos.map((i) => JSON.stringify(f(i)))).size === 1 ? f(first) : null);
  const durations = infos.map((i) => i.durationS).filter((d): d is number => d !== null);
  const info: RunInfo = {
    name,
    commit: same((i) => i.commit),
    dirty: infos.some((i) => i.dirty === true) ? true : same((i) => i.dirty),
    bench: same((i) => i.bench) ?? infos.map((i) => i.bench).join('+'),
    ports: Object.assign({}, ...infos.map((i) => i.ports)),
    seed: first.seed,
    startedAt: infos.map((i) => i.startedAt).sort()[0],
    durationS: durations.length > 0 ? Math.max(...durations) : null,
    command,
    verdicts,
    filters: same((i) => i.filters ?? []) ?? [],
    grep: same((i) => i.grep ?? null),
    shard: null,
    mergedFrom: orderedDirs.map((d) => basename(d)),
  };
  writeRunInfo(outDir, info);
  stampJunit(outDir, info);
  buildReport(outDir);
  return { info, warnings };
}

/**
 * Suite data name each capture by its path where the run was made (perhaps another
 * machine); a capture the merge copied is pointed at its copy in the merged captures/.
 */
function repointCaptures(dataDir: string, capturesDir: string): void {
  if (!existsSync(dataDir) || !existsSync(capturesDir)) return;
  const copied = new Set(readdirSync(capturesDir));
  for (const f of readdirSync(dataDir).filter((x) => x.endsWith('.json'))) {
    const path = join(dataDir, f);
    const data = JSON.parse(readFileSync(path, 'utf8')) as { boards?: { capture?: string | null }[] };
    let changed = false;
    for (const b of data.boards ?? []) {
      if (b.capture && copied.has(basename(b.capture))) {
        b.capture = join(capturesDir, basename(b.capture));
        changed = true;
      }
    }
    if (changed) writeFileSync(path, JSON.stringify(data));
  }
}
