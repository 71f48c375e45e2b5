/**
 * npm run hil -- [--bench FILE] [--seed N] [--port BOARD=PATH,...] [--realtime] [-t NAME] [FILTER...]
 * Runs the HIL suites (hil/suites/*.hil.ts, vitest) against a bench, then writes
 * reports/hil/junit.xml and reports/hil/report.html (plots, limits, events). The suites
 * get the bench as resolved here (--port, --realtime applied): reports/hil/bench.json.
 * Capture tools: --show-capture FILE, --export-capture FILE --direction rx|tx --out FILE.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BoardName } from '../boards/definitions.ts';
import { clockPlan } from '../hil/bench/bench.ts';
import { applyPortOverrides, applyRealtime, type BenchConfig, BenchConfigError, loadBenchConfig } from '../hil/bench/config.ts';
import { decodeCapture, directionBytes, exportDirection, readCapture, rejectedFrames } from '../hil/capture.ts';
import { buildReport } from '../hil/report/html.ts';
import { parseCli, seedOption } from './cli.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const usage = `usage: npm run hil -- [--bench FILE] [--seed N] [--port BOARD=PATH[,BOARD=PATH...]] [--realtime] [-t NAME] [FILTER...]
  --bench FILE    bench config (default hil/benches/emulated.json; also pty.json, lockstep.json, devboards.json, farm.json)
  --seed N        simulation seed (default 1)
  --port SPEC     put boards on given lines: apt=/dev/pts/7 (serial path) or apt=tcp:127.0.0.1:7002
  --realtime      run on the wall clock with the emulator processes free-running (no
                  lockstep), exactly as real boards are driven; needs a bench without
                  in-process boards (e.g. --bench hil/benches/pty.json)
  -t, --test-name NAME  run only tests whose name matches NAME (vitest -t)
  --report-dir D  where junit.xml, report.html, bench.json and data/ go (default reports/hil)
  FILTER          run only suite files whose path contains FILTER (e.g. apt, corruption)
Writes reports/hil/junit.xml and reports/hil/report.html; captures in reports/captures/.
Exit 0 when every test passed, 1 when any failed, 2 on usage errors.

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
      'test-name': { type: 'string', short: 't' },
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
    const n = exportDirection(v['export-capture'], v.direction, v.out);
    console.error(`wrote ${n} ${v.direction} bytes to ${v.out}`);
    process.exit(0);
  } catch (e) {
    console.error(`hil: ${(e as Error).message}`);
    process.exit(1);
  }
}

const benchFile = resolve(v.bench ?? join(root, 'hil/benches/emulated.json'));
const seed = String(seedOption(v.seed, usage) ?? 1);
let cfg: BenchConfig;
try {
  cfg = applyRealtime(applyPortOverrides(loadBenchConfig(benchFile), v.port), v.realtime === true);
  const plan = clockPlan(cfg, Object.keys(cfg.boards) as BoardName[]);
  const time = plan.clock === 'wall' ? (v.realtime ? 'wall clock (--realtime: emulator processes free-running)' : 'wall clock') : plan.lockstepQuantumMs === null ? 'simulated time' : `simulated time, lockstep ${plan.lockstepQuantumMs} ms`;
  process.stderr.write(`hil: bench ${cfg.name} (${Object.entries(cfg.boards).map(([b, c]) => `${b}: ${c.mode}${'path' in c ? ` ${c.path}` : ''}`).join(', ')}), seed ${seed}, ${time}\n`);
} catch (e) {
  console.error(`hil: ${e instanceof BenchConfigError ? e.message : (e as Error).message}`);
  process.exit(2);
}

const reportDir = resolve(v['report-dir'] ?? join(root, 'reports', 'hil'));
rmSync(join(reportDir, 'data'), { recursive: true, force: true });
mkdirSync(reportDir, { recursive: true });
// The suites open the bench resolved here: one place applies --port and --realtime.
const resolvedBench = join(reportDir, 'bench.json');
writeFileSync(resolvedBench, `${JSON.stringify(cfg, null, 2)}\n`);
const vitestArgs = [
  join(root, 'node_modules', 'vitest', 'vitest.mjs'),
  'run',
  '--config',
  join(root, 'vitest.hil.config.ts'),
  '--reporter=default',
  '--reporter=junit',
  `--outputFile.junit=${join(reportDir, 'junit.xml')}`,
  ...(v['test-name'] !== undefined ? ['--testNamePattern', v['test-name']] : []),
  ...args.positionals,
];
const child = spawn(process.execPath, vitestArgs, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, HIL_BENCH: resolvedBench, HIL_SEED: seed, HIL_PORTS: '', HIL_ROOT: root, HIL_REPORT_DIR: reportDir },
});
const stop = (sig: NodeJS.Signals) => child.kill(sig);
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
child.on('exit', (code) => {
  const html = buildReport(reportDir);
  process.stderr.write(`hil: JUnit ${join(reportDir, 'junit.xml')}${existsSync(join(reportDir, 'junit.xml')) ? '' : ' (missing)'}\nhil: report ${html}\n`);
  process.exit(code === 0 ? 0 : 1);
});
