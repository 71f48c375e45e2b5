/**
 * The visible passes of a satellite over a station in a window, as a pass planner lists
 * them: the passes findPasses finds (the ones bestPass chooses from), rise and set
 * refined to 1 s, night by the same rule as bestPass (isNightPass).
 */
import { findPasses, isNightPass, localSolarHour, type Orbit } from './orbit.ts';
import type { Station } from './stations.ts';

export interface ListedPass {
  /** Rise above the minimum elevation (ISO 8601 UTC, 1 s). */
  startUtc: string;
  culminationUtc: string;
  /** Set below the minimum elevation. */
  endUtc: string;
  durationS: number;
  maxElevationDeg: number;
  /** Culmination between 20:00 and 04:00 local mean solar time: a pass QKD can use. */
  night: boolean;
  /** Local mean solar hour at culmination, 0..24. */
  localSolarHour: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Every pass above `minElevationDeg` in [from, from + days), in time order. A pass
 * already in view at `from`, or still in view at the window's end, is cut at the window.
 */
export function listPasses(orbit: Orbit, station: Station, from: Date, days: number, minElevationDeg = 10): ListedPass[] {
  const windowEndMs = from.getTime() + days * 86_400_000;
  return findPasses(orbit, station, from, days * 24, minElevationDeg).map((p) => {
    const start = edge(orbit, station, p.rise.getTime(), -1, from.getTime(), minElevationDeg);
    const end = edge(orbit, station, p.set.getTime(), +1, windowEndMs, minElevationDeg);
    return {
      startUtc: new Date(start).toISOString(),
      culminationUtc: p.tca.toISOString(),
      endUtc: new Date(end).toISOString(),
      durationS: Math.round((end - start) / 1000),
      maxElevationDeg: round2(p.maxElevationDeg),
      night: isNightPass(station, p),
      localSolarHour: round2(localSolarHour(station, p.tca)),
    };
  });
}

/**
 * findPasses samples every 20 s, so its rise (set) is the first (last) sample in view:
 * walk outwards 1 s at a time while the satellite is still in view, within the window.
 */
function edge(orbit: Orbit, station: Station, tMs: number, dir: -1 | 1, limitMs: number, minElevationDeg: number): number {
  let t = tMs;
  for (let i = 0; i < 20; i++) {
    const next = t + dir * 1000;
    if (dir < 0 ? next < limitMs : next > limitMs) break;
    if (orbit.look(station, new Date(next)).elevationDeg < minElevationDeg) break;
    t = next;
  }
  return t;
}
