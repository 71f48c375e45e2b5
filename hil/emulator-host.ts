import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { SerialPort } from 'serialport';
import { type Clock, SimClock, WallClock } from '../boards/clock.ts';
import { UartTx } from '../boards/uart.ts';
import { configFlash, loadBoardDefinition } from '../boards/definitions.ts';
import { type BoardEmulator, createEmulator } from '../boards/emulator/index.ts';
import { LockstepHost } from '../boards/emulator/lockstep-host.ts';
import { loadPersistentState, savePersistentState } from '../boards/flash-file.ts';
import { tcpSpec } from './transport/tcp.ts';
import { BoardLinkFrameDecoder, formatFrameLine } from './capture.ts';
import { BoardError } from './errors.ts';
import { createPtyPair, type PtyPair } from './pty.ts';
import { MemoryTransport } from './transport/memory.ts';

export interface HostOptions {
  seed: number;
  baud?: number;
  /** Keep flash, active bank and reset counter in this file across runs. */
  flashFile?: string;
  /**
   * Follow the bench's simulated clock (SIM STEP grants, boards/emulator/lockstep-host.ts)
   * instead of the wall clock: the bench wraps its end of the line in a LockstepLine.
   */
  lockstep?: boolean;
  /** Every frame each way, decoded with register names, as one line of text (`emulate --verbose`). */
  log?: (line: string) => void;
}

/**
 * Builds the emulator on the wall clock (or, in lockstep, on its own SimClock), with its
 * flash file when given. The file is saved (write, fsync, rename) synchronously on every
 * change, inside the emulator's handling of the request and so before its answer is
 * queued: an acknowledged write or bank switch is on disk whenever the process dies after the ack.
 */
function build(board: string, opts: HostOptions): { emulator: BoardEmulator; clock: Clock; save: () => void } {
  const clock = opts.lockstep ? new SimClock() : new WallClock();
  const g = configFlash(loadBoardDefinition(board));
  // A flash file under a folder not made yet (reports/flash/<bench>/ on a fresh clone).
  if (opts.flashFile) mkdirSync(dirname(resolve(opts.flashFile)), { recursive: true });
  const persistent = opts.flashFile ? loadPersistentState(opts.flashFile, { base: g.base, size: g.size, pageSize: g.pageSize, banks: g.banks }) : undefined;
  // Starting the process again is a power cycle of a board that kept its flash.
  if (persistent && opts.flashFile && existsSync(opts.flashFile)) persistent.resetCount = (persistent.resetCount + 1) & 0xffff;
  const emulator = createEmulator(board, { clock, seed: opts.seed, baud: opts.baud, persistent });
  const file = opts.flashFile;
  const save = () => {
    if (file) savePersistentState(file, emulator.persistent);
  };
  // The power-cycle count above is a change too: on disk before the first request.
  save();
  if (file) emulator.onPersistentChange(save);
  return { emulator, clock, save };
}

/**
 * The board's end of a byte line: in lockstep a LockstepHost (it paces what it receives
 * on the emulator's SimClock once time is granted); otherwise bytes go through a receive
 * UART on the wall clock (a pty or socket moves bytes instantly; a UART does not, so the
 * board gets each byte when its stop bit has arrived and request timing matches a real line).
 * Returns what to call with bytes from the bench; `wire` puts the board's bytes on the line
 * (both ways through the --verbose log when `opts.log` is given).
 */
function boardEnd(emulator: BoardEmulator, clock: Clock, opts: HostOptions, wire: (bytes: Uint8Array) => void): (bytes: Uint8Array) => void {
  const tap = opts.log ? frameLog(emulator, clock, opts.log) : undefined;
  const send = tap ? (b: Uint8Array) => (tap('rx', b), wire(b)) : wire;
  let receive: (bytes: Uint8Array) => void;
  if (opts.lockstep) {
    const host = new LockstepHost(emulator, send);
    host.onError((e) => process.stderr.write(`emulate: ${e.message}\n`));
    receive = (b) => host.receive(b);
  } else {
    const rx = new UartTx(emulator.baud, clock, (b) => emulator.receive(b));
    emulator.onTransmit(send);
    receive = (b) => rx.write(b);
  }
  return tap ? (b) => (tap('tx', b), receive(b)) : receive;
}

/**
 * `--verbose`: frames decoded off the bytes as they cross (so the log shows exactly what
 * the line carried), one line each; telemetry frames are left out. `tx` is the bench's.
 */
function frameLog(emulator: BoardEmulator, clock: Clock, log: (line: string) => void): (dir: 'tx' | 'rx', bytes: Uint8Array) => void {
  const decoder = new BoardLinkFrameDecoder(emulator.def);
  return (dir, bytes) => {
    for (const r of decoder.push(clock.now(), dir, bytes)) if (r.kind !== 'telemetry') log(formatFrameLine(r, emulator.def.name));
  };
}

export interface HostedEmulator {
  emulator: BoardEmulator;
  /** What to open, as `--port BOARD=...` takes it: a device path (pty) or tcp:HOST:PORT. */
  address: string;
  close(): Promise<void>;
}

/**
 * Runs an emulator on the wall clock behind a pseudo-terminal: socat makes the pair,
 * the emulator opens one end with serialport, the user gets the other end's path.
 * Output is paced at the baud rate by the emulator's UART model.
 */
export async function hostOnPty(board: string, opts: HostOptions): Promise<HostedEmulator> {
  const { emulator, clock, save } = build(board, opts);
  const pair: PtyPair = await createPtyPair();
  // Keep the user end open ourselves (never read): otherwise, while no client has it
  // open, socat sees EIO on the master and backs off, and a client's first request
  // waits on that back-off. This process never reads the fd, so clients get every byte.
  const keeper = openSync(pair.userPath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  const port = new SerialPort({ path: pair.boardPath, baudRate: emulator.baud, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  const fromBench = boardEnd(emulator, clock, opts, (b) => {
    if (port.isOpen) port.write(Buffer.from(b));
  });
  port.on('data', (b: Buffer) => fromBench(new Uint8Array(b)));
  port.on('error', () => {});
  return {
    emulator,
    address: pair.userPath,
    close: async () => {
      emulator.shutdown();
      save();
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
      closeSync(keeper);
      pair.close();
    },
  };
}

/**
 * Runs an emulator behind a raw TCP port (one client at a time, as ser2net in raw mode),
 * listening on `host` (default 127.0.0.1; 0.0.0.0 serves other machines).
 */
export async function hostOnTcp(board: string, opts: HostOptions & { port: number; host?: string }): Promise<HostedEmulator> {
  const { emulator, clock, save } = build(board, opts);
  let client: Socket | null = null;
  const fromBench = boardEnd(emulator, clock, opts, (b) => client?.write(b));
  const server: Server = createServer((sock) => {
    if (client) {
      sock.end();
      return;
    }
    client = sock;
    sock.setNoDelay(true);
    sock.on('data', (b) => fromBench(new Uint8Array(b)));
    sock.on('error', () => {});
    sock.on('close', () => {
      if (client === sock) client = null;
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    emulator,
    address: tcpSpec(host, port),
    close: async () => {
      emulator.shutdown();
      save();
      client?.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A lockstep host in this process on an unpaced memory pipe: the same host code as
 * `npm run emulate -- BOARD --lockstep`, only the pipe differs. Wrap `transport` in a
 * LockstepLine; a grant then completes inside its write, so the bench's SimClock can run
 * synchronously.
 */
export function lockstepInProcess(board: string, opts: Omit<HostOptions, 'lockstep' | 'flashFile'>): { emulator: BoardEmulator; host: LockstepHost; transport: MemoryTransport } {
  const emulator = createEmulator(board, { clock: new SimClock(), seed: opts.seed, baud: opts.baud });
  const transport = MemoryTransport.unpaced(`in-process lockstep ${board}`);
  let back: (bytes: Uint8Array) => void = () => {};
  const host = new LockstepHost(emulator, (b) => back(b));
  back = transport.attach((b) => host.receive(b));
  return { emulator, host, transport };
}

/**
 * Where a bench's pty board keeps its config flash between runs of the tools (the flasher's
 * `--bench`): reports/flash/<bench>/<board>.flash, git-ignored, so a flash then a
 * `--verify-only` on the same bench talk about the same board.
 */
export function benchFlashFile(root: string, benchName: string, board: string): string {
  return join(root, 'reports', 'flash', benchName.replace(/[^\w.-]/g, '_'), `${board}.flash`);
}

export interface EmulatorProcessOptions {
  seed: number;
  baud?: number;
  /** Serve on TCP 127.0.0.1 at this port (0 = any free one) instead of a pty. */
  tcpPort?: number;
  /** Keep the board's config flash in this file across runs (`emulate --flash-file`). */
  flashFile?: string;
  lockstep?: boolean;
  timeoutMs?: number;
}

/**
 * Starts `npm run emulate` for one board as a child process (what bench mode "pty"
 * does, and the tools that need a board in another process) and resolves with the
 * address it prints: a pty path, or tcp:HOST:PORT with `tcpPort`. A process that prints
 * nothing in time or exits fails naming the board.
 */
export function spawnEmulatorProcess(root: string, board: string, o: EmulatorProcessOptions): Promise<{ address: string; child: ChildProcess }> {
  const args = [
    '--import',
    'tsx',
    join(root, 'scripts', 'emulate.ts'),
    board,
    '--seed',
    String(o.seed),
    ...(o.baud ? ['--baud', String(o.baud)] : []),
    ...(o.tcpPort !== undefined ? ['--tcp', String(o.tcpPort)] : []),
    ...(o.lockstep ? ['--lockstep'] : []),
    ...(o.flashFile ? ['--flash-file', o.flashFile] : []),
  ];
  const timeoutMs = o.timeoutMs ?? 15_000;
  const line = o.tcpPort !== undefined ? 'tcp' : 'pty';
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new BoardError('PORT_OPEN_FAILED', board, line, `emulator process printed no address within ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ address: out.slice(0, nl).trim(), child });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new BoardError('PORT_OPEN_FAILED', board, line, `emulator process exited (${code}): ${err.trim()}`));
    });
  });
}

/** Ends a process started by spawnEmulatorProcess: SIGTERM (it closes cleanly), SIGKILL after `timeoutMs`. */
export function stopChild(child: ChildProcess, timeoutMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}
