/**
 * npm run pass -- --station beijing [--seed N] [--duration-s S] [--json]
 * Simulate one QKD pass end to end and print its summary. Progress goes to stderr.
 * Exit codes: 0 ok, 1 failure, 2 usage.
 */
import { runPass } from '../hil/mission/physics-pass.ts';
import { STATIONS } from '../boards/sim/stations.ts';
import { intOption, parseCli, seedOption } from './cli.ts';

const usage = `usage: npm run pass -- --station NAME [--seed N] [--duration-s S] [--json]
Simulates one pass of the example 500 km sun-synchronous orbit over a ground station
(the highest night pass within 72 h of the TLE epoch), 625 MHz decoy-state BB84
(mu 0.8/0.1/0, p 0.5/0.25/0.25), channel, detectors, and real-time key distillation.
  --station NAME    ${Object.keys(STATIONS).join(' | ')} (default beijing)
  --seed N          simulation seed, whole number (default 1); same seed, same bits
  --duration-s S    QKD window centred on culmination, whole seconds 1..1200 (default 300)
  --json            print the summary as one JSON object
Example: npm run pass -- --station beijing --seed 7 --json`;

const args = parseCli({
      station: { type: 'string', default: 'beijing' },
      seed: { type: 'string', default: '1' },
      'duration-s': { type: 'string', default: '300' },
      json: { type: 'boolean', default: false },
    }, usage, false);
const v = args.values;
const station = v.station!.toLowerCase();
if (!STATIONS[station]) {
  console.error(`--station: unknown station '${v.station}' (known: ${Object.keys(STATIONS).join(', ')})`);
  process.exit(2);
}
// Seeds are 53-bit for the pulse settings; whole seconds because geometry is sampled at 1 s.
const seed = seedOption(v.seed, usage, Number.MAX_SAFE_INTEGER)!;
const durationS = intOption('duration-s', v['duration-s'], usage, 1, 1200)!;

let result;
try {
  result = runPass({ station, seed, durationS, progress: (m) => process.stderr.write(`[pass] ${m}\n`) });
} catch (e) {
  console.error(`pass failed: ${(e as Error).message}`);
  process.exit(1);
}
const s = result.summary;
if (v.json) {
  console.log(JSON.stringify(s));
} else {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const lines = [
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
  console.log(lines.join('\n'));
}
process.exit(s.keysEqual ? 0 : 1);
