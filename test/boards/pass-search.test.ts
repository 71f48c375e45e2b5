/**
 * The pass search's skip (boards/sim/orbit.ts climbBound): it only skips grid points the
 * satellite cannot have climbed above the minimum elevation by, so findPasses gives the
 * passes of the plain 20 s scan (passesOnGrid looking at every grid point), for low,
 * high and eccentric orbits and every station.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_SEARCH_START, EXAMPLE_TLE, Orbit, climbBound, findPasses, passesOnGrid, type PassWindow } from '../../boards/sim/orbit.ts';
import { STATIONS, type Station } from '../../boards/sim/stations.ts';

/** The plain search: every 20 s grid point. */
const plainPasses = (orbit: Orbit, station: Station, start: Date, spanH: number, minElevationDeg: number): PassWindow[] => passesOnGrid(orbit, station, start, spanH, minElevationDeg);

// Low (ISS-like, 51.6 deg, ~420 km) and eccentric (e = 0.1, perigee ~ 600 km) test orbits.
const LOW_TLE: [string, string] = [
  '1 99902U 26001B   26326.50000000  .00000000  00000-0  00000-0 0  9992',
  '2 99902  51.6000  10.0000 0005000  30.0000 330.0000 15.50000000000103',
];
const ECCENTRIC_TLE: [string, string] = [
  '1 99903U 26001C   26326.50000000  .00000000  00000-0  00000-0 0  9993',
  '2 99903  63.4000 120.0000 1000000 270.0000  90.0000 11.80000000000105',
];

describe('pass search', () => {
  for (const [name, tle] of [['example', EXAMPLE_TLE], ['low', LOW_TLE], ['eccentric', ECCENTRIC_TLE]] as const) {
    it(`gives the plain scan's passes (${name} orbit, every station, 10 and 30 deg)`, () => {
      const orbit = new Orbit(tle);
      let found = 0;
      for (const station of Object.values(STATIONS)) {
        for (const minEl of [10, 30]) {
          const want = plainPasses(orbit, station, EXAMPLE_SEARCH_START, 24, minEl);
          expect(findPasses(orbit, station, EXAMPLE_SEARCH_START, 24, minEl)).toEqual(want);
          found += want.length;
        }
      }
      expect(found).toBeGreaterThan(10);
    });
  }

  it('the climb bound never exceeds the time the satellite really takes to reach the minimum elevation', () => {
    for (const tle of [EXAMPLE_TLE, LOW_TLE, ECCENTRIC_TLE]) {
      const orbit = new Orbit(tle);
      const station = STATIONS.beijing;
      const climb = climbBound(orbit, station, 10);
      // Elevation every 5 s over 12 h; for each sample below 10 deg, the time to the next one at or above.
      const els: { el: number; range: number }[] = [];
      for (let t = 0; t <= 12 * 3600; t += 5) {
        const look = orbit.look(station, new Date(EXAMPLE_SEARCH_START.getTime() + t * 1000));
        els.push({ el: look.elevationDeg, range: look.rangeKm });
      }
      let nextAbove = Infinity;
      let skipped = 0;
      for (let i = els.length - 1; i >= 0; i--) {
        if (els[i].el >= 10) nextAbove = i;
        else {
          const bound = climb(els[i].el, els[i].range);
          expect(bound).toBeLessThanOrEqual((nextAbove - i) * 5);
          if (bound >= 40) skipped++;
        }
      }
      // And it is useful: most samples below the horizon allow a skip.
      expect(skipped).toBeGreaterThan(els.length / 2);
    }
  });
});
