import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import { Bench } from '../../hil/bench/bench.ts';
import { readCapture } from '../../hil/capture.ts';
import { BoardError } from '../../hil/errors.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { toolTier } from '../tiers.ts';
import { LockstepLine } from '../../hil/transport/lockstep.ts';
import { config } from './helpers.ts';

/**
 * The one bench in lockstep: which benches run on simulated time, the lockstep host
 * behind in-process boards when asked, the quantum in each capture, and the apt suite
 * giving the same bytes and telemetry on the pty bench (emulator processes) as on the
 * in-process lockstep bench. The payload's boot on a pty lockstep bench is in pty.test.ts.
 */
const open: Bench[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});
const keep = (b: Bench) => (open.push(b), b);

describe('which bench runs on simulated time', () => {
  it('refuses simulated time with a real board, naming the board and its line', async () => {
    const cfg = config({ apt: { mode: 'emulated' }, lct: { mode: 'port', path: '/dev/ttyUSB99' }, acs: { mode: 'tcp', host: 'farm1', port: 7004 } }, { clock: 'sim' });
    await expect(Bench.open(cfg, { runName: 'sim-real' })).rejects.toThrow(BoardError);
    await expect(Bench.open(cfg, { runName: 'sim-real' })).rejects.toThrow(
      'board lct,acs on (bench): simulated time needs every board emulated by the bench (mode "emulated" or "pty"); lct is on /dev/ttyUSB99, acs is on tcp:farm1:7004: such boards run on the wall clock',
    );
  });

  it('refuses lockstep "always" on the wall clock', () => {
    expect(() => Bench.openInProcess(config({ apt: { mode: 'emulated' } }, { clock: 'wall', lockstep: 'always' }))).toThrow(/lockstep "always" needs simulated time/);
  });

  it('an all-in-process bench shares its SimClock with the emulators (lockstep auto)', () => {
    const bench = keep(Bench.openInProcess(config({ apt: { mode: 'emulated' } }), { capture: false }));
    expect(bench.lockstepQuantumMs).toBeNull();
    expect(bench.board('apt').emulator!.clock).toBe(bench.clock);
    expect(bench.board('apt').line.inner).not.toBeInstanceOf(LockstepLine);
  });

  it('lockstep "always": each in-process board behind a lockstep host on its own clock, granted synchronously', () => {
    const bench = keep(Bench.openInProcess(config({ apt: { mode: 'emulated' }, lct: { mode: 'emulated' } }, { lockstep: 'always', lockstepQuantumMs: 2 }), { capture: false }));
    const clock = bench.clock as SimClock;
    expect(bench.lockstepQuantumMs).toBe(2);
    expect(bench.inProcess).toBe(true);
    for (const b of bench.boards) {
      expect(b.line.inner).toBeInstanceOf(LockstepLine);
      expect(b.emulator!.clock).not.toBe(clock);
    }
    // A synchronous run offers every quantum to every board: the first is granted (the board's
    // next event is not known yet), later ones only up to its next event (idle, none).
    clock.runUntil(7);
    for (const b of bench.boards) {
      const stats = (b.line.inner as LockstepLine).stats;
      expect(stats.grants).toBeGreaterThanOrEqual(1);
      expect(stats.grants + stats.quietQuanta).toBe(4);
      expect(b.emulator!.clock.now()).toBeGreaterThanOrEqual(2);
      expect(b.emulator!.clock.now()).toBeLessThanOrEqual(8);
    }
  });
});

describe('the lockstep quantum in the capture', () => {
  it('is noted once per line; every received chunk lands on a quantum boundary of bench time', async () => {
    const bench = keep(await Bench.open(config({ apt: { mode: 'emulated', baud: 2_000_000 } }, { lockstep: 'always', lockstepQuantumMs: 5 }), { seed: 3, runName: 'lockstep-note' }));
    await bench.board('apt').driver.startStream(5);
    await bench.sleep(200);
    await bench.board('apt').driver.stopStream();
    const path = bench.board('apt').capture!.path;
    await bench.close();
    const { header, records } = readCapture(path);
    expect(header.clock).toBe('sim');
    expect(records.filter((r) => 'event' in r && r.event === 'lockstep')).toEqual([{ t: 0, event: 'lockstep', detail: 'quantum 5 ms' }]);
    const rx = records.filter((r) => 'dir' in r && r.dir === 'rx');
    expect(rx.length).toBeGreaterThan(30);
    for (const r of rx) expect(r.t % 5).toBe(0);
  });
});

/** `npm run hil` as a user runs it; its data file and the apt capture, read before the next run reuses their names. */
async function hilApt(bench: string, dir: string): Promise<{ code: number | null; out: string; items: unknown; capture: string[] }> {
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/hil.ts', '--bench', bench, '--seed', '11', '--report-dir', dir, 'apt'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (out += b));
    p.on('exit', (code) => resolve({ code, out }));
  });
  const data = JSON.parse(readFileSync(join(dir, 'data', 'apt.json'), 'utf8'));
  // Every capture record but the header (whose port and start time name the run).
  const capture = readFileSync(data.boards[0].capture, 'utf8').trim().split('\n').slice(1);
  return { ...r, items: data.items, capture };
}

describe.runIf(toolTier('lockstep pty bench tier', ['socat'], socatAvailable()))('the apt suite on the pty bench in lockstep', () => {
  it('gives the same telemetry values, bytes and bench times as on the in-process lockstep bench', async () => {
    const inProcess = await hilApt('hil/benches/lockstep.json', mkdtempSync(join(tmpdir(), 'hil-lockstep-')));
    expect(inProcess.out).toMatch(/Tests\s+6 passed/);
    const pty = await hilApt('hil/benches/pty.json', mkdtempSync(join(tmpdir(), 'hil-pty-')));
    expect(pty.out).toMatch(/Tests\s+6 passed/);
    expect(pty.code).toBe(0);
    expect(pty.capture.length).toBe(inProcess.capture.length);
    expect(pty.capture).toEqual(inProcess.capture);
    expect(Object.keys(pty.items as object).length).toBeGreaterThan(5);
    expect(pty.items).toEqual(inProcess.items);
  }, 120_000);
});
