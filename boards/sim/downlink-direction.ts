/**
 * The true downlink direction by light-time geometry (the world's reference for scoring
 * pointing; the payload's own estimate is first order, firmware/point-ahead.ts).
 *
 * At the satellite's time t, in the frame moving with the satellite (first order in v/c,
 * which is what aberration is to that order):
 *  - the beacon left the station at t - tau1 with |G(t - tau1) - S(t)| = c tau1, so it
 *    arrives from where the station was then, seen from where the co-moving frame's
 *    origin was then: G(t - tau1) - (S(t) - v_s tau1);
 *  - the downlink sent at t reaches the station at t + tau2 with |G(t + tau2) - S(t)| =
 *    c tau2, so it must go toward G(t + tau2) - (S(t) + v_s tau2).
 * G is the station rotated with the Earth by the exact angle over tau (not a velocity),
 * S and v_s come from SGP4; both light times are solved by iteration.
 */
import { C_KM_PER_S } from './light-time.ts';
import type { InertialState } from './orbit.ts';

type Vec3 = { x: number; y: number; z: number };

/** Earth's rotation rate (sidereal), rad/s. */
const EARTH_RATE_RAD_S = 7.292115e-5;

const norm = (a: Vec3) => Math.hypot(a.x, a.y, a.z);

/** The station at t + dtS from its inertial position at t: rotated about the inertial z axis. */
function rotateWithEarth(g: Vec3, dtS: number): Vec3 {
  const c = Math.cos(EARTH_RATE_RAD_S * dtS);
  const s = Math.sin(EARTH_RATE_RAD_S * dtS);
  return { x: c * g.x - s * g.y, y: s * g.x + c * g.y, z: g.z };
}

export interface DownlinkDirections {
  /** Unit vector toward where the beacon arrives from (inertial axes). */
  beaconFrom: Vec3;
  /** Unit vector along which the downlink must leave to meet the station (inertial axes). */
  downlinkTo: Vec3;
  /** One-way light times, s: the beacon's (tau1) and the downlink's (tau2). */
  tauUpS: number;
  tauDownS: number;
}

/** Light-time geometry at one instant from the satellite's state and the station's inertial position then. */
export function downlinkDirections(sat: InertialState, stationKm: Vec3): DownlinkDirections {
  const s = sat.positionKm;
  const v = sat.velocityKmS;
  const solve = (sign: 1 | -1): { tau: number; g: Vec3 } => {
    let g = stationKm;
    let tau = norm({ x: g.x - s.x, y: g.y - s.y, z: g.z - s.z }) / C_KM_PER_S;
    for (let i = 0; i < 4; i++) {
      g = rotateWithEarth(stationKm, sign * tau);
      tau = norm({ x: g.x - s.x, y: g.y - s.y, z: g.z - s.z }) / C_KM_PER_S;
    }
    return { tau, g };
  };
  const up = solve(-1);
  const down = solve(1);
  const from = { x: up.g.x - (s.x - v.x * up.tau), y: up.g.y - (s.y - v.y * up.tau), z: up.g.z - (s.z - v.z * up.tau) };
  const to = { x: down.g.x - (s.x + v.x * down.tau), y: down.g.y - (s.y + v.y * down.tau), z: down.g.z - (s.z + v.z * down.tau) };
  const nf = norm(from);
  const nt = norm(to);
  return {
    beaconFrom: { x: from.x / nf, y: from.y / nf, z: from.z / nf },
    downlinkTo: { x: to.x / nt, y: to.y / nt, z: to.z / nt },
    tauUpS: up.tau,
    tauDownS: down.tau,
  };
}
