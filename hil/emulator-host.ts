import { closeSync, constants, openSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { WallClock } from '../boards/clock.ts';
import { type BoardEmulator, createEmulator } from '../boards/emulator/index.ts';
import { createPtyPair, type PtyPair } from './pty.ts';

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
export async function hostOnPty(board: string, opts: { seed: number; baud?: number }): Promise<HostedEmulator> {
  const pair: PtyPair = await createPtyPair();
  // Keep the user end open ourselves (never read): otherwise, while no client has it
  // open, socat sees EIO on the master and backs off, and a client's first request
  // waits on that back-off. This process never reads the fd, so clients get every byte.
  const keeper = openSync(pair.userPath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  const emulator = createEmulator(board, { clock: new WallClock(), seed: opts.seed, baud: opts.baud });
  const port = new SerialPort({ path: pair.boardPath, baudRate: emulator.baud, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  port.on('data', (b: Buffer) => emulator.receive(new Uint8Array(b.buffer, b.byteOffset, b.length)));
  port.on('error', () => {});
  emulator.onTransmit((b) => {
    if (port.isOpen) port.write(Buffer.from(b));
  });
  return {
    emulator,
    address: pair.userPath,
    close: async () => {
      emulator.shutdown();
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
      closeSync(keeper);
      pair.close();
    },
  };
}

/** Runs an emulator behind a raw TCP port (one client at a time, as ser2net in raw mode). */
export async function hostOnTcp(board: string, opts: { seed: number; baud?: number; port: number; host?: string }): Promise<HostedEmulator> {
  const emulator = createEmulator(board, { clock: new WallClock(), seed: opts.seed, baud: opts.baud });
  let client: Socket | null = null;
  emulator.onTransmit((b) => client?.write(b));
  const server: Server = createServer((sock) => {
    if (client) {
      sock.end();
      return;
    }
    client = sock;
    sock.setNoDelay(true);
    sock.on('data', (b) => emulator.receive(new Uint8Array(b.buffer, b.byteOffset, b.length)));
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
      client?.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
