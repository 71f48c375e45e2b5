/**
 * npm start: the default HIL regression suite on emulated boards with a fixed seed.
 * Runs every suite (hil/suites/*.hil.ts) through `npm run hil` on the in-process bench,
 * then prints a summary table: each test's result and time, and for passes the
 * figures that matter (duration, max elevation, loss range, QBER, key, pointing RMS).
 * The run goes to the archive like any `npm run hil` run: reports/runs/<time>-<name>/,
 * reports/latest pointing at it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMetrics } from '../hil/metrics-read.ts';
import { parseJunit } from '../hil/report/html.ts';
import { createRunDir, linkLatest } from '../hil/runs/archive.ts';
import { parseCli, seedOption } from './cli.ts';

const USAGE = `usage: npm start [-- --seed N] [-- FILTER...]

Runs the default HIL regression suite on emulated boards (all in-process, simulated
time): boards, config flash, every telecommand of the dictionary, passes over Beijing
(nominal, lock loss, link errors), each FDIR fault, an uplink authentication attack and
the trusted relay to Stellenbosch. Each run goes to reports/runs/<time>-<name>/
(junit.xml, report.html, run.json, metrics/, data/, captures/); reports/latest points at
the last; npm run runs lists them and compares two.
  --seed N            simulation seed (default 1)
  --name NAME         the run's name (default start-seed<N>)
  --reports-root DIR  the run archive's root (default reports)
  --report-dir DIR    put this run in DIR instead (latest not moved)
  FILTER              only suite files whose path contains FILTER
exit: 0 when every test passed, 1 otherwise, 2 usage`;

const { values, positionals } = parseCli({ seed: { type: 'string' }, 'report-dir': { type: 'string' }, name: { type: 'string' }, 'reports-root': { type: 'string' } }, USAGE);
const seed = seedOption(values.seed as string | undefined, USAGE, 2 ** 31) ?? 1;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const name = (values.name as string | undefined) ?? `start-seed${seed}`;
const reportsRoot = resolve((values['reports-root'] as string | undefined) ?? join(root, 'reports'));
const given = values['report-dir'] as string | undefined;
const reportDir = given ? resolve(given) : createRunDir(join(reportsRoot, 'runs'), name, new Date());
// run.json names the command the user typed, not the hil.ts run below.
const command = ['npm start', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');

const t0 = performance.now();
const code: number = await new Promise((done) => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'hil.ts'), '--seed', String(seed), '--name', name, '--report-dir', reportDir, ...positionals], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, HIL_RUN_COMMAND: command },
  });
  process.on('SIGINT', () => child.kill('SIGINT'));
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (c) => done(c ?? 1));
});
const wallS = (performance.now() - t0) / 1000;
if (code === 2) {
  // A usage error of the suite runner (an unknown suite name): nothing ran, no run to keep.
  if (!given) rmSync(reportDir, { recursive: true, force: true });
  process.exit(2);
}
if (!given) linkLatest(reportsRoot, reportDir);

const junit = join(reportDir, 'junit.xml');
const tests = existsSync(junit) ? parseJunit(readFileSync(junit, 'utf8')) : [];
const metrics = new Map(readMetrics(reportDir).map((m) => [m.test, m]));
const fmt = (v: unknown, digits: number) => (typeof v === 'number' ? v.toFixed(digits) : '');
// Rows grouped under their describe block, so long group names do not hide test names.
const split = (name: string) => {
  const i = name.indexOf(' > ');
  return i < 0 ? ['', name] : [name.slice(0, i), name.slice(i + 3)];
};
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);
const rows: string[][] = [];
let group: string | null = null;
for (const t of tests) {
  const [g, name] = split(t.name);
  if (g !== group) {
    rows.push([g || '(top level)', '', '', '', '', '', '', '', '']);
    group = g;
  }
  const m = metrics.get(t.name);
  rows.push([
    `  ${cut(name, 70)}`,
    t.failure ? 'FAIL' : t.skipped ? 'skip' : 'pass',
    t.timeS.toFixed(1),
    fmt(m?.durationS, 0),
    fmt(m?.maxElevationDeg, 1),
    m?.lossDbMin !== undefined ? `${m.lossDbMin.toFixed(1)}-${fmt(m.lossDbMax, 1)}` : '',
    m?.qber !== undefined ? (m.qber * 100).toFixed(2) : '',
    m?.finalKeyBits !== undefined ? String(m.finalKeyBits) : '',
    fmt(m?.pointingRmsUrad, 2),
  ]);
}
const head = ['test', 'result', 'time s', 'pass s', 'max el deg', 'loss dB', 'QBER %', 'key bits', 'pointing RMS urad'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.filter((r) => r[1] !== '').map((r) => r[i].length)));
const line = (r: string[]) => (r[1] === '' ? r[0] : r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
for (const r of rows) console.log(line(r));
const failed = tests.filter((t) => t.failure).length;
console.log(`\n${tests.length - failed} passed, ${failed} failed`);
console.log(`regression suite, seed ${seed}: ${wallS.toFixed(1)} s wall; run folder ${reportDir}: junit.xml, report.html, run.json`);
process.exit(code === 0 && failed === 0 && tests.length > 0 ? 0 : 1);
