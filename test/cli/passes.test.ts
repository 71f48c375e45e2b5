import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import type { ListedPass } from '../../boards/sim/pass-list.ts';
import { jsonLines, runScript } from './run.ts';

/** npm run passes as a real process: the pass list a planner reads, and the pass npm run pass runs among it. */
/** One line of `npm run passes -- --json`: the pure function's pass plus its station. */
type Listed = ListedPass & { station: string };
const passesOf = (args: string[]) => {
  const r = runScript('passes', [...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return jsonLines(r.stdout) as unknown as Listed[];
};
const ms = Date.parse;

describe('npm run passes', () => {
  it('--json: one object per pass, sorted, elevation within 0..90, the fields a planner needs', () => {
    const list = passesOf(['--station', 'wuhan']);
    expect(list.length).toBeGreaterThanOrEqual(6);
    for (const [i, p] of list.entries()) {
      expect(Object.keys(p).sort()).toEqual(['culminationUtc', 'durationS', 'endUtc', 'localSolarHour', 'maxElevationDeg', 'night', 'startUtc', 'station']);
      expect(p.station).toBe('wuhan');
      expect(p.maxElevationDeg).toBeGreaterThanOrEqual(10);
      expect(p.maxElevationDeg).toBeLessThanOrEqual(90);
      expect(ms(p.startUtc)).toBeLessThan(ms(p.culminationUtc));
      expect(ms(p.culminationUtc)).toBeLessThan(ms(p.endUtc));
      if (i > 0) expect(ms(p.startUtc)).toBeGreaterThan(ms(list[i - 1].endUtc));
    }
    // The default window: the example TLE's epoch (2026-11-22 12:00 UTC) and 3 days.
    expect(ms(list[0].startUtc)).toBeGreaterThanOrEqual(ms('2026-11-22T12:00:00Z'));
    expect(ms(list.at(-1)!.endUtc)).toBeLessThanOrEqual(ms('2026-11-25T12:00:00Z'));
    expect(list.some((p) => p.night) && list.some((p) => !p.night)).toBe(true);
  });

  for (const station of ['beijing', 'nanshan']) {
    it(`the pass npm run pass runs over ${station} is among them, a night pass`, () => {
      const list = passesOf(['--station', station]);
      const run = runScript('pass', ['--physics-only', '--station', station, '--duration-s', '20', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const s = JSON.parse(run.stdout) as { passStartUtc: string; passEndUtc: string; maxElevationDeg: number };
      // Its 20 s window is centred on culmination.
      const hit = list.filter((p) => ms(p.culminationUtc) >= ms(s.passStartUtc) && ms(p.culminationUtc) <= ms(s.passEndUtc));
      expect(hit).toHaveLength(1);
      expect(hit[0].night).toBe(true);
      expect(hit[0].maxElevationDeg).toBeCloseTo(s.maxElevationDeg, 1);
      expect(hit[0].maxElevationDeg).toBe(Math.max(...list.filter((p) => p.night).map((p) => p.maxElevationDeg)));
    });
  }

  it('text: a header and one line per pass, the same passes; a summary on stderr', () => {
    const json = passesOf(['--station', 'shanghai', '--days', '2']);
    const r = runScript('passes', ['--station', 'shanghai', '--days', '2']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^start \(UTC\)\s+culmination \(UTC\)\s+end \(UTC\)\s+max el\s+sky$/);
    expect(lines.slice(1)).toEqual(json.map((p) => expect.stringMatching(new RegExp(`^${p.startUtc.replace('.000Z', 'Z')}  ${p.culminationUtc.replace('.000Z', 'Z')}  ${p.endUtc.replace('.000Z', 'Z')}\\s+${p.maxElevationDeg.toFixed(1)} deg  ${p.night ? 'night' : 'day'}$`))));
    expect(r.stderr).toMatch(new RegExp(`Shanghai .*: ${json.length} passes above 10 deg in 2 days from 2026-11-22T12:00:00Z, ${json.filter((p) => p.night).length} at night`));
  });

  it('--tle FILE (a three-line set) and --from a date: the window starts there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'passes-'));
    const tle = join(dir, 'example.tle');
    writeFileSync(tle, `EXAMPLE SAT\n${EXAMPLE_TLE.join('\n')}\n`);
    expect(passesOf(['--tle', tle])).toEqual(passesOf([]));
    const day = passesOf(['--tle', tle, '--from', '2026-11-24', '--days', '1', '--min-elevation-deg', '30']);
    expect(day.length).toBeGreaterThan(0);
    for (const p of day) {
      expect(ms(p.startUtc)).toBeGreaterThanOrEqual(ms('2026-11-24T00:00:00Z'));
      expect(ms(p.endUtc)).toBeLessThanOrEqual(ms('2026-11-25T00:00:00Z'));
      expect(p.maxElevationDeg).toBeGreaterThanOrEqual(30);
    }
  });

  it('a published TLE: the window from its epoch (2008-09-20 12:25:40.104) to the second; far from the epoch a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'passes-'));
    const iss = join(dir, 'iss.tle');
    writeFileSync(iss, ['ISS (ZARYA)', '1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927', '2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537', ''].join('\n'));
    const r = runScript('passes', ['--tle', iss, '--station', 'wuhan', '--days', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const list = jsonLines(r.stdout) as unknown as Listed[];
    expect(list.length).toBeGreaterThan(0);
    expect(ms(list[0].startUtc)).toBeGreaterThanOrEqual(ms('2008-09-20T12:25:40Z'));
    for (const p of list) for (const t of [p.startUtc, p.culminationUtc, p.endUtc]) expect(t).toMatch(/:\d\d\.000Z$/);
    expect(r.stderr).not.toMatch(/warning/);
    const late = runScript('passes', ['--tle', iss, '--from', '2009-01-01', '--days', '1']);
    expect(late.code).toBe(0);
    expect(late.stderr).toMatch(/warning: the window starts 102 days from the TLE epoch 2008-09-20T12:25:40\.104Z: predictions drift/);
  });
});
