import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { WallClock } from '../boards/clock.ts';
import { UartTx } from '../boards/uart.ts';
import { configFlash, loadBoardDefinition } from '../boards/definitions.ts';
import { type BoardEmulator, createEmulator } from '../boards/emulator/index.ts';
import { loadPersistentState, savePersistentState } from '../boards/flash-file.ts';
import { createPtyPair, type PtyPair } from './pty.ts';

export interface HostOptions {
  seed: number;
  baud?: number;
  /** Keep flash, active bank and reset counter in this file across runs. */
  flashFile?: string;
}

/**
 * Builds the emulator on the wall clock, with its flash file when given. The file is
 * saved (write, fsync, rename) synchronously on every change, inside the emulator's
 * handling of the request and so before its answer is queued: an acknowledged write
 * or bank switch is on disk whenever the process dies after the ack.
 */
function build(board: string, opts: HostOptions): { emulator: BoardEmulator; clock: WallClock; save: () => void } {
  const clock = new WallClock();
  const g = configFlash(loadBoardDefinition(board));
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

export interface HostedEmulator {
  emulator: BoardEmulator;
  /** What to open: a device path (pty) or host:port (tcp). */
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
  // A pty moves bytes instantly; a UART does not: the board gets each byte when its
  // stop bit has arrived, so request timing matches a real line too.
  const rx = new UartTx(emulator.baud, clock, (b) => emulator.receive(b));
  const port = new SerialPort({ path: pair.boardPath, baudRate: emulator.baud, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  port.on('data', (b: Buffer) => rx.write(new Uint8Array(b)));
  port.on('error', () => {});
  emulator.onTransmit((b) => {
    if (port.isOpen) port.write(Buffer.from(b));
  });
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

/** Runs an emulator behind a raw TCP port (one client at a time, as ser2net in raw mode). */
export async function hostOnTcp(board: string, opts: HostOptions & { port: number; host?: string }): Promise<HostedEmulator> {
  const { emulator, clock, save } = build(board, opts);
  const rx = new UartTx(emulator.baud, clock, (b) => emulator.receive(b));
  let client: Socket | null = null;
  emulator.onTransmit((b) => client?.write(b));
  const server: Server = createServer((sock) => {
    if (client) {
      sock.end();
      return;
    }
    client = sock;
    sock.setNoDelay(true);
    sock.on('data', (b) => rx.write(new Uint8Array(b)));
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
    address: `${host}:${port}`,
    close: async () => {
      emulator.shutdown();
      save();
      client?.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
