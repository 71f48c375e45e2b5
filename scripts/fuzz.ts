/**
 * npm run fuzz -- [--streams N] [--seed N]
 * The decoder audit at length: random streams of dictionary packets with 1-3 bit
 * flips each, as space packets, COBS frames and TM frames, through the decoders of
 * `npm run decode`. Prints intact units lost and fake units accepted per format;
 * exit 1 if any, 2 usage error. Progress on stderr.
 */
import fc from 'fast-check';
import { addTally, emptyTally, FUZZ_FORMATS, fuzzCaseArb, PACKETS_PER_STREAM, type FuzzTally } from '../hil/fuzz/decoder-audit.ts';
import { intOption, parseCli } from './cli.ts';

const USAGE = `usage: npm run fuzz -- [--streams N] [--seed N]

Feeds random streams of ${PACKETS_PER_STREAM} dictionary packets, each stream with 1-3 bits flipped,
to the space-packet, COBS-frame and TM-frame decoders of npm run decode, and counts
  lost: intact packets/frames (no byte changed) with no valid record
  fake: valid records that are not one of the packets/frames put in
  --streams N   streams per format (default 1000)
  --seed N      fast-check seed (default 1); the same seed gives the same streams
stdout: one line per format; stderr: progress
exit:   0 nothing lost and nothing fake, 1 otherwise, 2 usage error`;

const { values } = parseCli({ streams: { type: 'string' }, seed: { type: 'string' } }, USAGE, false);
const streams = intOption('streams', values.streams as string | undefined, USAGE, 1, 10_000_000) ?? 1000;
const seed = intOption('seed', values.seed as string | undefined, USAGE, -(2 ** 31), 2 ** 31 - 1) ?? 1;

const totals = Object.fromEntries(Object.keys(FUZZ_FORMATS).map((k) => [k, emptyTally()])) as Record<keyof typeof FUZZ_FORMATS, FuzzTally>;
const t0 = performance.now();
let done = 0;
let lastReport = t0;
fc.assert(
  fc.property(fuzzCaseArb, (c) => {
    for (const [name, run] of Object.entries(FUZZ_FORMATS)) addTally(totals[name as keyof typeof FUZZ_FORMATS], run(c));
    done++;
    const now = performance.now();
    if (now - lastReport > 2000 || done === streams) {
      lastReport = now;
      const bad = Object.values(totals).reduce((a, t) => a + t.lost + t.fake, 0);
      process.stderr.write(`fuzz: ${done}/${streams} streams, ${((now - t0) / 1000).toFixed(1)} s, lost+fake so far ${bad}\n`);
    }
    return true; // counted, not asserted: every stream runs
  }),
  { seed, numRuns: streams },
);

let failed = false;
for (const [name, t] of Object.entries(totals)) {
  failed ||= t.lost > 0 || t.fake > 0;
  console.log(`${name.padEnd(14)} streams ${t.streams}  units ${t.units}  intact ${t.intact}  intact lost ${t.lost}  fake accepted ${t.fake}`);
}
console.log(`seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exitCode = failed ? 1 : 0;
