import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { BoardError } from '../errors.ts';
import { createPtyPair } from '../pty.ts';
import { ensureNativeAgent, nativeAgentPath } from './build-native.ts';

/**
 * The native board agent behind a pseudo-terminal, as hil/emulator-host.ts hosts an
 * emulator: socat makes the pty pair, the agent process opens one end (--tty), the
 * caller gets the other end's path, the one a real board's /dev/ttyUSB0 would be.
 */
export interface NativeAgentOptions {
  /** Keep the agent's flash in this file across runs (created when missing). */
  flashFile?: string;
  /** Use the AddressSanitizer/UBSan build (tests). */
  sanitize?: boolean;
  /** Build the executable first when it is missing or stale (default true). */
  build?: boolean;
  /** Extra arguments for the agent (e.g. --cut-after-rx-bytes N). */
  extraArgs?: string[];
  /** Everything the agent prints on stderr (sanitizer reports, its counters). */
  onStderr?: (text: string) => void;
}

export interface HostedAgent {
  /** The pty path to open, as --port takes it. */
  address: string;
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the agent process ended. */
  exited: Promise<number | null>;
  /** Stops the agent (SIGTERM: it prints its counters and exits) and the pty pair. */
  close(): Promise<void>;
}

export async function startNativeAgent(board: string, opts: NativeAgentOptions = {}): Promise<HostedAgent> {
  let exe = nativeAgentPath(opts.sanitize);
  if (opts.build === false) {
    if (!existsSync(exe)) throw new BoardError('PORT_OPEN_FAILED', board, 'agent', `no native agent at ${exe}: run npm run agent -- build native`);
  } else exe = ensureNativeAgent(opts.sanitize);
  if (opts.flashFile) mkdirSync(dirname(opts.flashFile), { recursive: true });
  const pair = await createPtyPair();
  // Hold the user end open (as hostOnPty does) so socat never sees EIO before a client opens it.
  const keeper = openSync(pair.userPath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  const args = ['--board', board, '--tty', pair.boardPath, ...(opts.flashFile ? ['--flash', opts.flashFile] : []), ...(opts.extraArgs ?? [])];
  const child = spawn(exe, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (b: Buffer) => opts.onStderr?.(b.toString()));
  let released = false;
  // The pty pair lives as long as the agent: whoever ends the process (close, stopChild, a crash) frees it.
  const release = () => {
    if (released) return;
    released = true;
    closeSync(keeper);
    pair.close();
  };
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      release();
      resolve(code);
    });
    child.on('error', () => {
      release();
      resolve(-1);
    });
  });
  let closed = false;
  return {
    address: pair.userPath,
    child,
    exited,
    close: async () => {
      if (closed) return;
      closed = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      release();
    },
  };
}
