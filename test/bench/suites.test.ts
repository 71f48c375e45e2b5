import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { readCapture, rejectedFrames } from '../../hil/capture.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { toolTier } from '../tiers.ts';

const HAVE_SOCAT = toolTier('suites on an emulator pty', ['socat'], socatAvailable());

/** `npm run hil` end to end: the suites pass in-process and through an emulator's pty, with reports. */
function hil(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/hil.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (out += b));
    // eslint-disable-next-line no-control-regex
    p.on('exit', (code) => resolve({ code, out: out.replace(/\x1b\[[0-9;]*m/g, '') }));
  });
}

describe('npm run hil', () => {
  it('runs the suites in-process (simulated time): JUnit, HTML report with plots, captures with the rejected frames', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-report-'));
    // The board suites: the runner, report and captures (npm start's whole suite has its own test).
    const r = await hil(['--seed', '3', '--report-dir', dir, 'apt', 'boards', 'corruption']);
    expect(r.out).toMatch(/Tests\s+\d+ passed/);
    expect(r.out).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase[^>]*name="[^"]*the capture shows the rejected frames"/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/<svg/);
    expect(html).toMatch(/Pointing error/);
    const data = JSON.parse(readFileSync(join(dir, 'data', 'corruption.json'), 'utf8'));
    const cap = readCapture(data.boards[0].capture);
    expect(rejectedFrames(cap).length).toBeGreaterThan(0);
    expect(rejectedFrames(cap).length).toBe(data.boards[0].rejectedFrames);
  });

  it.runIf(HAVE_SOCAT)('the same apt suite passes against `npm run emulate -- apt` through its pty path', async () => {
    const { address: path, child } = await spawnEmulatorProcess(process.cwd(), 'apt', { seed: 1 });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'hil-report-'));
      const r = await hil(['--port', `apt=${path}`, '--report-dir', dir, 'apt']);
      expect(r.out).toContain(`apt: port ${path}`);
      expect(r.out).toMatch(/Tests\s+6 passed/);
      expect(r.code).toBe(0);
      expect(existsSync(join(dir, 'report.html'))).toBe(true);
    } finally {
      await stopChild(child);
    }
  });

  it('the payload suite honours --port: a port that cannot be opened fails the run naming board, port and cause; tests that need simulated time say why they are skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-report-'));
    const r = await hil(['--port', 'apt=/dev/ttyUSB99', '--report-dir', dir, 'payload']);
    expect(r.out).toContain('apt: port /dev/ttyUSB99');
    expect(r.out).toContain('board apt on port /dev/ttyUSB99: serial port /dev/ttyUSB99 does not exist');
    expect(r.out).toContain('OVER_TEMPERATURE: apt board heated by its environment -> high event, SAFE; left by TC once cool [skipped: needs simulated time on boards the bench emulates itself (in-process or on a pty); bench emulated has apt on /dev/ttyUSB99]');
    expect(r.out).not.toMatch(/Tests\s+\d+ passed/);
    expect(r.code).toBe(1);
  });

  it('usage errors exit 2', async () => {
    expect((await hil(['--seed', 'x'])).code).toBe(2);
    expect((await hil(['--bench', '/nonexistent.json'])).code).toBe(2);
  });
});
