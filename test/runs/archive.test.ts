import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScriptAsync, STACK_LINE } from '../cli/run.ts';

/**
 * The run archive end to end (issue 13): real `npm run hil` runs of fast suites into a
 * temporary reports root, listed and compared by `npm run runs`; the runner's progress
 * when stdout is not a terminal; a bench whose port does not open.
 */
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[/;
const out = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

describe('npm run hil: the run archive, npm run runs', () => {
  it('each run in a fresh folder with run.json and its captures, latest on the last; runs lists them; compare with itself: no change, exit 0; a regression: exit 1', async () => {
    const root = mkdtempSync(join(tmpdir(), 'runs-e2e-'));
    const one = await runScriptAsync('hil', ['--reports-root', root, '--seed', '1', 'apt']);
    expect(one.code, out(one)).toBe(0);
    const two = await runScriptAsync('hil', ['--reports-root', root, '--seed', '2', 'apt']);
    expect(two.code, out(two)).toBe(0);
    const runs = readdirSync(join(root, 'runs')).sort();
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatch(/^\d{8}T\d{6}Z-hil-emulated-seed1-apt$/);
    expect(readlinkSync(join(root, 'latest'))).toBe(join('runs', runs[1]));
    const [dirA, dirB] = runs.map((r) => join(root, 'runs', r));

    const info = JSON.parse(readFileSync(join(dirB, 'run.json'), 'utf8'));
    expect(info).toMatchObject({ name: 'hil-emulated-seed2-apt', bench: 'emulated', seed: 2, ports: { apt: 'emulated' }, verdicts: { passed: 6, failed: 0, skipped: 0 }, filters: ['apt'] });
    expect(info.command).toBe(`npm run hil -- --reports-root ${root} --seed 2 apt`);
    expect(info.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(typeof info.dirty).toBe('boolean');
    expect(new Date(info.startedAt).toISOString()).toBe(info.startedAt);
    expect(info.durationS).toBeGreaterThan(0);
    for (const f of ['junit.xml', 'report.html', 'bench.json']) expect(existsSync(join(dirB, f)), f).toBe(true);
    // This run's capture is in this run's folder, whatever the bench file says.
    const data = JSON.parse(readFileSync(join(dirB, 'data', 'apt.json'), 'utf8'));
    expect(data.boards[0].capture).toBe(join(dirB, 'captures', 'apt-seed2.apt.cap.jsonl'));
    expect(readdirSync(join(dirA, 'captures'))).toEqual(['apt-seed1.apt.cap.jsonl']);

    const list = await runScriptAsync('runs', ['--reports-root', root]);
    expect(list.code).toBe(0);
    const rows = list.stdout.split('\n').filter((l) => l.includes('-hil-emulated-'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^ {2}\d{8}T\d{6}Z-hil-emulated-seed1-apt\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+emulated\s+1\s+[0-9a-f]{7}\+?\s+6 passed, 0 failed, 0 skipped\s+\d+\.\d$/);
    expect(rows[1]).toMatch(/^\* .*seed2-apt\s.*\s2\s/);

    const self = await runScriptAsync('runs', ['compare', 'latest', 'latest', '--reports-root', root]);
    expect(self.code).toBe(0);
    expect(self.stdout).toMatch(/no change: every verdict the same, \d+ figures within the tolerance/);
    const ab = await runScriptAsync('runs', ['compare', '--reports-root', root]); // the last two runs
    expect(ab.code).toBe(0);
    expect(ab.stdout).toContain(`compare ${runs[0]} -> ${runs[1]}`);
    expect(existsSync(join(dirB, `compare-with-${runs[0]}.html`))).toBe(true);

    // A copy of the second run with one test failed, as a later run: a regression.
    const bad = join(root, 'runs', `${runs[1].slice(0, 16)}-zz-tampered`);
    cpSync(dirB, bad, { recursive: true });
    const junit = readFileSync(join(bad, 'junit.xml'), 'utf8');
    writeFileSync(join(bad, 'junit.xml'), junit.replace('</testcase>', '<failure message="tampered" type="AssertionError"/></testcase>'));
    const reg = await runScriptAsync('runs', ['compare', runs[1], basename(bad), '--reports-root', root]);
    expect(reg.code, out(reg)).toBe(1);
    expect(reg.stdout).toMatch(/REGRESSED apt board > identifies and round-trips its registers: passed -> failed/);
  }, 120_000);

  it('progress off a terminal: one plain line per test, no ANSI escape; --report-dir reuses a folder without the earlier run\'s files; --repeat counts passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runs-progress-'));
    mkdirSync(join(dir, 'metrics'));
    writeFileSync(join(dir, 'metrics', 'stale.json'), '{"test":"an earlier run","qber":1}');
    const r = await runScriptAsync('hil', ['--report-dir', dir, '--seed', '3', 'apt', 'uplink']);
    expect(r.code, out(r)).toBe(0);
    expect(out(r)).not.toMatch(ANSI);
    const names = [...readFileSync(join(dir, 'junit.xml'), 'utf8').matchAll(/<testcase [^>]*name="([^"]*)"/g)].map((m) => m[1].replace(/&gt;/g, '>'));
    expect(names).toHaveLength(7);
    const lines = r.stdout.split('\n');
    for (const n of names) expect(lines.filter((l) => l.includes(n)), n).toEqual([expect.stringMatching(/^ {2}pass {2}.* \(\d+\.\d s\)$/)]);
    expect(r.stdout).toMatch(/Tests {2}7 passed \(7\)/);
    expect(existsSync(join(dir, 'metrics', 'stale.json'))).toBe(false);

    const rep = await runScriptAsync('hil', ['--report-dir', dir, '--repeat', '2', 'uplink']);
    expect(rep.code, out(rep)).toBe(0);
    expect(rep.stdout).toMatch(/pass counts over 2 repetitions:\n\s+2\/2 passed {2}uplink security > /);
    expect(rep.stdout).toContain('no flaky test');
    expect(existsSync(join(dir, 'repeat-2', 'junit.xml'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).verdicts).toEqual({ passed: 2, failed: 0, skipped: 0 });
  }, 120_000);

  it('--list names the suites and tests of the selection without running them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'runs-list-'));
    const r = await runScriptAsync('hil', ['--reports-root', root, '--list', '--grep', 'PING|rejects', 'payload', 'uplink']);
    expect(r.code, out(r)).toBe(0);
    expect(r.stdout).toBe(
      [
        'hil/suites/payload.hil.ts (1 test)',
        '  payload telecommand round trips (every dictionary command) > PING (17,1)',
        'hil/suites/uplink-security.hil.ts (1 test)',
        '  uplink security > rejects replayed, forged, truncated and unknown-SPI TC frames; genuine commands still arrive',
        '2 tests in 2 suites',
        '',
      ].join('\n'),
    );
    expect(existsSync(join(root, 'runs'))).toBe(false);
    // A suite name right after the options is a filter, never the path vitest's --json writes to.
    const plain = await runScriptAsync('hil', ['--reports-root', root, '--list', 'uplink-security']);
    expect(plain.code, out(plain)).toBe(0);
    expect(plain.stdout).toContain('1 test in 1 suite');
    expect(existsSync(join(process.cwd(), 'uplink-security'))).toBe(false);
  }, 60_000);

  it('a port that does not open: one line per board, no stack trace or source excerpt, exit 1', async () => {
    const root = mkdtempSync(join(tmpdir(), 'runs-setup-'));
    const r = await runScriptAsync('hil', ['--reports-root', root, '--port', 'apt=/dev/ttyUSB99-no-such-port', 'payload']);
    expect(r.code).toBe(1);
    const all = out(r);
    expect(all.split('\n').filter((l) => l.includes('setup failed'))).toEqual(['hil: setup failed: board apt on port /dev/ttyUSB99-no-such-port: serial port /dev/ttyUSB99-no-such-port does not exist']);
    expect(all).toContain('apt: port /dev/ttyUSB99-no-such-port'); // the header shows the address
    expect(all).not.toMatch(STACK_LINE);
    expect(all).not.toMatch(/^\s*\d+\|/m); // a source excerpt's numbered lines
    expect(all).not.toMatch(/Failed Suites|BoardError/);
    expect(all).not.toMatch(ANSI);
  }, 60_000);
});
