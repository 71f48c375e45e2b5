/**
 * npm run emulate -- qsrc|apt|lct|acs [--baud N] [--tcp PORT] [--seed N] [--lockstep]
 * Runs a board emulator as its own process on a pseudo-terminal (or a raw TCP port)
 * and prints the path to open (stdout, one line). Ends cleanly on SIGINT/SIGTERM.
 * With --lockstep the board runs on simulated time granted by the bench (SIM STEP).
 */
import { BOARD_NAMES, isBoardName } from '../boards/definitions.ts';
import { type HostedEmulator, hostOnPty, hostOnTcp } from '../hil/emulator-host.ts';
import { socatAvailable } from '../hil/pty.ts';
import { intOption, parseCli, seedOption } from './cli.ts';

const usage = `usage: npm run emulate -- BOARD [--baud N] [--tcp PORT] [--seed N] [--flash-file FILE] [--lockstep]
  BOARD        one of ${BOARD_NAMES.join(', ')}
  --baud N     line rate the emulator paces its output at (default: the board definition's)
  --tcp PORT   serve raw bytes on TCP 127.0.0.1:PORT (ser2net style; 0 = any free port) instead of a pty
  --seed N     simulation seed (default 1)
  --flash-file FILE  keep the config flash (and active bank) in FILE across runs
  --lockstep   follow the bench's simulated clock: time moves only when the bench grants it
               (SIM STEP); the bench wraps its line in a LockstepLine (docs/bench.md "Lockstep")
Prints the device path (e.g. /dev/pts/7) or host:port to open, then runs until SIGINT/SIGTERM.`;

const args = parseCli({ baud: { type: 'string' }, tcp: { type: 'string' }, seed: { type: 'string' }, 'flash-file': { type: 'string' }, lockstep: { type: 'boolean' } }, usage, true);
const board = args.positionals[0];
if (!board || args.positionals.length > 1 || !isBoardName(board)) {
  console.error(`${board ? `unknown board '${board}'` : 'missing BOARD'}\n${usage}`);
  process.exit(2);
}
const baud = intOption('baud', args.values.baud, usage, 300, 20_000_000);
const tcp = intOption('tcp', args.values.tcp, usage, 0, 65535);
const seed = seedOption(args.values.seed, usage) ?? 1;
const lockstep = args.values.lockstep === true;

let hosted: HostedEmulator;
try {
  if (tcp !== undefined) hosted = await hostOnTcp(board, { seed, baud, port: tcp, flashFile: args.values['flash-file'], lockstep });
  else {
    if (!socatAvailable()) {
      console.error('emulate: socat is not installed; it creates the pseudo-terminal pair (apt-get install socat), or use --tcp PORT');
      process.exit(1);
    }
    hosted = await hostOnPty(board, { seed, baud, flashFile: args.values['flash-file'], lockstep });
  }
} catch (e) {
  console.error(`emulate: cannot start the ${board} emulator: ${(e as Error).message}`);
  process.exit(1);
}
console.log(hosted.address);
process.stderr.write(`emulating ${board} (seed ${seed}, ${hosted.emulator.baud} baud${lockstep ? ', lockstep' : ''}) on ${hosted.address}; Ctrl-C to stop\n`);

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
