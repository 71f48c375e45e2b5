import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRealtime, BenchConfigError, loadBenchConfig, parseBenchConfig } from '../../hil/bench/config.ts';
import { readCapture } from '../../hil/capture.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { toolTier } from '../tiers.ts';
import { ROOT, runScriptAsync } from '../cli/run.ts';

/**
 * `--realtime`: the bench on the wall clock with its emulator processes free-running, as
 * real boards are driven. The override itself, and `npm run hil -- --realtime` on the pty
 * bench end to end.
 */
describe('applyRealtime', () => {
  const pty = loadBenchConfig(join(ROOT, 'hil/benches/pty.json'));

  it('puts a bench of lines on the wall clock without lockstep; without the flag the config is untouched', () => {
    const locked = parseBenchConfig({ ...pty, clock: 'sim', lockstep: 'always', lockstepQuantumMs: 5 }, 'test');
    const rt = applyRealtime(locked, true);
    expect(rt.clock).toBe('wall');
    expect('lockstep' in rt).toBe(false);
    expect('lockstepQuantumMs' in rt).toBe(false);
    expect(rt.boards).toEqual(pty.boards);
    expect(applyRealtime(locked, false)).toBe(locked);
  });

  it('refuses a bench with in-process boards, naming them', () => {
    const mixed = parseBenchConfig({ name: 'mixed', boards: { apt: { mode: 'emulated' }, lct: { mode: 'pty' }, acs: { mode: 'emulated' } } }, 'test');
    expect(() => applyRealtime(mixed, true)).toThrow(BenchConfigError);
    expect(() => applyRealtime(mixed, true)).toThrow(/--realtime .*bench 'mixed' has apt, acs in-process \(mode "emulated"\)/);
  });
});

const HAVE_SOCAT = toolTier('realtime on the pty bench', ['socat'], socatAvailable());

describe.runIf(HAVE_SOCAT)('npm run hil -- --bench pty.json --realtime', () => {
  it('runs the apt suite on the wall clock against free-running emulator processes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-realtime-'));
    const benchFile = join(dir, 'pty.json');
    const captures = join(dir, 'captures');
    writeFileSync(benchFile, JSON.stringify({ ...loadBenchConfig(join(ROOT, 'hil/benches/pty.json')), captureDir: captures }));
    const r = await runScriptAsync('hil', ['--bench', benchFile, '--realtime', '--report-dir', dir, 'apt']);
    // eslint-disable-next-line no-control-regex
    const out = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    expect(r.stderr).toContain('bench pty (qsrc: pty, apt: pty, lct: pty, acs: pty), seed 1, wall clock (--realtime: emulator processes free-running)');
    expect(out).toMatch(/Tests\s+6 passed \(6\)/);
    expect(r.code, out).toBe(0);
    // The suites opened the bench as resolved by the runner: wall clock, no lockstep.
    const resolved = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8'));
    expect(resolved).toMatchObject({ name: 'pty', clock: 'wall' });
    expect(resolved.lockstep).toBeUndefined();
    // The capture is on the wall clock with no lockstep note, and answers arrive between
    // milliseconds: a lockstep line receives only on quantum boundaries of bench time.
    const files = readdirSync(captures).filter((f) => f.endsWith('.apt.cap.jsonl'));
    expect(files).toHaveLength(1);
    const cap = readCapture(join(captures, files[0]));
    expect(cap.header.clock).toBe('wall');
    expect(cap.records.some((rec) => 'event' in rec && rec.event === 'lockstep')).toBe(false);
    const rx = cap.records.filter((rec) => 'dir' in rec && rec.dir === 'rx');
    expect(rx.length).toBeGreaterThan(10);
    expect(rx.some((rec) => !Number.isInteger(rec.t))).toBe(true);
  });
});
