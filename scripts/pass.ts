/**
 * npm run pass -- [--bench FILE] [--port BOARD=PATH,...] [--station NAME] [--tle FILE] [--date DATE] [--pass N] [--disable LIST] [--seed N] [--duration-s S] [--report DIR] [--json]
 * npm run pass -- --physics-only [same pass options] [--json]
 * One QKD pass with the payload firmware in the loop (hil/mission, docs/mission.md) on a
 * bench of your choice (in-process emulators behind lockstep hosts by default: the pty
 * bench's key by construction), or the physics-only engine.
 * Progress goes to stderr. Exit codes: 0 ok (keys equal), 1 failure, 2 usage.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXAMPLE_TLE, Orbit } from '../boards/sim/orbit.ts';
import { LIST_MIN_ELEVATION_DEG, PassSelectionError, selectPass, windowStartAt, type PassSelection } from '../boards/sim/pass-list.ts';
import { STATIONS } from '../boards/sim/stations.ts';
import { TelemetryStore } from '../hil/bench/store.ts';
import { LimitMonitor } from '../hil/bench/limits.ts';
import { ingestPayloadTm } from '../hil/bench/tm-ingest.ts';
import { keyRate, type KeyRatePoint } from '../hil/mission/key-rate.ts';
import { COMPENSATIONS, type Compensation } from '../hil/mission/types.ts';
import { writePassReport } from '../hil/report/pass-report.ts';
import { Bench } from '../hil/bench/bench.ts';
import { applyPortOverrides, type BenchConfig, loadBenchConfig } from '../hil/bench/config.ts';
import { runPass } from '../hil/mission/physics-pass.ts';
import { inProcessLockstepBenchConfig, RIG_BOARDS } from '../hil/mission/rig.ts';
import { DEFAULT_LEAD_S, runMissionPassOnBench } from '../hil/mission/run.ts';
import type { MissionPassOptions, MissionPassResult, MissionSummary } from '../hil/mission/types.ts';
import type { PassSummary } from '../hil/mission/physics-pass.ts';
import { fail, intOption, parseCli, seedOption, tleFileOption, usageError, utcDateOption } from './cli.ts';

const usage = `usage: npm run pass -- [--bench FILE] [--port BOARD=PATH,...] [--station NAME] [--tle FILE] [--date DATE]
                          [--pass N] [--disable LIST] [--seed N] [--duration-s S] [--report DIR] [--json]
       npm run pass -- --physics-only [--station NAME] [--tle FILE] [--date DATE] [--pass N] [--disable LIST] ...
One pass of the example 500 km sun-synchronous orbit (or --tle's) over a ground station
(the highest night pass within 3 days of the TLE epoch, or --pass N) with the payload
firmware in the loop: the firmware on the bench's boards over their board links, the pass plan by telecommand,
625 MHz decoy-state BB84 through channel and detectors, real-time key distillation over
the optical link (docs/mission.md).
  --bench FILE      bench config (hil/benches/*.json) on simulated time: emulator
                    processes on ptys in lockstep (pty.json), in-process emulators behind
                    lockstep hosts (lockstep.json), or sharing the bench clock
                    (emulated.json: exact line times, fastest, another key). Default:
                    in-process behind lockstep hosts, the same key as pty.json
  --port SPEC       put boards of the default bench on given lines (apt=/dev/pts/7,
                    apt=tcp:HOST:PORT): emulators started with --lockstep
                    (npm run emulate -- apt --lockstep); the pass needs simulated time
  --station NAME    ${Object.keys(STATIONS).join(' | ')} (default beijing)
  --tle FILE        a two-line element set (optionally after a name line), as CelesTrak
                    publishes it (default: the project's example TLE); the window starts
                    at its epoch, to the second
  --date DATE       search the 3-day window from this UTC date or date-time instead
                    (2026-11-23 or 2026-11-23T18:00:00Z)
  --pass N          the N-th pass of that window, 1-based, as npm run passes lists it
                    (with the same --station and --tle, and --from set to --date);
                    default the highest night pass. The mission engine needs the pass
                    above 15 deg (its emission gate)
  --disable LIST    compensations switched off for a what-if study, comma-separated:
                    ${COMPENSATIONS.join(', ')}
  --report DIR      also write DIR/pass.html: the figures, the key rate over the pass and
                    the channel loss, as plots (SVG, no network needed)
  --seed N          simulation seed, whole number (default 1); same seed, same bits
  --duration-s S    QKD window centred on culmination, whole seconds 1..1200 (default 300)
  --physics-only    the physics-only engine (no firmware, no boards; hil/mission/physics-pass.ts)
  --realtime        refused: the pass's world is stepped on simulated time (see the error);
                    on the wall clock run the suites: npm run hil -- --realtime
  --json            print the summary as one JSON object (keySha256, finalKeyBits, ...,
                    keyRate: [{ tS, keyBitsPerS }] per 10 s of the pass from the
                    delivered blocks' times)
Example: npm run pass -- --bench hil/benches/pty.json --seed 7 --json
         npm run pass -- --physics-only --station nanshan --date 2026-11-23 --pass 2 --disable time-sync --report out/pass`;

const args = parseCli(
  {
    bench: { type: 'string' },
    port: { type: 'string' },
    station: { type: 'string', default: 'beijing' },
    tle: { type: 'string' },
    date: { type: 'string' },
    pass: { type: 'string' },
    disable: { type: 'string' },
    report: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'duration-s': { type: 'string', default: '300' },
    'physics-only': { type: 'boolean', default: false },
    realtime: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  usage,
  false,
);
const v = args.values;
const station = v.station!.toLowerCase();
if (!STATIONS[station]) usageError(`--station: unknown station '${v.station}' (known: ${Object.keys(STATIONS).join(', ')})`, usage);
// Seeds are 53-bit for the pulse settings; whole seconds because geometry is sampled at 1 s.
const seed = seedOption(v.seed, usage, Number.MAX_SAFE_INTEGER)!;
const durationS = intOption('duration-s', v['duration-s'], usage, 1, 1200)!;
const disable = disableOption(v.disable);
const tle = v.tle === undefined ? undefined : tleFileOption(v.tle);
const passNumber = intOption('pass', v.pass, usage, 1, 10_000);
const pass: PassSelection = {
  from: v.date !== undefined ? utcDateOption('date', v.date, usage) : tle ? windowStartAt(tle.epoch) : undefined,
  number: passNumber,
};
checkPassSelection();
const reportDir = v.report === undefined ? undefined : reportOption(v.report);
/** Why the pass has no --realtime (npm run hil has): the mission world needs the bench's simulated clock. */
const REALTIME_REFUSED =
  '--realtime: the mission pass cannot run on the wall clock: its world (orbit, beacon on the camera, link loss, the detections of each slice) is a model stepped on the bench\'s simulated clock, every fine-loop period and slice exactly, and against real boards the optical link itself would be the world. Run the pass in lockstep (--bench hil/benches/pty.json) or the suites on the wall clock (npm run hil -- --bench hil/benches/pty.json --realtime)';
if (v.realtime) usageError(REALTIME_REFUSED, usage);
const progress = (m: string) => process.stderr.write(`[pass] ${m}\n`);

let rate: KeyRatePoint[] = [];
if (v['physics-only']) {
  if (v.bench || v.port) usageError('--physics-only runs no boards: it takes no --bench or --port', usage);
  let s: PassSummary;
  try {
    const r = runPass({ station, seed, durationS, progress, tle: tle?.lines, pass, disable });
    s = r.summary;
    rate = keyRate(r.bobBlocks, s.durationS);
    if (reportDir) report(s, physicsLines(s), r.lossProfile.map((l) => [l.tS, l.lossDb]));
  } catch (e) {
    fail(`pass failed: ${(e as Error).message}`, 1);
  }
  console.log(v.json ? JSON.stringify({ ...s, keyRate: rate }) : [...physicsLines(s), keyRateLine(rate)].join('\n'));
  process.exit(s.keysEqual ? 0 : 1);
}

let bench: BenchConfig;
try {
  // --port alone puts boards of the default bench on lines, in lockstep like the rest (a board that does not answer STEP fails naming it).
  bench = applyPortOverrides(v.bench ? loadBenchConfig(resolve(v.bench)) : inProcessLockstepBenchConfig(), v.port);
} catch (e) {
  fail((e as Error).message, 2);
}
const options: MissionPassOptions = {
  station,
  seed,
  durationS,
  tle: tle?.lines,
  pass,
  disable,
  onProgress: (p) => progress(`t ${p.tS.toFixed(0)} s  ${p.mode}  detections ${p.detections}  final key ${p.finalKeyBits} bits in ${p.blocksDelivered} blocks`),
};
let s: MissionSummary;
try {
  const r = await onBench(bench);
  s = r.summary;
  // The mission clock starts at power-on: the pass starts after the lead-in.
  rate = keyRate(r.bobBlocks, s.durationS, DEFAULT_LEAD_S);
  if (reportDir) report(s, missionLines(s), missionLoss(r));
} catch (e) {
  // A --pass the mission cannot fly (below its 15 deg emission gate) is a usage error.
  if (e instanceof PassSelectionError) usageError(`--pass: ${e.message}`, usage);
  fail(`pass failed: ${(e as Error).message}`, 1);
}
console.log(v.json ? JSON.stringify({ ...s, keyRate: rate }) : [...missionLines(s), keyRateLine(rate)].join('\n'));
process.exit(s.keysEqual ? 0 : 1);

/** The pass on a bench opened from its config (a line that cannot be opened fails naming board, port and cause). */
async function onBench(config: BenchConfig): Promise<MissionPassResult> {
  progress(`bench ${config.name} (${Object.entries(config.boards).map(([b, c]) => `${b}: ${c.mode}`).join(', ')}), seed ${seed}`);
  const opened = await Bench.open(config, { seed, boards: [...RIG_BOARDS], runName: `pass-${config.name}-seed${seed}` });
  try {
    const r = await runMissionPassOnBench(opened, options);
    progress(`captures: ${opened.captures.join(', ')}`);
    return r;
  } finally {
    await opened.close();
  }
}

function missionLines(s: MissionSummary): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const aborted = Object.keys(s.blocks.abortReasons).length ? ` (aborted: ${JSON.stringify(s.blocks.abortReasons)})` : '';
  return [
    `station            ${s.station} (seed ${s.seed})`,
    `pass               ${s.passStartUtc} .. ${s.passEndUtc} (${s.durationS} s)`,
    `max elevation      ${s.maxElevationDeg.toFixed(1)} deg`,
    `modes              ${s.modeTimeline.map((m) => m.to).join(' -> ')}`,
    `loss               ${s.lossDbMin.toFixed(1)} .. ${s.lossDbMax.toFixed(1)} dB`,
    `pointing residual  ${s.pointingRmsUrad.toFixed(2)} urad RMS`,
    `detections         ${s.detections}`,
    `sifted bits        ${s.siftedBits} key basis`,
    `QBER               ${pct(s.qber)}`,
    `blocks             ${s.blocks.delivered} delivered, ${s.blocks.aborted} aborted${aborted}`,
    `final key          ${s.finalKeyBits} bits (${s.keysEqual ? 'Alice = Bob' : 'MISMATCH'})`,
    `key sha256         ${s.keySha256}`,
    `PUS TM             ${s.tm.total} packets`,
    `simulated time     ${s.simS.toFixed(1)} s`,
    `wall time          ${s.wallS.toFixed(2)} s`,
  ];
}

function physicsLines(s: PassSummary): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  return [
    `station            ${s.station} (seed ${s.seed})`,
    `pass               ${s.passStartUtc} .. ${s.passEndUtc} (${s.durationS} s)`,
    `max elevation      ${s.maxElevationDeg.toFixed(1)} deg`,
    `loss               ${s.lossDbMin.toFixed(1)} .. ${s.lossDbMax.toFixed(1)} dB`,
    `pulses sent        ${s.pulses.toExponential(3)}`,
    `detections         ${s.detections}`,
    `sifted bits        ${s.siftedBits} key basis, ${s.siftedTestBits} test basis`,
    `QBER key basis     signal ${pct(s.qberByIntensity[0])}, decoy ${pct(s.qberByIntensity[1])}, vacuum ${pct(s.qberByIntensity[2])}`,
    `QBER test basis    signal ${pct(s.qberTestByIntensity[0])}, decoy ${pct(s.qberTestByIntensity[1])}, vacuum ${pct(s.qberTestByIntensity[2])}`,
    `s1 (single photon) ${s.s1.toFixed(0)} bits, phase error bound phi ${pct(s.phi)}`,
    `EC efficiency f    ${s.ecEfficiency.toFixed(3)}`,
    `blocks             ${s.blocksDelivered} delivered of ${s.blocks}${Object.keys(s.abortReasons).length ? ` (aborted: ${JSON.stringify(s.abortReasons)})` : ''}`,
    `final key          ${s.finalKeyBits} bits (${s.keysEqual ? 'Alice = Bob' : 'MISMATCH'}), auth used ${s.authKeyConsumedBits}, net ${s.netKeyBits}${s.authDeficitBits > 0 ? ` (the pass did not pay for its authentication: ${s.authDeficitBits} bits of stored key spent)` : ''}`,
    `key sha256         ${s.keySha256}`,
    `wall time          ${s.wallS.toFixed(2)} s`,
  ];
}

/** --disable a,b: each name one of COMPENSATIONS (an unknown one is named, exit 2). */
function disableOption(raw: string | undefined): Compensation[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((n) => n.trim());
  for (const n of names) {
    if (!(COMPENSATIONS as readonly string[]).includes(n)) usageError(`--disable: unknown compensation '${n}' (known: ${COMPENSATIONS.join(', ')})`, usage);
  }
  return [...new Set(names)] as Compensation[];
}

/** --pass N must name a pass of the window (the list npm run passes prints); checked before anything runs. */
function checkPassSelection(): void {
  if (pass.number === undefined) return;
  try {
    selectPass(new Orbit(tle?.lines ?? EXAMPLE_TLE), STATIONS[station], pass, LIST_MIN_ELEVATION_DEG);
  } catch (e) {
    if (e instanceof PassSelectionError) usageError(`--pass: ${e.message}`, usage);
    fail(`${v.tle ? `--tle ${v.tle}: ` : ''}${(e as Error).message}`, 1);
  }
}

/** --report DIR: a folder (made if missing); a file in the way is usage (exit 2). */
function reportOption(dir: string): string {
  if (existsSync(dir) && !statSync(dir).isDirectory()) usageError(`--report ${dir} is a file, not a folder`, usage);
  return resolve(dir);
}

function report(s: PassSummary | MissionSummary, lines: string[], lossDb: [number, number][]): void {
  const figures = lines.map((l): [string, string] => [l.slice(0, 19).trim(), l.slice(19).trim()]);
  const path = writePassReport(reportDir!, { title: `Pass over ${s.station}, ${s.passStartUtc} (seed ${s.seed})`, figures, keyRate: rate, lossDb });
  progress(`report: ${path}`);
}

/** The mission's loss as its payload reported it (QKD_HK.lossDb), seconds after the pass start. */
function missionLoss(r: MissionPassResult): [number, number][] {
  const store = new TelemetryStore();
  const limits = new LimitMonitor();
  for (const tm of r.tm) ingestPayloadTm(store, limits, tm.tMs, tm.bytes);
  return store.history('QKD_HK.lossDb').map((x) => [x.t / 1000 - DEFAULT_LEAD_S, Number(x.value)]);
}

function keyRateLine(rate: KeyRatePoint[]): string {
  return `key rate (10 s)    ${rate.map((p) => (p.keyBitsPerS / 1000).toFixed(1)).join(' ')} kbit/s`;
}
