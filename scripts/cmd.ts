/**
 * npm run cmd -- NAME [field=value ...] [--bench FILE] [--port BOARD=PATH ...] [--seed N] [--json] [--yes]
 * Sends one telecommand of the dictionary to the payload firmware hosted on the bench
 * (the default emulated bench in-process, or --bench/--port) and prints its direct reply
 * and ST01 reports, one line each. The console's command sender from the shell.
 * Exit codes: 0 accepted and completed, 1 a failure report (or no completion, or a
 * bench that cannot be opened), 2 usage (unknown command or field, bad or out-of-range
 * value naming the field, a hazardous command without --yes).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandLineError, parseCommandWords, type ParsedCommand } from '../hil/console/command-line.ts';
import { type CommandOutcome, type CommandReport, sendCommand } from '../hil/console/operations.ts';
import { consoleBenchOption, fail, intOption, parseCli, seedOption, usageError } from './cli.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const usage = `usage: npm run cmd -- NAME [field=value ...] [--bench FILE] [--port BOARD=PATH ...] [--seed N] [--json] [--yes]
Sends one telecommand of the dictionary (docs/dictionary.md) to the payload firmware
hosted on the bench, booted to STANDBY, and prints its reply and its ST01 verification
reports (acceptance, start, completion, or the failure), one line each.
  NAME field=value  the command and its fields: numbers in decimal (1e-3; integers also
                    0x1F), enums by state name (mode=SAFE), booleans true/false, strings as
                    one shell word (quote them), bytes in hex (data=0a0bff). Ranges and enums
                    are checked against the dictionary before anything is sent
  --bench FILE      bench config (default hil/benches/emulated.json: every board an
                    in-process emulator on simulated time; each run boots a fresh payload)
  --port SPEC       put boards on given lines: apt=/dev/pts/7, apt=tcp:HOST:PORT,
                    apt=rfc2217://HOST:PORT (repeat it, or comma-separate)
  --seed N          simulation seed, whole number (default 1)
  --timeout-ms N    longest bench time to wait for the completion report (default 5000)
  --json            one JSON object per line: { tMs, name, kind, command, seq, fields }
  --yes             send a command the dictionary marks hazardous (SELECT_CONFIG_BANK,
                    RESET_BOARD); without it such a command is refused (exit 2)
Exit codes: 0 accepted and completed, 1 a failure report (or no completion), 2 usage.
Examples: npm run cmd -- PING
          npm run cmd -- SET_MODE mode=SAFE --json
          npm run cmd -- RESET_BOARD board=apt --yes`;

const { values: v, positionals } = parseCli(
  {
    bench: { type: 'string' },
    port: { type: 'string', multiple: true },
    seed: { type: 'string', default: '1' },
    'timeout-ms': { type: 'string', default: '5000' },
    json: { type: 'boolean', default: false },
    yes: { type: 'boolean', default: false },
  },
  usage,
);
const seed = seedOption(v.seed, usage)!;
const timeoutMs = intOption('timeout-ms', v['timeout-ms'], usage, 1, 3_600_000)!;
if (positionals.length === 0) usageError('no command given: NAME [field=value ...] (see docs/dictionary.md for the commands)', usage);

let cmd: ParsedCommand;
try {
  cmd = parseCommandWords(positionals);
} catch (e) {
  if (e instanceof CommandLineError) fail(e.message, 2);
  throw e;
}
if (cmd.hazardous && !v.yes) fail(`${cmd.name} is hazardous (${cmd.def.description}): add --yes to send it`, 2);

const { session, config } = await consoleBenchOption({ bench: v.bench, port: v.port, seed, root });
let outcome: CommandOutcome;
try {
  outcome = await sendCommand(session, cmd, { timeoutMs });
} catch (e) {
  await session.close();
  fail(`${cmd.name}: ${(e as Error).message}`, 1);
}
await session.close();

for (const r of outcome.reports) console.log(v.json ? JSON.stringify(jsonLine(r)) : textLine(r));
if (outcome.status === 'failed') console.error(`error: ${cmd.name} (seq ${outcome.seq}) failed: ${outcome.failure!.stage} ${outcome.failure!.code}: ${outcome.failure!.detail}`);
if (outcome.status === 'timeout') console.error(`error: ${cmd.name} (seq ${outcome.seq}): no completion report within ${timeoutMs} ms of bench time`);
process.exit(outcome.status === 'completed' ? 0 : 1);

function plain(v: unknown): unknown {
  return v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
}

function jsonLine(r: CommandReport): Record<string, unknown> {
  return { tMs: round(r.t), name: r.name, kind: r.kind, command: outcome.command, seq: outcome.seq, fields: Object.fromEntries(Object.entries(r.fields).map(([k, x]) => [k, plain(x)])) };
}

/** `   1011.758 ms  VERIFY_ACCEPT_OK      SET_MODE seq 0`; a failure adds its code and detail, a reply its fields. */
function textLine(r: CommandReport): string {
  const head = `${round(r.t).toFixed(3).padStart(12)} ms  ${r.name.padEnd(21)}`;
  if (r.kind === 'reply') {
    const fields = Object.entries(r.fields).map(([k, x]) => `${k}=${String(plain(x))}`);
    return `${head} ${[`reply to ${outcome.command}`, ...fields].join(' ')}`;
  }
  const tail = r.name.endsWith('_FAIL') ? ` ${String(r.fields.failureCode)}: ${String(r.fields.detail ?? '')}` : '';
  return `${head} ${outcome.command} seq ${outcome.seq}${tail}`;
}

function round(t: number): number {
  return Math.round(t * 1000) / 1000;
}
