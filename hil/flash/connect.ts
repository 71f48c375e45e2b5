import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Clock, WallClock } from '../../boards/clock.ts';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { type BoardEmulator, createEmulator } from '../../boards/emulator/index.ts';
import { loadBenchConfig, parseLineSpec } from '../bench/config.ts';
import { startQemuAgent } from '../agent/qemu-host.ts';
import { startNativeAgent } from '../agent/native-host.ts';
import { benchFlashFile, spawnEmulatorProcess, stopChild } from '../emulator-host.ts';
import { BoardDriver } from '../driver.ts';
import { FrameLink } from '../framing.ts';
import { emulatorTransport } from '../transport/memory.ts';
import { boardSerialSettings, Rfc2217Transport } from '../transport/rfc2217.ts';
import { SerialTransport } from '../transport/serial.ts';
import { TcpTransport } from '../transport/tcp.ts';
import type { ByteTransport } from '../transport/types.ts';
import { PacedTransport } from './paced.ts';

/** A board link for the flasher: a driver over the chosen line, and how to let go of it. */
export interface BoardConnection {
  driver: BoardDriver;
  clock: Clock;
  baud: number;
  /** "port /dev/ttyUSB0", "tcp 127.0.0.1:7001", ... */
  where: string;
  /** Only for an emulator this process runs itself (bench mode "emulated"). */
  emulator?: BoardEmulator;
  close(): Promise<void>;
}

export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

export interface ConnectOptions {
  board: string;
  /** A serial device path (real board or an emulator's pty) or tcp:HOST:PORT. */
  port?: string;
  /** A bench config file (hil/benches/*.json); the board's entry says how to reach it. */
  bench?: string;
  baud?: number;
  timeoutMs?: number;
  retries?: number;
  /** Pace what we write at the line rate (a pty otherwise moves bytes at memory speed). */
  pace?: boolean;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts `scripts/emulate.ts BOARD` in its own process (the bench's spawner) and resolves with its pty path. */
export function startEmulatorProcess(board: string, opts: { baud?: number; seed?: number; timeoutMs?: number; flashFile?: string } = {}): Promise<{ path: string; child: ChildProcess }> {
  return spawnEmulatorProcess(root, board, { seed: opts.seed ?? 1, baud: opts.baud, timeoutMs: opts.timeoutMs, flashFile: opts.flashFile }).then(({ address, child }) => ({ path: address, child }));
}

export { stopChild as stopProcess };

function lineFor(spec: string, baud: number): ByteTransport {
  const line = parseLineSpec(spec);
  if (line.mode === 'rfc2217') return new Rfc2217Transport(line.host, line.port, { baud, dataBits: 8, parity: 'none', stopBits: 1, flow: 'none' });
  return line.mode === 'tcp' ? new TcpTransport(line.host, line.port) : new SerialTransport({ path: line.path, baudRate: baud });
}

/** Opens the line and wraps it in framing and a driver; errors name the board and the line. */
export async function connectBoard(o: ConnectOptions): Promise<BoardConnection> {
  const def = loadBoardDefinition(o.board);
  let baud = o.baud ?? def.serial.baud;
  let transport: ByteTransport;
  const clock: Clock = new WallClock();
  let emulator: BoardEmulator | undefined;
  let child: ChildProcess | undefined;
  if (o.port && o.bench) throw new ConnectError('give --port or --bench, not both');
  if (o.port) transport = lineFor(o.port, baud);
  else if (o.bench) {
    const cfg = loadBenchConfig(o.bench);
    const entry = cfg.boards[o.board as keyof typeof cfg.boards];
    if (!entry) throw new ConnectError(`bench ${o.bench} has no board '${o.board}' (it has: ${Object.keys(cfg.boards).join(', ') || 'none'})`);
    switch (entry.mode) {
      case 'port':
        baud = o.baud ?? entry.baud ?? baud;
        transport = lineFor(entry.path, baud);
        break;
      case 'tcp':
        transport = new TcpTransport(entry.host, entry.port);
        break;
      case 'rfc2217':
        baud = o.baud ?? entry.baud ?? baud;
        transport = new Rfc2217Transport(entry.host, entry.port, boardSerialSettings(def.serial, baud));
        break;
      case 'pty': {
        baud = o.baud ?? entry.baud ?? baud;
        // The board keeps its flash across runs, as a dev board does: flash, then --verify-only, agree.
        const p = await startEmulatorProcess(o.board, { baud, flashFile: benchFlashFile(root, cfg.name, o.board) });
        child = p.child;
        transport = lineFor(p.path, baud);
        break;
      }
      case 'qemu': {
        // The Cortex-M3 agent in QEMU: its flash lives as long as this QEMU (docs/agent.md).
        baud = o.baud ?? entry.baud ?? baud;
        const q = await startQemuAgent(root, o.board as keyof typeof cfg.boards);
        child = q.child;
        transport = lineFor(q.address, baud);
        break;
      }
      case 'agent': {
        // The native board agent: its flash file kept per bench, as for pty boards (agent format).
        baud = o.baud ?? entry.baud ?? baud;
        const a = await startNativeAgent(o.board, { flashFile: benchFlashFile(root, cfg.name, o.board) });
        child = a.child;
        transport = lineFor(a.address, baud);
        break;
      }
      case 'emulated': {
        baud = o.baud ?? entry.baud ?? baud;
        emulator = createEmulator(o.board, { clock, seed: 1, baud });
        transport = emulatorTransport(emulator, clock);
        break;
      }
    }
  } else throw new ConnectError('no board link: give --port PATH (or tcp:HOST:PORT) or --bench FILE');
  const line = o.pace ? new PacedTransport(transport, clock, baud) : transport;
  try {
    await line.open();
  } catch (e) {
    if (child) await stopChild(child);
    throw new ConnectError(`board ${o.board} on ${transport.description}: ${(e as Error).message}`);
  }
  const link = new FrameLink(line, clock);
  const driver = new BoardDriver(def, link, { clock, timeoutMs: o.timeoutMs ?? def.link.timeoutMs, retries: o.retries ?? def.link.retries, baud });
  return {
    driver,
    clock,
    baud,
    where: transport.description,
    emulator,
    close: async () => {
      driver.close();
      await line.close();
      emulator?.shutdown();
      if (child) await stopChild(child);
    },
  };
}
