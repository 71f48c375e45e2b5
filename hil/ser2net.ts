import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real ser2net (Debian package) exporting serial devices over TCP, the way a board farm
 * exports its boards: one `connection` per device, no banner; raw (the socket carries
 * exactly the line's bytes) or telnet with RFC 2217 (the client sets the UART remotely).
 */
export function ser2netAvailable(): boolean {
  return spawnSync('ser2net', ['-v'], { stdio: 'ignore' }).status === 0;
}

/** How ser2net exports a device: raw TCP, or telnet with RFC 2217 COM-port control (`telnet(rfc2217)`). */
export type Ser2netAccepter = 'raw' | 'rfc2217';

export interface ExportedLine {
  /** Serial device ser2net opens (a real tty or an emulator's pty). */
  device: string;
  /** The rate ser2net opens the device at (an RFC 2217 client may set another). */
  baud: number;
  /** Default raw. */
  accepter?: Ser2netAccepter;
  /** TCP port clients connect to on 127.0.0.1. */
  tcpPort: number;
}

export interface Ser2netExport {
  lines: ExportedLine[];
  process: ChildProcess;
  close(): Promise<void>;
}

/**
 * ser2net 4 YAML: one TCP accepter per device (raw, or telnet(rfc2217) stacked on it), 8N1 at the board's baud rate, tuned for
 * request/answer latency as a lockstep grant needs it: TCP_NODELAY on the accepter (with
 * Nagle, an answer behind an unacknowledged segment waits for the client's delayed ACK:
 * 45 ms a grant measured, 0.8 ms without) and no character delay (by default ser2net
 * holds what the device sent for two character times, at least 1 ms: 4.4 ms a grant).
 */
export function ser2netConfig(lines: readonly ExportedLine[]): string {
  return lines
    .map((l, i) =>
      [
        `connection: &line${i}`,
        `  accepter: ${l.accepter === 'rfc2217' ? 'telnet(rfc2217),' : ''}tcp(nodelay=true),127.0.0.1,${l.tcpPort}`,
        '  enable: on',
        '  options:',
        '    kickolduser: true',
        '    chardelay: false',
        `  connector: serialdev,${l.device},${l.baud}n81,local`,
        '',
      ].join('\n'),
    )
    .join('\n');
}

/** A TCP port that was free a moment ago (ser2net needs a number in its config). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts ser2net in the foreground on the given devices and resolves once every port
 * accepts. A probe connection is harmless: ser2net opens the device per session and
 * the next client kicks the old one.
 */
export async function exportWithSer2net(devices: readonly { device: string; baud: number; accepter?: Ser2netAccepter }[], timeoutMs = 10_000): Promise<Ser2netExport> {
  const lines: ExportedLine[] = [];
  for (const d of devices) lines.push({ ...d, tcpPort: await freePort() });
  const dir = mkdtempSync(join(tmpdir(), 'ser2net-'));
  const cfg = join(dir, 'ser2net.yaml');
  writeFileSync(cfg, ser2netConfig(lines));
  const child = spawn('ser2net', ['-n', '-d', '-c', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (const l of lines) {
    while (!(await accepts(l.tcpPort))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await close();
        throw new Error(`ser2net did not accept on 127.0.0.1:${l.tcpPort} for ${l.device}: ${err.trim() || `exit ${child.exitCode}`}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { lines, process: child, close };
}
