import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BoardName } from '../../boards/definitions.ts';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { boardSeed } from '../../hil/bench/seeds.ts';
import { spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { RIG_BOARDS } from '../../hil/mission/rig.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { exportWithSer2net, ser2netAvailable } from '../../hil/ser2net.ts';
import { toolTier } from '../tiers.ts';
import { ROOT, runScriptAsync } from '../cli/run.ts';

/**
 * Board-farm tier of the payload: the payload suite (hil/suites/payload.hil.ts, the
 * firmware hosted by the bench) against the four rig boards, each an emulator process on
 * a pty started with --lockstep, exported by a real ser2net over raw TCP, the bench
 * opening them as TCP lines on simulated time (clock "sim", lockstep "always"). Run as
 * `npm run hil` would, in a child process.
 */
const HAVE_TOOLS = toolTier('ser2net payload tier', ['ser2net', 'socat'], ser2netAvailable() && socatAvailable());
const SEED = 1;
/** The pty bench's line rates (the payload's 200 Hz fine loop needs apt at 2 Mbaud). */
const PTY = loadBenchConfig(join(ROOT, 'hil/benches/pty.json'));
const baudOf = (n: BoardName) => {
  const bc = PTY.boards[n]!;
  return 'baud' in bc && bc.baud ? bc.baud : 115200;
};

describe.runIf(HAVE_TOOLS)('ser2net payload tier (four lockstep emulator processes on ptys, exported by a real ser2net)', () => {
  it('the payload suite passes through ser2net in lockstep: boot to the exact housekeeping period, every round trip, refusals, CONFIG_CRC', async () => {
    const boards = [...RIG_BOARDS];
    // Seeded as the bench seeds the boards it starts, so the run draws the pty bench's noise.
    const started = await Promise.all(boards.map((n) => spawnEmulatorProcess(ROOT, n, { seed: boardSeed(SEED, n), baud: baudOf(n), lockstep: true })));
    try {
      const farm = await exportWithSer2net(boards.map((n, i) => ({ device: started[i].address, baud: baudOf(n) })));
      try {
        const dir = mkdtempSync(join(tmpdir(), 'hil-ser2net-'));
        const benchFile = join(dir, 'ser2net.json');
        const tcp = Object.fromEntries(boards.map((n, i) => [n, { mode: 'tcp', host: '127.0.0.1', port: farm.lines[i].tcpPort }]));
        writeFileSync(benchFile, JSON.stringify({ name: 'ser2net', clock: 'sim', lockstep: 'always', boards: tcp, captureDir: join(dir, 'captures') }));
        const r = await runScriptAsync('hil', ['--bench', benchFile, '--seed', String(SEED), '--report-dir', dir, 'payload']);
        // eslint-disable-next-line no-control-regex
        const out = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
        // The header gives each board's address as --port spells it.
        expect(r.stderr).toContain(`bench ser2net (${boards.map((n, i) => `${n}: tcp:127.0.0.1:${farm.lines[i].tcpPort}`).join(', ')}), seed 1, simulated time, lockstep 1 ms`);
        expect(r.code, out).toBe(0);
        // Every test ran and passed, or was skipped saying why (tests that need what this bench lacks).
        const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
        expect(junit).toMatch(/<testsuite name="hil\/suites\/payload\.hil\.ts"[^>]* failures="0" errors="0"/);
        const cases = [...junit.matchAll(/<testcase [^>]*name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({ name: m[1], skipped: /<skipped/.test(m[3] ?? '') }));
        const ran = cases.filter((c) => !c.skipped).map((c) => c.name);
        expect(ran.length).toBeGreaterThanOrEqual(22);
        for (const c of cases.filter((x) => x.skipped)) expect(c.name).toMatch(/\[skipped: needs [^\]]+\]$/);
        expect(ran).toContainEqual(expect.stringContaining('powers on: BOOT, self-test of the four boards'));
        expect(ran).toContainEqual(expect.stringContaining('PING (17,1)'));
        expect(ran).toContainEqual(expect.stringContaining('refuses an unknown TC with UNKNOWN_COMMAND'));
        expect(ran).toContainEqual(expect.stringContaining('CONFIG_CRC: active bank corrupted'));
      } finally {
        await farm.close();
      }
    } finally {
      await Promise.all(started.map((s) => stopChild(s.child)));
    }
  }, 240_000);
});
