/**
 * npm run emulate -- qsrc|apt|lct|acs [--baud N] [--tcp PORT [--host ADDR]] [--seed N] [--flash-file FILE] [--lockstep] [--verbose] [--agent]
 * Runs a board emulator as its own process on a pseudo-terminal (or a raw TCP port)
 * and prints the line to open (stdout, one line: a device path or tcp:HOST:PORT, the
 * spelling --port takes). Ends cleanly on SIGINT/SIGTERM.
 * With --lockstep the board runs on simulated time granted by the bench (SIM STEP).
 */
import { isIP } from 'node:net';
import { BOARD_NAMES, isBoardName } from '../boards/definitions.ts';
import { startNativeAgent } from '../hil/agent/native-host.ts';
import { type HostedEmulator, hostOnPty, hostOnTcp } from '../hil/emulator-host.ts';
import { socatAvailable } from '../hil/pty.ts';
import { intOption, outputPath, parseCli, seedOption, usageError } from './cli.ts';

const usage = `usage: npm run emulate -- BOARD [--baud N] [--tcp PORT [--host ADDR]] [--seed N] [--flash-file FILE] [--lockstep] [--verbose] [--agent]
  BOARD        one of ${BOARD_NAMES.join(', ')}
  --baud N     line rate the emulator paces its output at (default: the board definition's)
  --tcp PORT   serve raw bytes on TCP PORT (ser2net style; 0 = any free port) instead of a pty
  --host ADDR  with --tcp: the address to listen on (default 127.0.0.1, this machine only;
               0.0.0.0 serves other machines too)
  --seed N     simulation seed (default 1)
  --flash-file FILE  keep the config flash (and active bank) in FILE across runs (its folder
               is created)
  --lockstep   follow the bench's simulated clock: time moves only when the bench grants it
               (SIM STEP); the bench wraps its line in a LockstepLine (docs/bench.md "Lockstep")
  --verbose    log each request and reply on stderr, registers by name with engineering
               values, time in ms (telemetry frames are not logged)
  --agent      run the native board agent (boards/agent, the C a dev board runs; built with
               the host cc when missing) behind the pty instead of the emulator: a real board
               to the rig (no SIM); --flash-file keeps its flash (agent format, not the emulator's)
Prints the line to open on stdout (a device path such as /dev/pts/7, or tcp:HOST:PORT),
and on stderr the --port option to paste into npm run hil, flash or pass; runs until
SIGINT/SIGTERM.`;

const args = parseCli(
  { baud: { type: 'string' }, tcp: { type: 'string' }, host: { type: 'string' }, seed: { type: 'string' }, 'flash-file': { type: 'string' }, lockstep: { type: 'boolean' }, verbose: { type: 'boolean' }, agent: { type: 'boolean' } },
  usage,
  true,
);
const board = args.positionals[0];
if (!board || args.positionals.length > 1 || !isBoardName(board)) {
  console.error(`${board ? `unknown board '${board}'` : 'missing BOARD'}\n${usage}`);
  process.exit(2);
}
const baud = intOption('baud', args.values.baud, usage, 300, 20_000_000);
const tcp = intOption('tcp', args.values.tcp, usage, 0, 65535);
const host = args.values.host;
if (host !== undefined && tcp === undefined) usageError('--host needs --tcp PORT (a pty is local to this machine)', usage);
if (host !== undefined && isIP(host) === 0 && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(host)) usageError(`--host must be an IP address or host name, got '${host}'`, usage);
const seed = seedOption(args.values.seed, usage) ?? 1;
const lockstep = args.values.lockstep === true;
const flashFile = args.values['flash-file'] === undefined ? undefined : outputPath('flash-file', args.values['flash-file']);
if (args.values.agent) {
  const clash = (['tcp', 'lockstep', 'verbose', 'seed', 'baud'] as const).find((k) => args.values[k] !== undefined);
  if (clash) usageError(`--agent runs the board agent on a pty: --${clash} is an emulator option`, usage);
  await runAgent(board, flashFile);
}
const log = args.values.verbose ? (line: string) => process.stderr.write(`${line}\n`) : undefined;

let hosted: HostedEmulator;
try {
  if (tcp !== undefined) hosted = await hostOnTcp(board, { seed, baud, port: tcp, host, flashFile, lockstep, log });
  else {
    if (!socatAvailable()) {
      console.error('emulate: socat is not installed; it creates the pseudo-terminal pair (apt-get install socat), or use --tcp PORT');
      process.exit(1);
    }
    hosted = await hostOnPty(board, { seed, baud, flashFile, lockstep, log });
  }
} catch (e) {
  console.error(`emulate: cannot start the ${board} emulator: ${(e as Error).message}`);
  process.exit(1);
}
console.log(hosted.address);
process.stderr.write(`emulating ${board} (seed ${seed}, ${hosted.emulator.baud} baud${lockstep ? ', lockstep' : ''}) on ${hosted.address}; Ctrl-C to stop\n`);
const wildcard = host === '0.0.0.0' || host === '::';
process.stderr.write(`paste: --port ${board}=${hosted.address}${wildcard ? ` (from another machine: this machine's name or address in place of ${host})` : ''}\n`);

let stopping = false;
const stop = async (sig: string) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`emulate: ${sig}, stopping ${board}\n`);
  await hosted.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

/** `--agent`: the native board agent on a pty, until SIGINT/SIGTERM (or until it ends). */
async function runAgent(name: string, flash: string | undefined): Promise<never> {
  if (!socatAvailable()) {
    console.error('emulate: socat is not installed; it creates the pseudo-terminal pair (apt-get install socat)');
    process.exit(1);
  }
  let agent;
  try {
    agent = await startNativeAgent(name, { flashFile: flash, onStderr: (t) => process.stderr.write(t) });
  } catch (e) {
    console.error(`emulate: cannot start the ${name} agent: ${(e as Error).message}`);
    process.exit(1);
  }
  console.log(agent.address);
  process.stderr.write(`board agent ${name} (native build) on ${agent.address}; Ctrl-C to stop\npaste: --port ${name}=${agent.address}\n`);
  let ending = false;
  const end = async () => {
    ending = true;
    await agent.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void end());
  process.on('SIGTERM', () => void end());
  const code = await agent.exited;
  if (ending) await new Promise(() => {}); // end() exits
  console.error(`emulate: the ${name} agent exited (${code})`);
  process.exit(1);
}
