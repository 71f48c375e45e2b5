/**
 * npm run runs [-- --reports-root DIR]
 * npm run runs -- compare [A [B]] [--tolerance X]
 * npm run runs -- merge RUN... [--name NAME]
 * The run archive (reports/runs/, written by npm start, npm run hil and npm run console): lists the runs,
 * compares two (which tests changed verdict, which figures moved beyond a relative
 * tolerance: text here, and compare-with-<older>.html in the newer run's folder), or
 * merges the shards of one run (npm run hil -- --shard K/N on several machines) into one.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunDir, linkLatest, listRunDirs, readRunInfo, resolveRun, resolveRunFolder, RunNotFoundError } from '../hil/runs/archive.ts';
import { MergeError, mergeRuns } from '../hil/runs/merge.ts';
import { compareRuns, DEFAULT_TOLERANCE } from '../hil/runs/compare.ts';
import { comparisonHtml, comparisonText } from '../hil/runs/compare-format.ts';
import { readRunSnapshot } from '../hil/runs/snapshot.ts';
import { numberOption, parseCli, usageError } from './cli.ts';

const USAGE = `usage: npm run runs [-- --reports-root DIR]
       npm run runs -- compare [A [B]] [--tolerance X] [--reports-root DIR]
       npm run runs -- merge RUN... [--name NAME] [--reports-root DIR]

Lists the runs of the archive (every npm start, npm run hil and npm run console run:
reports/runs/<time>-<name>/), oldest first: time, name, bench, seed, commit, verdicts
("console run" for a console's), duration; * marks reports/latest.

compare A B   what changed from run A to run B: tests whose verdict changed, and figures
              (the metrics the suites record: key bits, QBER, pointing RMS, ...; each
              board link's statistics) that moved beyond the tolerance. A and B: a run
              folder name, a unique prefix of one (its time: 20251130T1612), or latest.
              Default B latest; default A the run before B. Prints the comparison and
              writes it as compare-with-<A>.html in the newer run's folder.
merge RUN...  joins runs made apart, typically the N shards of npm run hil -- --shard K/N
              run on several benches or machines (their run folders copied here), into a
              new run of the archive: one junit.xml (every test suite, counts summed,
              stamped with the merged run's identity), metrics/, data/, captures/,
              run.json (mergedFrom: the runs joined) and report.html; latest points at it.
              RUN: a run folder path, a folder name of the archive or a unique prefix.
              Refused (exit 1) when a shard is missing or given twice, or sharded and
              unsharded runs are mixed; different commits, seeds or benches are warned about.
  --name NAME       the merged run's name (default the first run's, -shardKofN replaced by -merged)
  --tolerance X     relative tolerance (default ${DEFAULT_TOLERANCE}: a figure moved when it changed by more than 1 %)
  --reports-root D  the archive's root (default reports)
exit: 0; compare: 1 when a test that passed in A failed in B, 0 otherwise; merge: 1 when a
test of the merged run failed or the runs cannot be merged, 0 otherwise; 2 usage (unknown run)`;

const { values, positionals } = parseCli({ tolerance: { type: 'string' }, 'reports-root': { type: 'string' }, name: { type: 'string' } }, USAGE);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const reportsRoot = resolve((values['reports-root'] as string | undefined) ?? join(root, 'reports'));
const [command, ...refs] = positionals;

if (command !== 'merge' && values.name !== undefined) usageError('--name goes with merge', USAGE);
if (command === undefined) {
  if (values.tolerance !== undefined) usageError('--tolerance goes with compare', USAGE);
  list();
} else if (command === 'merge') {
  if (values.tolerance !== undefined) usageError('--tolerance goes with compare', USAGE);
  if (refs.length === 0) usageError('merge needs the run folders to join (e.g. the N shards of npm run hil -- --shard K/N)', USAGE);
  process.exit(merge(refs, values.name as string | undefined));
} else if (command === 'compare') {
  if (refs.length > 2) usageError(`compare takes at most two runs, got ${refs.length}`, USAGE);
  const tolerance = numberOption('tolerance', values.tolerance as string | undefined, USAGE, 0, 1e6) ?? DEFAULT_TOLERANCE;
  process.exit(compare(refs, tolerance));
} else {
  usageError(`unknown command '${command}' (list with no command, compare or merge)`, USAGE);
}

function list(): void {
  const runs = listRunDirs(join(reportsRoot, 'runs'));
  if (runs.length === 0) {
    console.log(`no runs in ${join(reportsRoot, 'runs')} (npm start and npm run hil put each run there)`);
    return;
  }
  let latest: string | null = null;
  try {
    latest = resolveRun(reportsRoot, 'latest');
  } catch {
    latest = null;
  }
  const rows = runs.map((dir) => {
    const r = readRunInfo(dir)!;
    const v = r.verdicts;
    return [
      `${dir === latest ? '*' : ' '} ${basename(dir)}`,
      r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      r.bench,
      String(r.seed),
      r.commit ? `${r.commit.slice(0, 7)}${r.dirty ? '+' : ''}` : '-',
      v ? `${v.passed} passed, ${v.failed} failed, ${v.skipped} skipped` : r.kind === 'console' ? 'console run' : 'did not finish',
      r.durationS === null ? '-' : r.durationS.toFixed(1),
    ];
  });
  const head = ['  run', 'started (UTC)', 'bench', 'seed', 'commit', 'verdicts', 'duration s'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(`${runs.length} run(s) in ${join(reportsRoot, 'runs')}; * = latest (commit + = uncommitted changes)`);
}

function compare(refs: string[], tolerance: number): number {
  let a: string;
  let b: string;
  try {
    if (refs.length > 0) {
      a = resolveRun(reportsRoot, refs[0]);
      b = resolveRun(reportsRoot, refs[1] ?? 'latest');
    } else {
      b = resolveRun(reportsRoot, 'latest');
      const runs = listRunDirs(join(reportsRoot, 'runs'));
      const i = runs.indexOf(b);
      if (i < 1) usageError(`compare needs two runs: ${runs.length === 1 ? 'only one' : 'none'} before ${basename(b)} in ${join(reportsRoot, 'runs')}`, USAGE);
      a = runs[i - 1];
    }
  } catch (e) {
    if (e instanceof RunNotFoundError) usageError(e.message, USAGE);
    throw e;
  }
  const c = compareRuns(readRunSnapshot(a), readRunSnapshot(b), tolerance);
  console.log(comparisonText(c));
  // The page goes with the newer run (folder names start with the run's time).
  const [older, newer] = basename(a) <= basename(b) ? [a, b] : [b, a];
  const page = join(newer, `compare-with-${basename(older)}.html`);
  writeFileSync(page, comparisonHtml(c));
  console.log(`page: ${page}`);
  return c.regressed ? 1 : 0;
}

/** A run named on the command line: a folder path (another machine's run copied here), else a run of the archive. */
function runFolder(ref: string): string {
  try {
    return resolveRunFolder(reportsRoot, ref);
  } catch (e) {
    if (e instanceof RunNotFoundError) usageError(e.message, USAGE);
    throw e;
  }
}

function merge(refs: string[], name: string | undefined): number {
  const dirs = refs.map(runFolder);
  const firstName = readRunInfo(dirs[0])?.name ?? basename(dirs[0]);
  const runName = name ?? `${firstName.replace(/-shard\d+of\d+$/, '')}-merged`;
  const out = createRunDir(join(reportsRoot, 'runs'), runName, new Date());
  let result: ReturnType<typeof mergeRuns>;
  try {
    result = mergeRuns(dirs, out, runName, ['npm run runs --', ...process.argv.slice(2)].join(' '));
  } catch (e) {
    rmSync(out, { recursive: true, force: true });
    if (e instanceof MergeError) {
      console.error(`runs: cannot merge: ${e.message}`);
      return 1;
    }
    throw e;
  }
  for (const w of result.warnings) console.error(`runs: warning: ${w}`);
  linkLatest(reportsRoot, out);
  const v = result.info.verdicts!;
  console.log(`merged ${dirs.length} run(s) (${result.info.mergedFrom!.join(', ')}) into ${out}: ${v.passed} passed, ${v.failed} failed, ${v.skipped} skipped`);
  console.log(`report: ${join(out, 'report.html')}`);
  return v.failed > 0 ? 1 : 0;
}
