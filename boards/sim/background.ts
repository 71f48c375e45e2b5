/**
 * Background counts in the ground detectors' gates from the night sky: the site's sky
 * (airglow and scattered city light) rising toward the horizon, and scattered moonlight
 * by the Moon's phase, altitude and angular distance from the look direction. The Sun is
 * left out: QKD passes are night passes (boards/sim/orbit.ts isNightPass).
 *
 * Unit: the moonless zenith sky of a dark site, which the receiver (field of view,
 * spectral filter, gate) turns into DARK_ZENITH_COUNTS_PER_S. The default is an
 * assumption of the class of the earlier constant background (25 counts/s), not a
 * published figure.
 */
import { Body, Equator, Horizon, Illumination, Observer } from 'astronomy-engine';
import type { LookSample } from './orbit.ts';
import type { Station } from './stations.ts';

/** Counts/s a dark site's moonless zenith sky gives in the gates (all detectors). */
export const DARK_ZENITH_COUNTS_PER_S = 10;
/** Zenith optical depth when the station states none (the channel's default). */
const DEFAULT_TAU = 0.12;
/** Height of the airglow layer (the OH and O2 emission, 85-100 km up; van Rhijn's thin shell). */
const AIRGLOW_LAYER_KM = 90;
const EARTH_RADIUS_KM = 6371;
/** Krisciunas & Schaefer's dark zenith sky (V = 21.587 mag/arcsec^2) in nanoLamberts: the Moon's term is scaled to it. */
const KS_DARK_ZENITH_NL = 79.0;
/** Their scattering function is fitted from 10 deg out: nearer the Moon it is held there. */
const KS_MIN_SEPARATION_DEG = 10;

const RAD = Math.PI / 180;

/**
 * Van Rhijn's factor: how much longer the path through a thin emitting shell at height h
 * is at zenith angle z than at the zenith, 1 / sqrt(1 - (R / (R + h))^2 sin^2 z).
 * The site's sky brightness grows by it toward the horizon (about 6x at the horizon for
 * a 90 km shell).
 */
export function vanRhijn(zenithDeg: number, layerKm = AIRGLOW_LAYER_KM): number {
  const k = EARTH_RADIUS_KM / (EARTH_RADIUS_KM + layerKm);
  const s = Math.sin(Math.min(90, Math.max(0, zenithDeg)) * RAD);
  return 1 / Math.sqrt(1 - k * k * s * s);
}

/** Krisciunas & Schaefer's airmass, X = (1 - 0.96 sin^2 Z)^-1/2 (finite at the horizon). */
function ksAirmass(zenithDeg: number): number {
  const s = Math.sin(Math.min(90, Math.max(0, zenithDeg)) * RAD);
  return 1 / Math.sqrt(1 - 0.96 * s * s);
}

/**
 * Scattered moonlight at the look direction in units of the dark zenith sky, after
 * Krisciunas & Schaefer, PASP 103, 1033 (1991):
 *   B = f(rho) I*(alpha) 10^(-0.4 k X(Z_moon)) (1 - 10^(-0.4 k X(Z))),
 *   f(rho) = 10^5.36 (1.06 + cos^2 rho) + 10^(6.15 - rho / 40)  (Rayleigh + Mie, rho in deg),
 *   I* = 10^(-0.4 (3.84 + 0.026 |alpha| + 4e-9 alpha^4))  (the Moon's brightness by phase angle alpha),
 * with the extinction k (mag per airmass) from the site's optical depth at the downlink
 * wavelength (k = 1.086 tau), so a clear dry site scatters less. The ratio to their V-band
 * dark sky overstates the Moon a little at 850 nm, where airglow brightens the dark sky.
 */
export function moonBrightness(moon: { altitudeDeg: number; phaseAngleDeg: number; separationDeg: number }, lookZenithDeg: number, tau: number): number {
  if (moon.altitudeDeg <= 0) return 0;
  const rho = Math.max(KS_MIN_SEPARATION_DEG, moon.separationDeg);
  const f = 10 ** 5.36 * (1.06 + Math.cos(rho * RAD) ** 2) + 10 ** (6.15 - rho / 40);
  const a = Math.abs(moon.phaseAngleDeg);
  const iStar = 10 ** (-0.4 * (3.84 + 0.026 * a + 4e-9 * a ** 4));
  const k = 1.086 * tau;
  const nL = f * iStar * 10 ** (-0.4 * k * ksAirmass(90 - moon.altitudeDeg)) * (1 - 10 ** (-0.4 * k * ksAirmass(lookZenithDeg)));
  return nL / KS_DARK_ZENITH_NL;
}

/** Where the Moon is for a station at `date`: altitude and azimuth (deg, east of north) and its phase angle (0 = full). */
export function moonAt(station: Station, date: Date): { altitudeDeg: number; azimuthDeg: number; phaseAngleDeg: number } {
  const obs = new Observer(station.latitudeDeg, station.longitudeDeg, station.heightKm * 1000);
  const eq = Equator(Body.Moon, date, obs, true, true);
  const hor = Horizon(date, obs, eq.ra, eq.dec, 'normal');
  return { altitudeDeg: hor.altitude, azimuthDeg: hor.azimuth, phaseAngleDeg: Illumination(Body.Moon, date).phase_angle };
}

/** Angle between two directions given as (elevation, azimuth), deg. */
export function separationDeg(el1: number, az1: number, el2: number, az2: number): number {
  const c = Math.sin(el1 * RAD) * Math.sin(el2 * RAD) + Math.cos(el1 * RAD) * Math.cos(el2 * RAD) * Math.cos((az1 - az2) * RAD);
  return Math.acos(Math.max(-1, Math.min(1, c))) / RAD;
}

/**
 * Background counts/s (all detectors, in the gates) for the station looking at
 * (elevation, azimuth) at `date`: the site's sky (skyBrightness x van Rhijn) plus the
 * Moon's scattered light, times the receiver's DARK_ZENITH_COUNTS_PER_S.
 */
export function backgroundCountsPerS(station: Station, date: Date, look: { elevationDeg: number; azimuthDeg: number }, darkZenithCountsPerS = DARK_ZENITH_COUNTS_PER_S): number {
  return backgroundWithMoon(station, moonAt(station, date), look, darkZenithCountsPerS);
}

function backgroundWithMoon(station: Station, m: MoonPlace, look: { elevationDeg: number; azimuthDeg: number }, darkZenithCountsPerS = DARK_ZENITH_COUNTS_PER_S): number {
  const zenithDeg = 90 - Math.max(0, look.elevationDeg);
  const sky = (station.skyBrightness ?? 1) * vanRhijn(zenithDeg);
  const moon = moonBrightness({ altitudeDeg: m.altitudeDeg, phaseAngleDeg: m.phaseAngleDeg, separationDeg: separationDeg(look.elevationDeg, look.azimuthDeg, m.altitudeDeg, m.azimuthDeg) }, zenithDeg, station.zenithOpticalDepth ?? DEFAULT_TAU);
  return darkZenithCountsPerS * (sky + moon);
}

type MoonPlace = ReturnType<typeof moonAt>;

/** The Moon's place is computed this often over a pass and interpolated between (it moves about 0.004 deg/s across the sky). */
const MOON_STEP_S = 30;

/**
 * The Moon's place at second tS of a pass starting at `start`, from its places every
 * MOON_STEP_S seconds interpolated linearly (azimuth across north the short way): within
 * about 1e-4 deg of moonAt, while the astronomy costs 30x less (a pass's setup runs it
 * for every second of its table).
 */
export function moonTrack(station: Station, start: Date, lastS: number): (tS: number) => MoonPlace {
  const knots: MoonPlace[] = [];
  for (let k = 0; k * MOON_STEP_S < lastS + MOON_STEP_S; k++) knots.push(moonAt(station, new Date(start.getTime() + k * MOON_STEP_S * 1000)));
  return (tS) => {
    const x = Math.max(0, tS) / MOON_STEP_S;
    const k = Math.min(knots.length - 2, Math.floor(x));
    if (k < 0) return knots[0];
    const f = x - k;
    const a = knots[k];
    const b = knots[k + 1];
    const dAz = ((((b.azimuthDeg - a.azimuthDeg) % 360) + 540) % 360) - 180;
    return {
      altitudeDeg: a.altitudeDeg + f * (b.altitudeDeg - a.altitudeDeg),
      azimuthDeg: (((a.azimuthDeg + f * dAz) % 360) + 360) % 360,
      phaseAngleDeg: a.phaseAngleDeg + f * (b.phaseAngleDeg - a.phaseAngleDeg),
    };
  };
}

/**
 * The background over a pass from its look table (whole seconds from `start`):
 * `at(tS)` holds each second's value (the sky changes over seconds, not milliseconds).
 */
export function backgroundProfile(station: Station, start: Date, samples: readonly Pick<LookSample, 'tS' | 'elevationDeg' | 'azimuthDeg'>[]): (tS: number) => number {
  const moon = moonTrack(station, start, samples.length > 0 ? samples[samples.length - 1].tS : 0);
  const table = samples.map((s) => backgroundWithMoon(station, moon(s.tS), s));
  return (tS) => table[Math.max(0, Math.min(table.length - 1, Math.floor(tS)))];
}
