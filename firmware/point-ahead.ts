/**
 * Point-ahead: light takes R/c each way, so the downlink must lead the direction the
 * ground beacon arrives from by theta_pa = 2 v_perp / c (physics.md "Channel"), v_perp
 * the station's velocity relative to the satellite across the line of sight: about
 * 50 urad in LEO, several times the 12 urad beam. The payload computes it from its pass
 * plan (TLE and station) and offsets the fine-pointing mirror by it.
 *
 * THE CAMERA AXES (the one statement of the frame convention: the payload's spot, mirror
 * and point-ahead angles and the world's beacon, mirror and true downlink direction are
 * all in these axes, built by `cameraAxes`):
 *   z  the boresight: from the satellite to the station (the nominal line of sight);
 *   x  the satellite's inertial (TEME) velocity with its z component removed: along-track;
 *   y  z cross x (cross-track), so x, y, z are right-handed.
 * An angle (xUrad, yUrad) is a small rotation of the line of sight toward +x and +y.
 */
import { degreesToRadians, ecfToEci, geodeticToEcf, gstime, propagate, twoline2satrec, type SatRec } from 'satellite.js';
import { MISSION_EPOCH_UNIX_MS } from '../protocols/pus.ts';

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

export interface CameraAxes {
  x: Vec3;
  y: Vec3;
  z: Vec3;
}

/** Speed of light, km/s. */
export const LIGHT_SPEED_KM_S = 299_792.458;
/** Earth's rotation rate (sidereal), rad/s. */
const EARTH_RATE_RAD_S = 7.292115e-5;

const dot = (a: Vec3, b: Vec3) => a.x * b.x + a.y * b.y + a.z * b.z;
const scale = (a: Vec3, k: number): Vec3 => ({ x: a.x * k, y: a.y * k, z: a.z * k });
const sub = (a: Vec3, b: Vec3): Vec3 => ({ x: a.x - b.x, y: a.y - b.y, z: a.z - b.z });
const unit = (a: Vec3): Vec3 => scale(a, 1 / Math.sqrt(dot(a, a)));
const cross = (a: Vec3, b: Vec3): Vec3 => ({ x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x });

/** The camera axes (see the header) for a line of sight `los` (satellite to station) and the satellite's velocity. */
export function cameraAxes(los: Vec3, satVelocity: Vec3): CameraAxes {
  const z = unit(los);
  const x = unit(sub(satVelocity, scale(z, dot(satVelocity, z))));
  return { x, y: cross(z, x), z };
}

/** A direction given as a vector, as (x, y) angles in the camera axes, urad (tangent-plane coordinates). */
export function inCameraUrad(axes: CameraAxes, direction: Vec3): { xUrad: number; yUrad: number } {
  const z = dot(direction, axes.z);
  return { xUrad: (dot(direction, axes.x) / z) * 1e6, yUrad: (dot(direction, axes.y) / z) * 1e6 };
}

/**
 * First-order point-ahead in the camera axes, urad: 2 (v_station - v_sat)_perp / c. In
 * the satellite's frame the station moves with v_station - v_sat; the beacon shows where
 * it was R/c ago, the downlink must aim where it will be R/c on: 2 R/c of that motion
 * across the line of sight, seen from R away.
 */
export function pointAheadUrad(sat: { positionKm: Vec3; velocityKmS: Vec3 }, station: { positionKm: Vec3; velocityKmS: Vec3 }): { xUrad: number; yUrad: number } {
  const axes = cameraAxes(sub(station.positionKm, sat.positionKm), sat.velocityKmS);
  const rel = sub(station.velocityKmS, sat.velocityKmS);
  const k = (2 / LIGHT_SPEED_KM_S) * 1e6;
  return { xUrad: dot(rel, axes.x) * k, yUrad: dot(rel, axes.y) * k };
}

/** What of the pass plan the point-ahead needs. */
export interface PointAheadPlan {
  latDeg: number;
  lonDeg: number;
  altM: number;
  tleLine1: string;
  tleLine2: string;
}

/**
 * The payload's point-ahead over a pass plan: SGP4 on the plan's TLE and the station
 * rotating with the Earth. `at(missionTimeS)` gives the offset in the camera axes, or
 * null when the plan's orbit cannot be propagated (a bad TLE: then no offset).
 */
export class PlanPointAhead {
  private readonly satrec: SatRec | null;
  private readonly stationEcf: Vec3;

  constructor(plan: PointAheadPlan) {
    let rec: SatRec | null = null;
    try {
      rec = twoline2satrec(plan.tleLine1, plan.tleLine2);
      if (rec.error) rec = null;
    } catch {
      rec = null;
    }
    this.satrec = rec;
    this.stationEcf = geodeticToEcf({ latitude: degreesToRadians(plan.latDeg), longitude: degreesToRadians(plan.lonDeg), height: plan.altM / 1000 });
  }

  /** The offset at UTC `date`, urad in the camera axes; null without a usable orbit. */
  atDate(date: Date): { xUrad: number; yUrad: number } | null {
    if (!this.satrec) return null;
    const pv = propagate(this.satrec, date);
    if (!pv || !Number.isFinite(pv.position.x)) return null;
    const r = ecfToEci(this.stationEcf, gstime(date));
    // Velocity of a point fixed on the Earth: omega x r, omega along the inertial z axis.
    const v = { x: -EARTH_RATE_RAD_S * r.y, y: EARTH_RATE_RAD_S * r.x, z: 0 };
    const pa = pointAheadUrad({ positionKm: pv.position, velocityKmS: pv.velocity }, { positionKm: r, velocityKmS: v });
    return Number.isFinite(pa.xUrad) && Number.isFinite(pa.yUrad) ? pa : null;
  }

  /** The offset at mission time `missionTimeS` (s since the PUS epoch). */
  at(missionTimeS: number): { xUrad: number; yUrad: number } | null {
    return this.atDate(new Date(MISSION_EPOCH_UNIX_MS + missionTimeS * 1000));
  }
}
