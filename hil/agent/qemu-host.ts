import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import type { BoardName } from '../../boards/definitions.ts';
import { encodeRequest, frameMessage } from '../../protocols/board-link.ts';
import { BoardError } from '../errors.ts';
import { ensureCortexM3Elf } from './build-cortex-m3.ts';

/** The emulated board the Cortex-M3 port targets (boards/agent/port/cortex-m3/mps2-an385.ld). */
export const QEMU_MACHINE = 'mps2-an385';

/** Is qemu-system-arm on PATH (Debian's qemu-system-arm)? */
export function qemuAvailable(): boolean {
  return spawnSync('qemu-system-arm', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** QEMU's line for a serial port on a pty: "char device redirected to /dev/pts/N (label serial0)". */
export function parsePtyLine(text: string): string | null {
  return /char device redirected to (\S+) \(label serial0\)/.exec(text)?.[1] ?? null;
}

export interface QemuAgent {
  /** The pty of the board's UART0, as `--port BOARD=...` takes it. */
  address: string;
  child: ChildProcess;
  /** Ends QEMU (SIGTERM, SIGKILL after 3 s) and lets go of the pty (as stopping `child` any other way does). */
  close(): Promise<void>;
}

export interface QemuAgentOptions {
  /** The ELF to run; default build/agent/cortex-m3/<board>.elf, built first when missing or stale. */
  elf?: string;
  timeoutMs?: number;
}

/**
 * Runs the Cortex-M3 agent for `board` in QEMU's mps2-an385 with UART0 on a pty, and
 * resolves with the pty's path once QEMU printed it. A pty's baud rate does not pace
 * QEMU's UART: bytes move at emulation speed. QEMU models no persistent flash here: the
 * config flash lives in RAM (docs/agent.md "Cortex-M3 under QEMU"), kept across RESET
 * and lost when QEMU ends. Errors name the board and say what failed.
 */
export function startQemuAgent(root: string, board: BoardName, opts: QemuAgentOptions = {}): Promise<QemuAgent> {
  const line = `qemu ${QEMU_MACHINE}`;
  let elf: string;
  try {
    elf = opts.elf ?? ensureCortexM3Elf(root, board);
  } catch (e) {
    return Promise.reject(new BoardError('PORT_OPEN_FAILED', board, line, (e as Error).message));
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // -monitor none: nothing reads QEMU's stdin; the pty is the board's only line.
  const child = spawn('qemu-system-arm', ['-M', QEMU_MACHINE, '-nographic', '-monitor', 'none', '-kernel', elf, '-serial', 'pty'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test runner that dies without closing the bench must not leave QEMU spinning.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  return new Promise((resolve, reject) => {
    let out = '';
    let settled = false;
    let probing = false;
    const fail = (detail: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      process.off('exit', reap);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(new BoardError('PORT_OPEN_FAILED', board, line, detail));
    };
    const timer = setTimeout(() => fail(probing ? `the agent in QEMU did not answer IDENTIFY within ${timeoutMs} ms of the start (does the ELF boot on ${QEMU_MACHINE}?)` : `qemu-system-arm printed no pty within ${timeoutMs} ms: ${out.trim()}`), timeoutMs);
    const seen = (b: Buffer) => {
      out += b.toString();
      const path = parsePtyLine(out);
      if (!path || probing) return;
      probing = true;
      // Hold the pty open ourselves: with no client on it QEMU sees the line hung up, and
      // looks again only once a second (or when the guest writes), so a client's first
      // request could wait that long. QEMU makes the pty raw; only the probe below reads
      // from this fd, so clients get every byte after it.
      let keeper: number | null = null;
      try {
        keeper = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
      } catch (e) {
        return fail(`cannot open QEMU's pty ${path}: ${(e as Error).message}`);
      }
      const fd = keeper;
      // Whoever ends QEMU (close, or stopChild on `child`), the pty is let go with it.
      child.once('exit', () => {
        process.off('exit', reap);
        if (keeper !== null) closeSync(keeper);
        keeper = null;
      });
      void answersIdentify(fd, timeoutMs).then((ok) => {
        if (settled) return;
        if (!ok) return fail(`the agent in QEMU did not answer IDENTIFY on ${path}`);
        settled = true;
        clearTimeout(timer);
        resolve({ address: path, child, close: () => stopQemu(child) });
      });
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.on('error', (e) => fail(`cannot run qemu-system-arm (apt-get install qemu-system-arm): ${e.message}`));
    child.on('exit', (code, signal) => fail(`qemu-system-arm exited (${signal ?? code}): ${out.trim()}`));
  });
}

/**
 * Sends one IDENTIFY on the pty and waits for an answer frame (read here, so no client
 * sees it): the agent booted and QEMU is reading the pty. Once the pty is held open QEMU
 * notices within its one-second poll.
 */
async function answersIdentify(fd: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  try {
    writeSync(fd, frameMessage(encodeRequest(0xffff, { op: 'IDENTIFY' })));
    const buf = Buffer.alloc(256);
    let frameBytes = 0;
    while (Date.now() < deadline) {
      try {
        const n = readSync(fd, buf);
        // The answer ends at the 0x00 after its bytes (a 0x00 before them only delimits).
        for (const b of buf.subarray(0, n)) {
          if (b !== 0) frameBytes++;
          else if (frameBytes > 0) return true;
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return false;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } catch {
    return false;
  }
  return false;
}

function stopQemu(child: ChildProcess, timeoutMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}
