/**
 * npm run tlm -- PACKET.field [--follow] [--count N] [--json] [--bench FILE] [--port BOARD=PATH ...] [--seed N]
 * Prints a telemetry item of the dictionary (engineering value with its unit) as the
 * payload firmware hosted on the bench reports it: the next value, or with --follow one
 * line per update until --count N updates or Ctrl-C. The console's telemetry view from the shell.
 * Exit codes: 0 ok (Ctrl-C included), 1 no update in time or a bench that cannot be
 * opened, 2 usage (unknown packet or field, named with close names).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandLineError, parseTelemetryItem, type TelemetryItem } from '../hil/console/command-line.ts';
import { followTelemetry, FollowTimeout, type TelemetryUpdate } from '../hil/console/operations.ts';
import { consoleBenchOption, fail, intOption, parseCli, seedOption, usageError } from './cli.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const usage = `usage: npm run tlm -- PACKET.field [--follow] [--count N] [--json] [--bench FILE] [--port BOARD=PATH ...] [--seed N]
Prints a housekeeping item of the dictionary (docs/dictionary.md), e.g. PAYLOAD_HK.mode,
as the payload firmware hosted on the bench (booted to STANDBY) reports it: the value of
the next packet, in engineering units with the bench time in ms.
  --follow          one line per update until --count N updates or Ctrl-C (exit 0). On a
                    simulated-time bench, bench time runs at the wall clock's pace (live,
                    PAYLOAD_HK once a second); on real boards the boards set the pace
  --count N         stop after N updates (with --follow)
  --timeout-s S     longest bench time to wait for an update, whole seconds (default 10):
                    outside a pass the payload reports PAYLOAD_HK only (QKD_HK and LINK_HK
                    come with a pass), so waiting for those ends here (exit 1)
  --json            one JSON object per update: { item, tMs, value, unit }
  --bench FILE      bench config (default hil/benches/emulated.json: in-process emulators)
  --port SPEC       put boards on given lines: apt=/dev/pts/7, apt=tcp:HOST:PORT,
                    apt=rfc2217://HOST:PORT (repeat it, or comma-separate)
  --seed N          simulation seed, whole number (default 1)
Exit codes: 0 ok, 1 no update within --timeout-s or the bench failed, 2 usage.
Examples: npm run tlm -- PAYLOAD_HK.laserTempC
          npm run tlm -- PAYLOAD_HK.mode --follow --count 3 --json`;

const { values: v, positionals } = parseCli(
  {
    follow: { type: 'boolean', default: false },
    count: { type: 'string' },
    'timeout-s': { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
    bench: { type: 'string' },
    port: { type: 'string', multiple: true },
    seed: { type: 'string', default: '1' },
  },
  usage,
);
const seed = seedOption(v.seed, usage)!;
const count = intOption('count', v.count, usage, 1, Number.MAX_SAFE_INTEGER);
const timeoutS = intOption('timeout-s', v['timeout-s'], usage, 1, 86_400)!;
if (count !== undefined && !v.follow) usageError('--count goes with --follow (without it tlm prints one value)', usage);
if (positionals.length !== 1) usageError(positionals.length === 0 ? 'no telemetry item given: PACKET.field (e.g. PAYLOAD_HK.mode)' : `one telemetry item at a time, got ${positionals.length}: ${positionals.join(' ')}`, usage);

let item: TelemetryItem;
try {
  item = parseTelemetryItem(positionals[0]);
} catch (e) {
  if (e instanceof CommandLineError) fail(e.message, 2);
  throw e;
}


// Ctrl-C (or SIGTERM) ends the follow cleanly: the bench is closed and the exit is 0.
const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => stop.abort());

const { session } = await consoleBenchOption({ bench: v.bench, port: v.port, seed, root });
let code = 0;
let printed = 0;
const want = v.follow ? (count ?? Infinity) : 1;
try {
  // The single value runs bench time as fast as it goes; --follow at live pace.
  for await (const u of followTelemetry(session, item, { pace: v.follow ? 1 : null, signal: stop.signal, timeoutMs: timeoutS * 1000 })) {
    console.log(v.json ? JSON.stringify(jsonLine(u)) : textLine(u));
    if (++printed >= want) break;
  }
} catch (e) {
  code = 1;
  if (e instanceof FollowTimeout) console.error(`error: ${item.item}: ${e.message}${item.packet.name === 'PAYLOAD_HK' ? '' : ' (outside a pass the payload reports PAYLOAD_HK only)'}`);
  else console.error(`error: ${item.item}: ${(e as Error).message}`);
}
await session.close();
process.exit(code);

function jsonLine(u: TelemetryUpdate): Record<string, unknown> {
  return { item: u.item, tMs: Math.round(u.t * 1000) / 1000, value: u.value, ...(u.unit ? { unit: u.unit } : {}) };
}

/** `    2011.758 ms  PAYLOAD_HK.laserTempC = 25.01 degC` */
function textLine(u: TelemetryUpdate): string {
  return `${(Math.round(u.t * 1000) / 1000).toFixed(3).padStart(12)} ms  ${u.item} = ${String(u.value)}${u.unit ? ` ${u.unit}` : ''}`;
}
