/**
 * npm run pass -- [--bench FILE] [--port BOARD=PATH,...] [--station NAME] [--seed N] [--duration-s S] [--json]
 * npm run pass -- --physics-only [--station NAME] [--seed N] [--duration-s S] [--json]
 * One QKD pass with the payload firmware in the loop (hil/mission, docs/mission.md) on a
 * bench of your choice (in-process emulators behind lockstep hosts by default: the pty
 * bench's key by construction), or the physics-only engine.
 * Progress goes to stderr. Exit codes: 0 ok (keys equal), 1 failure, 2 usage.
 */
import { resolve } from 'node:path';
import { STATIONS } from '../boards/sim/stations.ts';
import { Bench } from '../hil/bench/bench.ts';
import { applyPortOverrides, type BenchConfig, loadBenchConfig } from '../hil/bench/config.ts';
import { runPass } from '../hil/mission/physics-pass.ts';
import { inProcessLockstepBenchConfig, RIG_BOARDS } from '../hil/mission/rig.ts';
import { runMissionPassOnBench } from '../hil/mission/run.ts';
import type { MissionPassOptions, MissionSummary } from '../hil/mission/types.ts';
import type { PassSummary } from '../hil/mission/physics-pass.ts';
import { fail, intOption, parseCli, seedOption, usageError } from './cli.ts';

const usage = `usage: npm run pass -- [--bench FILE] [--port BOARD=PATH,...] [--station NAME] [--seed N] [--duration-s S] [--json]
       npm run pass -- --physics-only [--station NAME] [--seed N] [--duration-s S] [--json]
One pass of the example 500 km sun-synchronous orbit over a ground station (the highest
night pass within 72 h of the TLE epoch) with the payload firmware in the loop: the
firmware on the bench's boards over their board links, the pass plan by telecommand,
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
  --seed N          simulation seed, whole number (default 1); same seed, same bits
  --duration-s S    QKD window centred on culmination, whole seconds 1..1200 (default 300)
  --physics-only    the physics-only engine (no firmware, no boards; hil/mission/physics-pass.ts)
  --realtime        refused: the pass's world is stepped on simulated time (see the error);
                    on the wall clock run the suites: npm run hil -- --realtime
  --json            print the summary as one JSON object (keySha256, finalKeyBits, ...)
Example: npm run pass -- --bench hil/benches/pty.json --seed 7 --json`;

const args = parseCli(
  {
    bench: { type: 'string' },
    port: { type: 'string' },
    station: { type: 'string', default: 'beijing' },
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
/** Why the pass has no --realtime (npm run hil has): the mission world needs the bench's simulated clock. */
const REALTIME_REFUSED =
  '--realtime: the mission pass cannot run on the wall clock: its world (orbit, beacon on the camera, link loss, the detections of each slice) is a model stepped on the bench\'s simulated clock, every fine-loop period and slice exactly, and against real boards the optical link itself would be the world. Run the pass in lockstep (--bench hil/benches/pty.json) or the suites on the wall clock (npm run hil -- --bench hil/benches/pty.json --realtime)';
if (v.realtime) usageError(REALTIME_REFUSED, usage);
const progress = (m: string) => process.stderr.write(`[pass] ${m}\n`);

if (v['physics-only']) {
  if (v.bench || v.port) usageError('--physics-only runs no boards: it takes no --bench or --port', usage);
  let s: PassSummary;
  try {
    s = runPass({ station, seed, durationS, progress }).summary;
  } catch (e) {
    fail(`pass failed: ${(e as Error).message}`, 1);
  }
  console.log(v.json ? JSON.stringify(s) : physicsLines(s).join('\n'));
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
  onProgress: (p) => progress(`t ${p.tS.toFixed(0)} s  ${p.mode}  detections ${p.detections}  final key ${p.finalKeyBits} bits in ${p.blocksDelivered} blocks`),
};
let s: MissionSummary;
try {
  s = await onBench(bench);
} catch (e) {
  fail(`pass failed: ${(e as Error).message}`, 1);
}
console.log(v.json ? JSON.stringify(s) : missionLines(s).join('\n'));
process.exit(s.keysEqual ? 0 : 1);

/** The pass on a bench opened from its config (a line that cannot be opened fails naming board, port and cause). */
async function onBench(config: BenchConfig): Promise<MissionSummary> {
  progress(`bench ${config.name} (${Object.entries(config.boards).map(([b, c]) => `${b}: ${c.mode}`).join(', ')}), seed ${seed}`);
  const opened = await Bench.open(config, { seed, boards: [...RIG_BOARDS], runName: `pass-${config.name}-seed${seed}` });
  try {
    const r = await runMissionPassOnBench(opened, options);
    progress(`captures: ${opened.captures.join(', ')}`);
    return r.summary;
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
