/**
 * The visible passes of a satellite over a station in a window, as a pass planner lists
 * them: the passes findPasses finds (the ones bestPass chooses from), rise and set
 * refined to 1 s, night by the same rule as bestPass (isNightPass).
 */
import { bestPass, EXAMPLE_SEARCH_START, findPasses, isNightPass, localSolarHour, type Orbit, type PassWindow } from './orbit.ts';
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

/** The window a pass is chosen from by default (npm run pass, npm run passes): 3 days from the TLE's epoch. */
export const PASS_WINDOW_DAYS = 3;
/** A pass is listed, and numbered for --pass, from this elevation up (npm run passes' default). */
export const LIST_MIN_ELEVATION_DEG = 10;

/** A LEO pass above the horizon lasts under 20 min: half of it bounds a walk from culmination. */
const MAX_HALF_PASS_S = 600;

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
 * Walks from `tMs` outwards 1 s at a time while the satellite is still above
 * `minElevationDeg`, within the window, at most `maxSteps` seconds: from findPasses' rise
 * (set), the first (last) 20 s sample in view, or from culmination.
 */
function edge(orbit: Orbit, station: Station, tMs: number, dir: -1 | 1, limitMs: number, minElevationDeg: number, maxSteps = 20): number {
  let t = tMs;
  for (let i = 0; i < maxSteps; i++) {
    const next = t + dir * 1000;
    if (dir < 0 ? next < limitMs : next > limitMs) break;
    if (orbit.look(station, new Date(next)).elevationDeg < minElevationDeg) break;
    t = next;
  }
  return t;
}

/** Where a pass window starts when only the TLE is given: its epoch, to the second (so every listed time is whole seconds). */
export function windowStartAt(epoch: Date): Date {
  return new Date(Math.floor(epoch.getTime() / 1000) * 1000);
}

/**
 * Which pass an engine runs (the physics-only pass, the mission pass; npm run pass
 * --date/--pass; one pass of a campaign): the `number`-th pass of the window as
 * listPasses lists it (1-based, above LIST_MIN_ELEVATION_DEG: the line of npm run
 * passes), or, without a number, the best night pass (bestPass), as before.
 */
export interface PassSelection {
  /** Window start (default EXAMPLE_SEARCH_START, the example TLE's epoch). */
  from?: Date;
  /** Window length, days (default PASS_WINDOW_DAYS). */
  days?: number;
  /** 1-based number of the pass in the window's list; default the best night pass. */
  number?: number;
}

/** A pass selection that names no pass of the window: `option` is the selection field at fault. */
export class PassSelectionError extends Error {
  constructor(
    readonly option: 'number',
    message: string,
  ) {
    super(message);
    this.name = 'PassSelectionError';
  }
}

/**
 * The pass to run, its rise and set above `minElevationDeg` (the engine's own minimum:
 * the mission's emission gate is 15 deg while passes are listed from 10 deg). The best
 * night pass is bestPass's (unchanged, rise and set on its 20 s search grid); a numbered
 * pass has rise and set walked to the second from culmination, like listPasses.
 */
export function selectPass(orbit: Orbit, station: Station, selection: PassSelection = {}, minElevationDeg = LIST_MIN_ELEVATION_DEG): PassWindow {
  const from = selection.from ?? EXAMPLE_SEARCH_START;
  const days = selection.days ?? PASS_WINDOW_DAYS;
  if (selection.number === undefined) return bestPass(orbit, station, from, days * 24, minElevationDeg);
  const n = selection.number;
  const passes = findPasses(orbit, station, from, days * 24, LIST_MIN_ELEVATION_DEG);
  if (!Number.isInteger(n) || n < 1 || n > passes.length) {
    throw new PassSelectionError('number', `pass ${n}: the window from ${from.toISOString()} (${days} day${days === 1 ? '' : 's'}) has ${passes.length} passes over ${station.name} (1..${passes.length})`);
  }
  const p = passes[n - 1];
  if (p.maxElevationDeg < minElevationDeg) {
    throw new PassSelectionError('number', `pass ${n} over ${station.name} culminates at ${p.maxElevationDeg.toFixed(1)} deg, below this engine's minimum elevation of ${minElevationDeg} deg`);
  }
  const windowEndMs = from.getTime() + days * 86_400_000;
  return {
    tca: p.tca,
    maxElevationDeg: p.maxElevationDeg,
    rise: new Date(edge(orbit, station, p.tca.getTime(), -1, from.getTime(), minElevationDeg, MAX_HALF_PASS_S)),
    set: new Date(edge(orbit, station, p.tca.getTime(), +1, windowEndMs, minElevationDeg, MAX_HALF_PASS_S)),
  };
}
