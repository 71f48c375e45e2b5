/**
 * Pass geometry from SGP4 (satellite.js): elevation and slant range of the satellite
 * seen from a station, and a search for the best pass in a window.
 */
import { degreesToRadians, ecfToEci, ecfToLookAngles, eciToEcf, geodeticToEcf, gstime, propagate, twoline2satrec, type SatRec } from 'satellite.js';
import type { Station } from './stations.ts';

/**
 * EXAMPLE two-line element set, not a real object: a 500 km (15.22 rev/day)
 * sun-synchronous circular orbit (inclination 97.4 deg, RAAN 240 deg: passes near local
 * midnight over China, when QKD runs), epoch 2026-11-22 12:00 UTC.
 * Replace it with a real TLE (PassOptions.tle) for a real satellite.
 */
export const EXAMPLE_TLE: [string, string] = [
  '1 99901U 26001A   26326.50000000  .00000000  00000-0  00000-0 0  9991',
  '2 99901  97.4000 240.0000 0001000  90.0000 270.0000 15.22000000000106',
];

/** Where the default pass search starts (the example TLE's epoch). */
export const EXAMPLE_SEARCH_START = new Date(Date.UTC(2026, 10, 22, 12, 0, 0));

export interface LookSample {
  tS: number;
  elevationDeg: number;
  /** Azimuth of the satellite from the station, degrees east of north. */
  azimuthDeg: number;
  rangeKm: number;
}

/** A position (km) and velocity (km/s) in the TEME inertial frame of SGP4. */
export interface InertialState {
  positionKm: { x: number; y: number; z: number };
  velocityKmS: { x: number; y: number; z: number };
}

/** The station in the TEME inertial frame at `date` (the Earth-fixed site rotated by sidereal time). */
export function stationInertial(station: Station, date: Date): { x: number; y: number; z: number } {
  const ecf = geodeticToEcf({ latitude: degreesToRadians(station.latitudeDeg), longitude: degreesToRadians(station.longitudeDeg), height: station.heightKm });
  return ecfToEci(ecf, gstime(date));
}

export class Orbit {
  readonly satrec: SatRec;

  constructor(tle: [string, string] = EXAMPLE_TLE) {
    this.satrec = twoline2satrec(tle[0], tle[1]);
    if (this.satrec.error) throw new Error(`TLE rejected by SGP4 (error ${this.satrec.error})`);
  }

  /** Position and velocity of the satellite in the TEME inertial frame at `date`. */
  state(date: Date): InertialState {
    const pv = propagate(this.satrec, date);
    if (!pv) throw new Error(`SGP4 failed at ${date.toISOString()}`);
    return { positionKm: pv.position, velocityKmS: pv.velocity };
  }

  look(station: Station, date: Date): { elevationDeg: number; azimuthDeg: number; rangeKm: number } {
    const pv = propagate(this.satrec, date);
    if (!pv) throw new Error(`SGP4 failed at ${date.toISOString()}`);
    const ecf = eciToEcf(pv.position, gstime(date));
    const obs = {
      latitude: degreesToRadians(station.latitudeDeg),
      longitude: degreesToRadians(station.longitudeDeg),
      height: station.heightKm,
    };
    const la = ecfToLookAngles(obs, ecf);
    return { elevationDeg: (la.elevation * 180) / Math.PI, azimuthDeg: (la.azimuth * 180) / Math.PI, rangeKm: la.rangeSat };
  }
}

export interface PassWindow {
  /** Culmination time. */
  tca: Date;
  maxElevationDeg: number;
  /** Rise/set above the minimum elevation. */
  rise: Date;
  set: Date;
}

/** All passes above `minElevationDeg` in [start, start + spanH). */
export function findPasses(orbit: Orbit, station: Station, start: Date, spanH = 48, minElevationDeg = 10): PassWindow[] {
  // Most of the time the satellite is far below the horizon: skip the grid points it
  // cannot have climbed above the minimum by (the passes are those of the full grid).
  return passesOnGrid(orbit, station, start, spanH, minElevationDeg, climbBound(orbit, station, minElevationDeg));
}

/**
 * The passes seen on a 20 s grid (rise, set, culmination on it; culmination then refined
 * to 1 s). Below the minimum elevation the next point looked at is the first grid point
 * `climb(elevation, range)` seconds on (every one without it).
 */
export function passesOnGrid(orbit: Orbit, station: Station, start: Date, spanH: number, minElevationDeg: number, climb?: (elevationDeg: number, rangeKm: number) => number): PassWindow[] {
  const stepS = 20;
  const passes: PassWindow[] = [];
  let cur: PassWindow | null = null;
  for (let t = 0; t <= spanH * 3600; ) {
    const d = new Date(start.getTime() + t * 1000);
    const { elevationDeg, rangeKm } = orbit.look(station, d);
    t += elevationDeg >= minElevationDeg || !climb ? stepS : stepS * Math.max(1, Math.floor(climb(elevationDeg, rangeKm) / stepS));
    if (elevationDeg >= minElevationDeg) {
      if (!cur) cur = { tca: d, maxElevationDeg: elevationDeg, rise: d, set: d };
      if (elevationDeg > cur.maxElevationDeg) {
        cur.maxElevationDeg = elevationDeg;
        cur.tca = d;
      }
      cur.set = d;
    } else if (cur) {
      passes.push(cur);
      cur = null;
    }
  }
  if (cur) passes.push(cur);
  // Refine culmination to 1 s.
  for (const p of passes) {
    let best = p.tca.getTime();
    let bestEl = p.maxElevationDeg;
    for (let dt = -stepS; dt <= stepS; dt++) {
      const d = new Date(p.tca.getTime() + dt * 1000);
      const el = orbit.look(station, d).elevationDeg;
      if (el > bestEl) {
        bestEl = el;
        best = d.getTime();
      }
    }
    p.tca = new Date(best);
    p.maxElevationDeg = bestEl;
  }
  return passes;
}

/** Earth's rotation rate, rad/s, and SGP4's (WGS72) Earth radius, km. */
const EARTH_RATE_RAD_S = 7.292115e-5;
const SGP4_EARTH_RADIUS_KM = 6378.135;

/**
 * A lower bound on the seconds before a satellite seen at (elevationDeg, rangeKm) can
 * reach `minElevationDeg`. Seen from the Earth's centre the station-satellite angle is
 * gamma = acos((R / r) cos el) - el (R the station's geocentric radius, r the
 * satellite's); at the minimum elevation it is at most its value at the orbit's apogee
 * radius (gamma grows with r), and it closes no faster than the satellite's angular rate
 * at perigee plus the Earth's rotation. Margins: 1 deg for geodetic against geocentric
 * vertical, 50 km on the apogee (SGP4's short-period terms), 25 % on the rate.
 */
export function climbBound(orbit: Orbit, station: Station, minElevationDeg: number): (elevationDeg: number, rangeKm: number) => number {
  const ecf = geodeticToEcf({ latitude: degreesToRadians(station.latitudeDeg), longitude: degreesToRadians(station.longitudeDeg), height: station.heightKm });
  const stationKm = Math.hypot(ecf.x, ecf.y, ecf.z);
  const { alta, ecco, no } = orbit.satrec;
  const apogeeKm = (1 + alta) * SGP4_EARTH_RADIUS_KM + 50;
  const meanMotionRadS = no / 60;
  const rateRadS = 1.25 * (meanMotionRadS * (1 + ecco) ** 2 / (1 - ecco * ecco) ** 1.5 + EARTH_RATE_RAD_S);
  const gamma = (elRad: number, rKm: number) => Math.acos(Math.min(1, (stationKm / rKm) * Math.cos(elRad))) - elRad;
  const gammaAtMin = gamma(degreesToRadians(minElevationDeg), apogeeKm) + degreesToRadians(1);
  return (elevationDeg, rangeKm) => {
    const el = degreesToRadians(elevationDeg);
    const rKm = Math.sqrt(stationKm * stationKm + rangeKm * rangeKm + 2 * stationKm * rangeKm * Math.sin(el));
    return Math.max(0, (gamma(el, rKm) - gammaAtMin) / rateRadS);
  };
}

/** Local mean solar hour at the station (QKD needs a dark sky). */
export function localSolarHour(station: Station, d: Date): number {
  const h = d.getUTCHours() + d.getUTCMinutes() / 60 + station.longitudeDeg / 15;
  return ((h % 24) + 24) % 24;
}

/** A night pass: culmination between 20:00 and 04:00 local mean solar time at the station. */
export function isNightPass(station: Station, pass: Pick<PassWindow, 'tca'>): boolean {
  const h = localSolarHour(station, pass.tca);
  return h >= 20 || h < 4;
}

/** The highest night pass (isNightPass) of the window, else the highest pass. */
export function bestPass(orbit: Orbit, station: Station, start: Date, spanH = 72, minElevationDeg = 10): PassWindow {
  const passes = findPasses(orbit, station, start, spanH, minElevationDeg);
  if (passes.length === 0) throw new Error(`no pass over ${station.name} above ${minElevationDeg} deg in ${spanH} h`);
  const night = passes.filter((p) => isNightPass(station, p));
  const pool = night.length > 0 ? night : passes;
  return pool.reduce((a, b) => (b.maxElevationDeg > a.maxElevationDeg ? b : a));
}

/** Look angles every `stepS` seconds over [start, start + durationS]. */
export function sampleGeometry(orbit: Orbit, station: Station, start: Date, durationS: number, stepS = 1): LookSample[] {
  const out: LookSample[] = [];
  for (let t = 0; t <= durationS + stepS; t += stepS) {
    const l = orbit.look(station, new Date(start.getTime() + t * 1000));
    out.push({ tS: t, ...l });
  }
  return out;
}
