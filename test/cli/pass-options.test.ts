import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import type { ListedPass } from '../../boards/sim/pass-list.ts';
import { jsonLines, runScript } from './run.ts';

/** npm run pass -- --tle / --date / --pass / --disable / --report, and the key rate in its summary. */
interface Summary {
  station: string;
  passStartUtc: string;
  passEndUtc: string;
  durationS: number;
  maxElevationDeg: number;
  finalKeyBits: number;
  keyRate: { tS: number; keyBitsPerS: number }[];
}
const ms = Date.parse;
const dir = mkdtempSync(join(tmpdir(), 'pass-options-'));
const pass = (args: string[]) => {
  const r = runScript('pass', [...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Summary;
};
const listed = (args: string[]) => {
  const r = runScript('passes', [...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return jsonLines(r.stdout) as unknown as ListedPass[];
};
/** The listed pass whose culmination the run's window (centred on culmination) holds. */
const runOf = (list: ListedPass[], s: Summary) => list.filter((p) => ms(p.culminationUtc) >= ms(s.passStartUtc) && ms(p.culminationUtc) <= ms(s.passEndUtc));

describe('npm run pass: choosing the pass', () => {
  it('--pass 2 runs the second pass npm run passes lists (physics-only), with its key rate per 10 s', () => {
    const list = listed(['--station', 'nanshan']);
    const s = pass(['--physics-only', '--station', 'nanshan', '--pass', '2', '--duration-s', '20']);
    expect(runOf(list, s)).toEqual([list[1]]);
    expect(s.maxElevationDeg).toBeCloseTo(list[1].maxElevationDeg, 1);
    expect(s.finalKeyBits).toBeGreaterThan(0);
    expect(s.keyRate.map((p) => p.tS)).toEqual([0, 10]);
    expect(s.keyRate.reduce((a, p) => a + p.keyBitsPerS * 10, 0)).toBe(s.finalKeyBits);
  });

  it('--tle FILE and --date: the window of npm run passes --tle FILE --from DATE', () => {
    const tle = join(dir, 'sat.tle');
    writeFileSync(tle, `SAT\n${EXAMPLE_TLE.join('\n')}\n`);
    const list = listed(['--station', 'stellenbosch', '--tle', tle, '--from', '2026-11-24']);
    const s = pass(['--physics-only', '--station', 'stellenbosch', '--tle', tle, '--date', '2026-11-24', '--pass', '3', '--duration-s', '20']);
    expect(runOf(list, s)).toEqual([list[2]]);
    // Without --pass: the best night pass of that window.
    const best = pass(['--physics-only', '--station', 'stellenbosch', '--date', '2026-11-24', '--duration-s', '20']);
    const hit = runOf(list, best);
    expect(hit).toHaveLength(1);
    expect(hit[0].maxElevationDeg).toBe(Math.max(...list.filter((p) => p.night).map((p) => p.maxElevationDeg)));
  });

  it('the mission engine takes --pass too, and its key rate counts from the pass start', () => {
    const list = listed(['--station', 'shanghai']);
    const n = list.findIndex((p) => p.night && p.maxElevationDeg > 30) + 1;
    const s = pass(['--station', 'shanghai', '--pass', String(n), '--duration-s', '30']);
    expect(runOf(list, s)).toEqual([list[n - 1]]);
    expect(s.keyRate[0].tS).toBe(0);
    expect(s.keyRate.length).toBeGreaterThanOrEqual(3);
    expect(s.keyRate.reduce((a, p) => a + p.keyBitsPerS * 10, 0)).toBe(s.finalKeyBits);
  }, 120_000);

  it('--disable takes the compensations by name, comma-separated', () => {
    const s = pass(['--physics-only', '--disable', 'point-ahead,time-sync,polarisation-compensation', '--duration-s', '5']);
    expect(s.durationS).toBe(5);
  });

  it('--report DIR: a page with the figures, the key-rate and the loss plots (inline SVG, no network)', () => {
    const out = join(dir, 'report');
    const r = runScript('pass', ['--physics-only', '--station', 'stellenbosch', '--duration-s', '20', '--report', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^key rate \(10 s\)\s+[\d.]+ [\d.]+ kbit\/s$/m);
    const html = readFileSync(join(out, 'pass.html'), 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(html).toContain('Key rate (final key of the blocks delivered in each 10 s)');
    expect(html).toContain('Channel loss');
    expect(html).toMatch(/<th>final key<\/th><td>\d+ bits/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});
