/**
 * npm run hil -- [--bench FILE] [--seed N] [--port BOARD=ADDR,...] [--realtime] [--grep PATTERN]
 *                [--list] [--bail] [--repeat N] [--shard K/N] [--name NAME] [--report-dir DIR] [SUITE...]
 * Runs the HIL suites (hil/suites/*.hil.ts, vitest) against a bench. Each run goes to a
 * folder of its own, reports/runs/<time>-<name>/ (JUnit, report.html, metrics, data,
 * captures, the bench the suites opened as bench.json, run.json), and reports/latest
 * points at it. Capture tools: --show-capture FILE, --export-capture FILE --direction rx|tx --out FILE.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BoardName } from '../boards/definitions.ts';
import { clockPlan } from '../hil/bench/bench.ts';
import { applyPortOverrides, applyRealtime, type BenchConfig, BenchConfigError, loadBenchConfig } from '../hil/bench/config.ts';
import { decodeCapture, directionBytes, exportDirection, readCapture, rejectedFrames } from '../hil/capture.ts';
import { buildReport, parseJunit } from '../hil/report/html.ts';
import { stampJunit } from '../hil/report/junit.ts';
import { boardAddress, clearRunOutputs, createRunDir, gitState, linkLatest, parseShard, type RunInfo, type Shard, ShardSpecError, shardRunName, type Verdicts, writeRunInfo } from '../hil/runs/archive.ts';
import { repeatTally, repeatText } from '../hil/runs/repeat.ts';
import { intOption, outputPath, parseCli, seedOption, shellWord, usageError } from './cli.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The suite files, for --help and to refuse a suite name that selects none.
const SUITES = readdirSync(join(root, 'hil', 'suites')).filter((f) => f.endsWith('.hil.ts')).map((f) => f.replace(/\.hil\.ts$/, '')).sort();
const usage = `usage: npm run hil -- [options] [SUITE...]
  --bench FILE      bench config (default hil/benches/emulated.json; also pty.json, lockstep.json, devboards.json, farm.json)
  --seed N          simulation seed (default 1)
  --port SPEC       put boards on given lines: apt=/dev/pts/7 (serial path), apt=tcp:127.0.0.1:7002
                    (raw TCP, ser2net) or apt=rfc2217://farm1:7002 (telnet RFC 2217: the bench sets the
                    remote UART to the board's baud rate, 8N1, no flow control)
  --realtime        run on the wall clock with the emulator processes free-running (no
                    lockstep), exactly as real boards are driven; needs a bench without
                    in-process boards (e.g. --bench hil/benches/pty.json)
  --grep PATTERN    run only tests whose full name matches PATTERN (a regular expression; -t for short)
  --list            list the suites and tests the selection holds, without running them
  --bail            stop at the first failing test
  --repeat N        run the selection N times (same seed) and print each test's pass count:
                    hunting a flaky test; repetition k goes to <run folder>/repeat-k/
  --shard K/N       run only part K of N of the selected suite files (vitest's sharding), to spread
                    a selection over several benches or machines; the run's name ends -shardKofN and
                    run.json records it; join the N run folders with npm run runs -- merge DIR...
  --name NAME       the run's name (default hil-<bench>-seed<N>[-<suites>], then -shardKofN)
  --reports-root D  where the run archive is (default reports): D/runs/<time>-<name>/, D/latest
  --report-dir DIR  put this run in DIR instead (emptied of an earlier run's outputs; latest not moved)
  SUITE             run only suite files whose path contains SUITE (${SUITES.join(', ')})
Writes <run folder>/junit.xml, report.html, run.json, bench.json, metrics/, data/, captures/.
Progress: vitest's on a terminal, one plain line per test otherwise. A board whose line
does not open is one line "hil: setup failed: board B on PORT: cause".
Exit 0 when every test passed, 1 when any failed (or the bench did not open), 2 on usage errors.
Runs are listed and compared by npm run runs.

       npm run hil -- --show-capture FILE [--frames]           summary + rejected frames of a capture
                                                               (--frames: every frame decoded, JSON Lines)
       npm run hil -- --export-capture FILE --direction rx|tx --out OUT
                                                               one direction as a raw byte stream
                                                               (0x00-delimited COBS frames)`;

const args = parseCli({
      bench: { type: 'string' },
      seed: { type: 'string' },
      port: { type: 'string' },
      realtime: { type: 'boolean' },
      grep: { type: 'string', short: 't' },
      list: { type: 'boolean' },
      bail: { type: 'boolean' },
      repeat: { type: 'string' },
      shard: { type: 'string' },
      name: { type: 'string' },
      'reports-root': { type: 'string' },
      'show-capture': { type: 'string' },
      frames: { type: 'boolean' },
      'export-capture': { type: 'string' },
      direction: { type: 'string' },
      'report-dir': { type: 'string' },
      out: { type: 'string' },
    }, usage, true);
const v = args.values;

if (v['show-capture']) {
  try {
    const cap = readCapture(v['show-capture']);
    const rejects = rejectedFrames(cap);
    const lines = [JSON.stringify({ board: cap.header.board, port: cap.header.port, clock: cap.header.clock, txBytes: directionBytes(cap, 'tx').length, rxBytes: directionBytes(cap, 'rx').length, rejectedFrames: rejects.length })];
    const records = v.frames ? decodeCapture(cap) : rejects;
    for (const r of records) lines.push(JSON.stringify(r));
    process.stdout.write(`${lines.join('\n')}\n`, () => process.exit(0));
    await new Promise(() => {});
  } catch (e) {
    console.error(`hil: ${(e as Error).message}`);
    process.exit(1);
  }
}
if (v['export-capture']) {
  if ((v.direction !== 'rx' && v.direction !== 'tx') || !v.out) {
    console.error(`--export-capture needs --direction rx|tx and --out FILE\n${usage}`);
    process.exit(2);
  }
  try {
    const n = exportDirection(v['export-capture'], v.direction, outputPath('out', v.out));
    console.error(`wrote ${n} ${v.direction} bytes to ${v.out}`);
    process.exit(0);
  } catch (e) {
    console.error(`hil: ${(e as Error).message}`);
    process.exit(1);
  }
}


// A suite name that selects no suite file is a typo, not an empty run.
for (const f of args.positionals) {
  if (!SUITES.some((s) => `hil/suites/${s}.hil.ts`.includes(f))) usageError(`no suite matches '${f}'; suites: ${SUITES.join(', ')}`, usage);
}
const repeat = intOption('repeat', v.repeat, usage, 1, 1000) ?? 1;
let shard: Shard | null = null;
try {
  shard = v.shard === undefined ? null : parseShard(v.shard);
} catch (e) {
  if (e instanceof ShardSpecError) usageError(e.message, usage);
  throw e;
}
// vitest's sharding over the selected suite files; a shard that draws none is an empty run, not an error.
const shardArgs = shard ? [`--shard=${shard.index}/${shard.count}`, '--passWithNoTests'] : [];
const benchFile = resolve(v.bench ?? join(root, 'hil/benches/emulated.json'));
const seed = seedOption(v.seed, usage) ?? 1;
let cfg: BenchConfig;
try {
  cfg = applyRealtime(applyPortOverrides(loadBenchConfig(benchFile), v.port), v.realtime === true);
  const plan = clockPlan(cfg, Object.keys(cfg.boards) as BoardName[]);
  const time = plan.clock === 'wall' ? (v.realtime ? 'wall clock (--realtime: emulator processes free-running)' : 'wall clock') : plan.lockstepQuantumMs === null ? 'simulated time' : `simulated time, lockstep ${plan.lockstepQuantumMs} ms`;
  // Each board's address as --port spells it (a pty's path is known once a suite opens the bench: the progress prints it).
  const lines = Object.entries(cfg.boards).map(([b, c]) => `${b}: ${c.mode === 'port' ? 'port ' : ''}${boardAddress(c)}`);
  process.stderr.write(`hil: bench ${cfg.name} (${lines.join(', ')}), seed ${seed}, ${time}\n`);
} catch (e) {
  console.error(`hil: ${e instanceof BenchConfigError ? e.message : (e as Error).message}`);
  process.exit(2);
}

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const config = ['--config', join(root, 'vitest.hil.config.ts')];
const grep = v.grep !== undefined ? ['--testNamePattern', v.grep] : [];

if (v.list) process.exit(await listTests());

const reportsRoot = resolve(v['reports-root'] ?? join(root, 'reports'));
const name = shardRunName(v.name ?? `hil-${cfg.name}-seed${seed}${args.positionals.length > 0 ? `-${args.positionals.join('+')}` : ''}`, shard);
const startedAt = new Date();
let runDir: string;
if (v['report-dir']) {
  runDir = resolve(v['report-dir']);
  clearRunOutputs(runDir);
} else {
  runDir = createRunDir(join(reportsRoot, 'runs'), name, startedAt);
}
const info: RunInfo = {
  name,
  ...gitState(root),
  bench: cfg.name,
  ports: Object.fromEntries(Object.entries(cfg.boards).map(([b, c]) => [b, boardAddress(c)])),
  seed,
  startedAt: startedAt.toISOString(),
  durationS: null,
  // npm start runs its suite through this script and says what the user typed.
  command: process.env.HIL_RUN_COMMAND ?? ['npm run hil --', ...process.argv.slice(2).map(shellWord)].join(' '),
  verdicts: null,
  filters: args.positionals,
  grep: v.grep ?? null,
  repeat,
  shard,
};
writeRunInfo(runDir, info);
process.stderr.write(`hil: run ${runDir}\n`);

let child: ReturnType<typeof spawn> | null = null;
let interrupted = false;
const stop = (sig: NodeJS.Signals) => {
  interrupted = true;
  child?.kill(sig);
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

const t0 = performance.now();
const repetitions: { dir: string; code: number; verdicts: Verdicts; tests: ReturnType<typeof parseJunit> }[] = [];
for (let k = 1; k <= repeat && !interrupted; k++) {
  const dir = repeat === 1 ? runDir : join(runDir, `repeat-${k}`);
  if (repeat > 1) process.stderr.write(`hil: repetition ${k} of ${repeat}\n`);
  const rep = await runSuites(dir, repeat === 1 ? info : { ...info, name: `${name} (repetition ${k} of ${repeat})` });
  repetitions.push({ dir, ...rep });
  if (v.bail && rep.verdicts.failed > 0) break;
}
const verdicts = repetitions.reduce((s, r) => ({ passed: s.passed + r.verdicts.passed, failed: s.failed + r.verdicts.failed, skipped: s.skipped + r.verdicts.skipped }), { passed: 0, failed: 0, skipped: 0 });
const allPassed = repetitions.length === repeat && repetitions.every((r) => r.code === 0);
writeRunInfo(runDir, { ...info, durationS: round1((performance.now() - t0) / 1000), verdicts });
if (repeat > 1) {
  const tally = repeatTally(repetitions.map((r) => r.tests));
  writeFileSync(join(runDir, 'repeat.json'), `${JSON.stringify({ repetitions: repetitions.length, tests: tally }, null, 2)}\n`);
  process.stdout.write(`\n${repeatText(tally, repetitions.length)}\n`);
}
if (!v['report-dir']) linkLatest(reportsRoot, runDir);
process.stderr.write(`hil: run folder ${runDir}${v['report-dir'] ? '' : ` (also ${join(reportsRoot, 'latest')})`}\n`);
process.exit(allPassed ? 0 : 1);

/** One pass of vitest over the selection into `dir`, then its run.json, JUnit stamp and HTML report. */
async function runSuites(dir: string, runInfo: RunInfo) {
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  // The suites open the bench resolved here: one place applies --port and --realtime, and
  // puts this run's captures in its own folder (whatever captureDir the bench file names).
  const resolvedBench = join(dir, 'bench.json');
  writeFileSync(resolvedBench, `${JSON.stringify({ ...cfg, captureDir: join(dir, 'captures') }, null, 2)}\n`);
  // One plain line per test when nobody watches a terminal (CI, a pipe); vitest's own view on one.
  const reporter = join(root, 'hil', 'progress', process.stdout.isTTY ? 'terminal-reporter.ts' : 'lines-reporter.ts');
  const junit = join(dir, 'junit.xml');
  const vitestArgs = [vitest, 'run', ...config, `--reporter=${reporter}`, '--reporter=junit', `--outputFile.junit=${junit}`, ...(v.bail ? ['--bail=1'] : []), ...shardArgs, ...grep, ...args.positionals];
  const code: number = await new Promise((done) => {
    child = spawn(process.execPath, vitestArgs, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, HIL_BENCH: resolvedBench, HIL_SEED: String(seed), HIL_PORTS: '', HIL_ROOT: root, HIL_REPORT_DIR: dir },
    });
    child.on('exit', (c) => done(c ?? 1));
  });
  const tests = existsSync(junit) ? parseJunit(readFileSync(junit, 'utf8')) : [];
  const verdicts: Verdicts = { passed: tests.filter((t) => t.failure === undefined && !t.skipped).length, failed: tests.filter((t) => t.failure !== undefined).length, skipped: tests.filter((t) => t.skipped).length };
  const done = { ...runInfo, durationS: round1((performance.now() - started) / 1000), verdicts };
  writeRunInfo(dir, done);
  stampJunit(dir, done);
  const html = buildReport(dir);
  process.stderr.write(`hil: JUnit ${junit}${existsSync(junit) ? '' : ' (missing)'}\nhil: report ${html}\n`);
  return { code, verdicts, tests };
}

/** --list: the suites and tests of the selection, from vitest's collection (nothing runs). */
async function listTests(): Promise<number> {
  // vitest's --json takes an optional path: given one, a suite name after it is never read as the path.
  const listFile = join(mkdtempSync(join(tmpdir(), 'hil-list-')), 'tests.json');
  const r = await new Promise<{ code: number; out: string; err: string }>((done) => {
    const p = spawn(process.execPath, [vitest, 'list', ...config, `--json=${listFile}`, ...shardArgs, ...grep, ...args.positionals], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HIL_BENCH: benchFile, HIL_SEED: String(seed), HIL_PORTS: v.port ?? '', HIL_ROOT: root },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (c) => done({ code: c ?? 1, out, err }));
  });
  let tests: { name: string; file: string }[];
  try {
    tests = JSON.parse(readFileSync(listFile, 'utf8'));
  } catch {
    process.stderr.write(r.err || r.out);
    return 1;
  }
  const bySuite = new Map<string, string[]>();
  for (const t of tests) bySuite.set(t.file, [...(bySuite.get(t.file) ?? []), t.name]);
  const lines: string[] = [];
  for (const [file, names] of bySuite) lines.push(`${relative(root, file)} (${names.length} test${names.length === 1 ? '' : 's'})`, ...names.map((n) => `  ${n}`));
  lines.push(`${tests.length} test${tests.length === 1 ? '' : 's'} in ${bySuite.size} suite${bySuite.size === 1 ? '' : 's'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
