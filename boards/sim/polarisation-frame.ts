/**
 * The polarisation reference frame between the payload and the ground receiver, and how
 * far the ground's compensation leaves it off.
 *
 * Convention. The payload's reference axis is its along-track axis (the body x axis, kept
 * along the inertial velocity while the payload tracks the station). The ground
 * receiver's is its telescope's elevation axis (horizontal, perpendicular to the line of
 * sight: the alt-az mount's axis). Both are projected onto the plane perpendicular to the
 * line of sight; the frame angle theta is the angle from the ground's axis to the
 * payload's, right-handed about the line of sight from the station to the satellite,
 * folded into (-90, 90] deg (a polarisation is an axis, not a direction). It is near 0 at
 * culmination and grows towards the ends of the pass.
 *
 * Compensation. The ground turns a half-wave plate to theta / 2 (a half-wave plate at
 * phi rotates polarisation by 2 phi) as predicted from the pass plan's orbit; what is left
 * is residual = theta_true - theta_predicted, here the plate's calibration offset. A
 * frame off by an angle r sends a photon to the wrong detector of its basis with
 * probability sin^2 r in both BB84 bases: that is polarisationErrorProb.
 */
import { degreesToRadians, eciToEcf, geodeticToEcf, gstime, propagate, type SatRec } from 'satellite.js';
import { Orbit } from './orbit.ts';
import type { Station } from './stations.ts';

export interface PolarisationConfig {
  /** Calibration offset of the ground's half-wave plate, polarisation degrees: the residual of a compensated frame. */
  calibrationOffsetDeg: number;
}

export const DEFAULT_POLARISATION: PolarisationConfig = {
  // A plate set to 0.5 deg rotates the frame by 1 deg: sin^2(1 deg) = 3e-4 of QBER.
  calibrationOffsetDeg: 1,
};

type Vec3 = { x: number; y: number; z: number };
const dot = (a: Vec3, b: Vec3) => a.x * b.x + a.y * b.y + a.z * b.z;
const cross = (a: Vec3, b: Vec3): Vec3 => ({ x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x });
const scale = (a: Vec3, k: number): Vec3 => ({ x: a.x * k, y: a.y * k, z: a.z * k });
const sub = (a: Vec3, b: Vec3): Vec3 => ({ x: a.x - b.x, y: a.y - b.y, z: a.z - b.z });
const unit = (a: Vec3): Vec3 => scale(a, 1 / Math.sqrt(dot(a, a)));

/** Folds an axis angle into (-pi/2, pi/2]. */
export function foldAxisRad(a: number): number {
  let r = a - Math.PI * Math.round(a / Math.PI);
  if (r <= -Math.PI / 2) r += Math.PI;
  return r;
}

/**
 * The frame angle theta, rad, from vectors in one Earth-fixed frame: the satellite's
 * position (km), its along-track axis (any length), the station's position (km) and the
 * station's local vertical (any length).
 */
export function frameAngleRad(satKm: Vec3, alongTrack: Vec3, stationKm: Vec3, up: Vec3): number {
  const los = unit(sub(satKm, stationKm));
  const ground = unit(cross(up, los));
  const p = sub(alongTrack, scale(los, dot(alongTrack, los)));
  return foldAxisRad(Math.atan2(dot(los, cross(ground, p)), dot(ground, p)));
}

/** The frame angle of `orbit` seen from `station` at `date`, rad. */
export function frameAngleAt(satrec: SatRec, station: Station, date: Date): number {
  const pv = propagate(satrec, date);
  if (!pv) throw new Error(`SGP4 failed at ${date.toISOString()}`);
  const gmst = gstime(date);
  const lat = degreesToRadians(station.latitudeDeg);
  const lon = degreesToRadians(station.longitudeDeg);
  const stationKm = geodeticToEcf({ latitude: lat, longitude: lon, height: station.heightKm });
  const up = { x: Math.cos(lat) * Math.cos(lon), y: Math.cos(lat) * Math.sin(lon), z: Math.sin(lat) };
  // The inertial velocity's direction, rotated into the Earth-fixed frame (a rotation about z).
  return frameAngleRad(eciToEcf(pv.position, gmst), eciToEcf(pv.velocity, gmst), stationKm, up);
}

/**
 * The frame angle over a pass, tabulated at whole seconds from `start` and interpolated;
 * the compensation predicts it from the pass plan's orbit (the same TLE here, so the
 * residual is the plate's calibration offset alone).
 */
export class PolarisationTrack {
  /** theta at whole seconds, unwrapped (continuous), rad. */
  private readonly angle: Float64Array;

  constructor(
    tle: [string, string],
    station: Station,
    start: Date,
    durationS: number,
    readonly config: PolarisationConfig = DEFAULT_POLARISATION,
  ) {
    const { satrec } = new Orbit(tle);
    this.angle = new Float64Array(Math.max(0, Math.ceil(durationS)) + 2);
    for (let i = 0; i < this.angle.length; i++) {
      const a = frameAngleAt(satrec, station, new Date(start.getTime() + i * 1000));
      this.angle[i] = i === 0 ? a : this.angle[i - 1] + foldAxisRad(a - this.angle[i - 1]);
    }
  }

  /** The frame angle theta at `tS` seconds after the start (clamped to the table), rad in (-pi/2, pi/2]. */
  angleRad(tS: number): number {
    const x = Math.max(0, Math.min(this.angle.length - 1.000001, tS));
    const i = Math.floor(x);
    return foldAxisRad(this.angle[i] + (x - i) * (this.angle[i + 1] - this.angle[i]));
  }

  /** What the frame is off by after compensation (or all of theta without it), rad. */
  residualRad(tS: number, compensated: boolean): number {
    return compensated ? degreesToRadians(this.config.calibrationOffsetDeg) : this.angleRad(tS);
  }

  /** Probability a photon lands in the wrong detector of its basis: sin^2(residual). */
  errorProb(tS: number, compensated: boolean): number {
    const s = Math.sin(this.residualRad(tS, compensated));
    return s * s;
  }
}

/** The slice conditions' polarisationErrorProb over a pass, by pass time tS: sin^2 of the compensated residual, or of the whole frame angle. */
export function polarisationErrorProfile(
  tle: [string, string],
  station: Station,
  start: Date,
  durationS: number,
  compensated: boolean,
  config: PolarisationConfig = DEFAULT_POLARISATION,
): (tS: number) => number {
  const track = new PolarisationTrack(tle, station, start, durationS, config);
  return (tS) => track.errorProb(tS, compensated);
}
