import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimClock, sleep } from '../../boards/clock.ts';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { CaptureWriter, readCapture } from '../../hil/capture.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { lockstepInProcess, spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { FrameLink } from '../../hil/framing.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { toolTier } from '../tiers.ts';
import { installLockstep, LockstepLine } from '../../hil/transport/lockstep.ts';
import { SerialTransport } from '../../hil/transport/serial.ts';
import { TcpTransport } from '../../hil/transport/tcp.ts';
import type { ByteTransport } from '../../hil/transport/types.ts';

/**
 * The lockstep proof: one scripted session on a SimClock (identify, register writes and
 * reads, telemetry at 200 Hz, a SIM BEACON, a POWER_LOSS and the reboot) through the
 * request engine and a capture, against the lockstep host in this process and against
 * `npm run emulate -- apt --lockstep` in another process on a pty and on TCP. Every
 * received byte, with its bench time, and every decoded telemetry value must be the
 * same: only the byte pipe differs. The pty tier is never skipped silently (see pty.test.ts).
 */
const HAVE_SOCAT = toolTier('lockstep pseudo-terminal tier', ['socat'], socatAvailable());
const root = process.cwd();
const SEED = 7;
const apt = loadBoardDefinition('apt');
const dir = mkdtempSync(join(tmpdir(), 'lockstep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Session {
  /** SHA-256 over every capture record (bench time, direction, bytes; events). */
  captureSha256: string;
  records: number;
  telemetry: { t: number; seq: number; boardTimeMs: number; values: Record<string, number> }[];
  before: Record<string, number>;
  after: Record<string, number>;
  grants: number;
  quietQuanta: number;
}

async function session(transport: ByteTransport, name: string): Promise<Session> {
  const clock = new SimClock();
  const line = new LockstepLine(transport, clock);
  await line.open();
  const stop = installLockstep(clock, [line], 1);
  const capPath = join(dir, `${name}.cap.jsonl`);
  const capture = new CaptureWriter(capPath, { board: 'apt', port: name, clock: 'sim', baud: apt.serial.baud, seed: SEED, startedAt: '-' });
  const link = new FrameLink(line, clock, capture);
  const driver = new BoardDriver(apt, link, { clock, timeoutMs: 250, retries: 2, baud: apt.serial.baud });
  const telemetry: Session['telemetry'] = [];
  driver.onTelemetrySample((s) => telemetry.push({ t: s.t, seq: s.seq, boardTimeMs: s.boardTimeMs, values: s.values }));
  try {
    await driver.verifyIdentity();
    await driver.write({ FSM_CMD_X_URAD: 40, FSM_CMD_Y_URAD: -25, CAM_EXPOSURE_US: 1500 });
    const before = await driver.read('FSM_CMD_X_URAD', 'CAM_EXPOSURE_US', 'RESET_COUNT');
    await driver.startStream(5);
    await sleep(clock, 1500);
    await driver.sim({ kind: 'BEACON', xUrad: 120, yUrad: -60, visible: true });
    await sleep(clock, 1500);
    await driver.sim({ kind: 'POWER_LOSS', afterRxBytes: 0, offMs: 100 });
    await driver.verifyIdentity();
    const after = await driver.read('RESET_COUNT', 'CAM_EXPOSURE_US', 'UPTIME_MS');
    await driver.startStream(5);
    await sleep(clock, 500);
    await driver.stopStream();
    stop();
    await capture.close();
    const records = readCapture(capPath).records;
    const captureSha256 = createHash('sha256').update(records.map((r) => JSON.stringify(r)).join('\n')).digest('hex');
    return { captureSha256, records: records.length, telemetry, before, after, grants: line.stats.grants, quietQuanta: line.stats.quietQuanta };
  } finally {
    stop();
    await line.close();
  }
}

async function inProcess(): Promise<Session> {
  return session(lockstepInProcess('apt', { seed: SEED }).transport, 'in-process');
}

async function inChild(kind: 'pty' | 'tcp'): Promise<Session> {
  const { address, child } = await spawnEmulatorProcess(root, 'apt', { seed: SEED, lockstep: true, ...(kind === 'tcp' ? { tcpPort: 0 } : {}) });
  try {
    const [, host, port] = address.split(':'); // tcp:HOST:PORT
    const t = kind === 'pty' ? new SerialTransport({ path: address, baudRate: apt.serial.baud }) : new TcpTransport(host, Number(port));
    return await session(t, kind);
  } finally {
    await stopChild(child);
  }
}

let reference: Promise<Session> | null = null;
const inProcessOnce = () => (reference ??= inProcess());

describe('lockstep in this process', () => {
  it('runs the scripted session on simulated time: telemetry at 200 Hz, beacon seen, power loss survived', async () => {
    const s = await inProcessOnce();
    expect(s.before).toEqual({ FSM_CMD_X_URAD: 40, CAM_EXPOSURE_US: 1500, RESET_COUNT: 0 });
    // The reboot restored reset values and counted one power cycle.
    expect(s.after.RESET_COUNT).toBe(1);
    expect(s.after.CAM_EXPOSURE_US).toBe(1000);
    // About 3 s of stream at 5 ms before the cut and 0.5 s after.
    expect(s.telemetry.length).toBeGreaterThan(600);
    expect(s.telemetry.some((x) => x.values.SPOT_VALID === 1)).toBe(true);
    expect(s.telemetry.every((x) => Number.isInteger(x.t))).toBe(true); // delivered on quantum boundaries
    // Every quantum of the 3.5 s was offered; those that held an event or a request were granted.
    expect(s.grants + s.quietQuanta).toBeGreaterThan(3500);
    expect(s.grants).toBeGreaterThan(600);
  });

  it('is deterministic: a second run gives the same bytes at the same bench times', async () => {
    const a = await inProcessOnce();
    const b = await inProcess();
    expect(b.captureSha256).toBe(a.captureSha256);
  });
});

describe('lockstep over TCP (an emulator process, raw socket)', () => {
  it('gives the same received bytes, bench times and telemetry values as in-process', async () => {
    const [ref, tcp] = [await inProcessOnce(), await inChild('tcp')];
    expect(tcp.records).toBe(ref.records);
    expect(tcp.captureSha256).toBe(ref.captureSha256);
    expect(tcp.telemetry).toEqual(ref.telemetry);
    expect(tcp.after).toEqual(ref.after);
  });
});


describe.runIf(HAVE_SOCAT)('lockstep over a pty (`npm run emulate -- apt --lockstep`, serialport, socat)', () => {
  it('gives the same received bytes, bench times and telemetry values as in-process', async () => {
    const [ref, pty] = [await inProcessOnce(), await inChild('pty')];
    expect(pty.records).toBe(ref.records);
    expect(pty.captureSha256).toBe(ref.captureSha256);
    expect(pty.telemetry).toEqual(ref.telemetry);
    expect(pty.after).toEqual(ref.after);
  });
});
