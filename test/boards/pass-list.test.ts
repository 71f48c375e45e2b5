import { describe, expect, it } from 'vitest';
import { listPasses } from '../../boards/sim/pass-list.ts';
import { EXAMPLE_SEARCH_START, Orbit, bestPass, findPasses } from '../../boards/sim/orbit.ts';
import { STATIONS } from '../../boards/sim/stations.ts';
import { GROUND_STATIONS } from '../../protocols/dictionary/mission.ts';

const orbit = new Orbit();
const beijing = STATIONS.beijing;
const el = (iso: string, dS = 0) => orbit.look(beijing, new Date(Date.parse(iso) + dS * 1000)).elevationDeg;

describe('listPasses: the visible passes over a station', () => {
  const list = listPasses(orbit, beijing, EXAMPLE_SEARCH_START, 3);

  it('lists every pass findPasses finds, in time order, each rise < culmination < set', () => {
    expect(list).toHaveLength(findPasses(orbit, beijing, EXAMPLE_SEARCH_START, 72).length);
    expect(list.length).toBeGreaterThanOrEqual(6);
    for (const [i, p] of list.entries()) {
      expect(Date.parse(p.startUtc)).toBeLessThan(Date.parse(p.culminationUtc));
      expect(Date.parse(p.culminationUtc)).toBeLessThan(Date.parse(p.endUtc));
      expect(p.durationS).toBe((Date.parse(p.endUtc) - Date.parse(p.startUtc)) / 1000);
      if (i > 0) expect(Date.parse(p.startUtc)).toBeGreaterThan(Date.parse(list[i - 1].endUtc));
    }
  });

  it('rise and set to the second: in view at them, below the minimum a second outside', () => {
    for (const p of list) {
      expect(el(p.startUtc)).toBeGreaterThanOrEqual(10);
      expect(el(p.startUtc, -1)).toBeLessThan(10);
      expect(el(p.endUtc)).toBeGreaterThanOrEqual(10);
      expect(el(p.endUtc, 1)).toBeLessThan(10);
      expect(p.maxElevationDeg).toBeCloseTo(el(p.culminationUtc), 2);
      expect(p.maxElevationDeg).toBeLessThanOrEqual(90);
    }
  });

  it('night is a culmination between 20:00 and 04:00 local mean solar time; both kinds occur', () => {
    for (const p of list) expect(p.night).toBe(p.localSolarHour >= 20 || p.localSolarHour < 4);
    expect(list.some((p) => p.night)).toBe(true);
    expect(list.some((p) => !p.night)).toBe(true);
  });

  it('holds the pass the mission runs (bestPass) as a night pass, the highest of the night ones', () => {
    const best = bestPass(orbit, beijing, EXAMPLE_SEARCH_START);
    const listed = list.find((p) => p.culminationUtc === best.tca.toISOString());
    expect(listed).toMatchObject({ night: true, maxElevationDeg: Math.round(best.maxElevationDeg * 100) / 100 });
    expect(Math.max(...list.filter((p) => p.night).map((p) => p.maxElevationDeg))).toBe(listed!.maxElevationDeg);
  });

  it('a higher minimum elevation keeps only the passes that reach it, shorter', () => {
    const high = listPasses(orbit, beijing, EXAMPLE_SEARCH_START, 3, 30);
    expect(high.map((p) => p.culminationUtc)).toEqual(list.filter((p) => p.maxElevationDeg >= 30).map((p) => p.culminationUtc));
    for (const p of high) expect(p.durationS).toBeLessThan(list.find((q) => q.culminationUtc === p.culminationUtc)!.durationS);
  });

  it('a pass in view at the window start is cut there', () => {
    const from = new Date(Date.parse(list[2].culminationUtc));
    const cut = listPasses(orbit, beijing, from, 1);
    expect(cut[0].startUtc).toBe(from.toISOString());
    expect(cut[0].endUtc).toBe(list[2].endUtc);
  });
});

describe('stations', () => {
  it('the seven stations of the mission, each one the pass plan telecommand can name', () => {
    expect(Object.keys(STATIONS).sort()).toEqual(['beijing', 'hefei', 'jinan', 'nanshan', 'shanghai', 'stellenbosch', 'wuhan']);
    for (const s of Object.keys(STATIONS)) expect(GROUND_STATIONS).toContain(s);
  });
});
