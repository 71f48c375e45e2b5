import { describe, expect, it } from 'vitest';
import { EXAMPLE_SEARCH_START, Orbit, bestPass } from '../../boards/sim/orbit.ts';
import { LIST_MIN_ELEVATION_DEG, listPasses, PASS_WINDOW_DAYS, PassSelectionError, selectPass } from '../../boards/sim/pass-list.ts';
import { STATIONS } from '../../boards/sim/stations.ts';

const orbit = new Orbit();
const nanshan = STATIONS.nanshan;
const el = (d: Date, dS = 0) => orbit.look(nanshan, new Date(d.getTime() + dS * 1000)).elevationDeg;

describe('selectPass: the one choice of a pass, for both engines, npm run pass and the campaign', () => {
  const list = listPasses(orbit, nanshan, EXAMPLE_SEARCH_START, PASS_WINDOW_DAYS);

  it('without a number: the best night pass, exactly as bestPass (the default pass is unchanged)', () => {
    expect(selectPass(orbit, nanshan)).toEqual(bestPass(orbit, nanshan, EXAMPLE_SEARCH_START, 72, 10));
    expect(selectPass(orbit, nanshan, {}, 15)).toEqual(bestPass(orbit, nanshan, EXAMPLE_SEARCH_START, 72, 15));
  });

  it('number N: the N-th line of the list (npm run passes), rise and set to the second', () => {
    for (const n of [1, 2, list.length]) {
      const p = selectPass(orbit, nanshan, { number: n });
      const listed = list[n - 1];
      expect(p.tca.toISOString()).toBe(listed.culminationUtc);
      expect(p.rise.toISOString()).toBe(listed.startUtc);
      expect(p.set.toISOString()).toBe(listed.endUtc);
    }
  });

  it("the engine's own minimum elevation cuts the numbered pass, in view at its ends and not a second outside", () => {
    const n = list.findIndex((p) => p.maxElevationDeg > 30) + 1;
    const p = selectPass(orbit, nanshan, { number: n }, 15);
    expect(p.tca.toISOString()).toBe(list[n - 1].culminationUtc);
    expect(el(p.rise)).toBeGreaterThanOrEqual(15);
    expect(el(p.rise, -1)).toBeLessThan(15);
    expect(el(p.set)).toBeGreaterThanOrEqual(15);
    expect(el(p.set, 1)).toBeLessThan(15);
  });

  it('another window: from and days as npm run passes --from --days', () => {
    const from = new Date('2026-11-24T00:00:00Z');
    const other = listPasses(orbit, nanshan, from, 2);
    expect(selectPass(orbit, nanshan, { from, days: 2, number: 3 }).tca.toISOString()).toBe(other[2].culminationUtc);
  });

  it('a number that names no pass, or a pass below the engine minimum, is a PassSelectionError saying so', () => {
    expect(() => selectPass(orbit, nanshan, { number: list.length + 1 })).toThrow(new RegExp(`pass ${list.length + 1}: .* has ${list.length} passes over Nanshan \\(1\\.\\.${list.length}\\)`));
    expect(() => selectPass(orbit, nanshan, { number: 0 })).toThrow(PassSelectionError);
    const low = list.findIndex((p) => p.maxElevationDeg < 15) + 1;
    expect(low).toBeGreaterThan(0);
    expect(() => selectPass(orbit, nanshan, { number: low }, 15)).toThrow(/culminates at \d+\.\d deg, below this engine's minimum elevation of 15 deg/);
    expect(selectPass(orbit, nanshan, { number: low }, LIST_MIN_ELEVATION_DEG).tca.toISOString()).toBe(list[low - 1].culminationUtc);
  });
});
