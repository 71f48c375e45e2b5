import { EXAMPLE_TLE, Orbit, sampleGeometry, type LookSample } from '../../boards/sim/orbit.ts';
import { selectPass, type PassSelection } from '../../boards/sim/pass-list.ts';
import type { Station } from '../../boards/sim/stations.ts';

/**
 * The pass the mission runs: the QKD code's pass geometry (SGP4, the chosen pass over the
 * station, by default its best night pass: pass-list.ts selectPass; a window of
 * `durationS` centred on culmination, clipped to the part above `minElevationDeg`),
 * tabulated at 1 s and interpolated for any time.
 */
export interface PassGeometry {
  tle: [string, string];
  start: Date;
  end: Date;
  durationS: number;
  maxElevationDeg: number;
  samples: LookSample[];
  /** Elevation and range at `tS` seconds after the window start (clamped to the table). */
  at(tS: number): { elevationDeg: number; rangeKm: number };
}

export function passGeometry(station: Station, o: { durationS: number; minElevationDeg: number; tle?: [string, string]; pass?: PassSelection }): PassGeometry {
  const tle = o.tle ?? EXAMPLE_TLE;
  const orbit = new Orbit(tle);
  const pass = selectPass(orbit, station, o.pass, o.minElevationDeg);
  let start = new Date(pass.tca.getTime() - (o.durationS / 2) * 1000);
  if (start < pass.rise) start = pass.rise;
  let end = new Date(start.getTime() + o.durationS * 1000);
  if (end > pass.set) end = pass.set;
  const durationS = Math.max(0, Math.floor((end.getTime() - start.getTime()) / 1000));
  const samples = sampleGeometry(orbit, station, start, durationS, 1);
  const at = (tS: number) => {
    const { i, j, f } = tableStep(samples.length, tS);
    const a = samples[i];
    const b = samples[j];
    return { elevationDeg: a.elevationDeg + f * (b.elevationDeg - a.elevationDeg), rangeKm: a.rangeKm + f * (b.rangeKm - a.rangeKm) };
  };
  const maxElevationDeg = Math.max(...samples.slice(0, durationS + 1).map((s) => s.elevationDeg));
  return { tle, start, end, durationS, maxElevationDeg, samples, at };
}

/** Where `tS` falls in a table sampled at whole seconds (clamped to it): rows i and j, fraction f of the way. */
export function tableStep(length: number, tS: number): { i: number; j: number; f: number } {
  const x = Math.max(0, Math.min(length - 1.000001, tS));
  const i = Math.floor(x);
  return { i, j: Math.min(length - 1, i + 1), f: x - i };
}

/**
 * Elevation seen before the window from a pass table that starts at the window: the
 * mission only runs the window and a short lead-in, so outside it the station is
 * treated as below the horizon (the emission gate stays shut).
 */
export function elevationAt(g: PassGeometry, tS: number): number {
  if (tS < 0 || tS > g.durationS) return 0;
  return g.at(tS).elevationDeg;
}
