/**
 * What the source really emits, a fact of the simulated world: the intensity modulator
 * has a gain error (its calibration error, per source), the laser may drift (the
 * LASER_DEGRADED fault, as INTENSITY_DRIFT is injected), and the monitor photodiode
 * that the firmware calibrates against has a small error of its own. The detections
 * follow the emitted intensities; the firmware sees only the monitor.
 */
import type { Triple } from '../../qkd/keyrate.ts';

/** A source's modulator gain error before the firmware calibrates it: uniform within ± this. */
export const CALIBRATION_ERROR_SPREAD_REL = 0.03;
/** The monitor photodiode's systematic error: uniform within ± this, per source. */
export const MONITOR_ERROR_SPREAD_REL = 0.005;

/** A per-source error uniform in ±spread from a uniform draw u in [0, 1). */
export function spreadError(u: number, spreadRel: number): number {
  return spreadRel * (2 * u - 1);
}

/** The intensities emitted for the `levels` the modulator was set to, at a true gain `gain` (1 = as nominal). */
export function emittedMu(levels: Triple, gain: number): Triple {
  return [levels[0] * gain, levels[1] * gain, levels[2] * gain];
}

/** Mean photon number per pulse over the pattern: what the monitor photodiode integrates. */
export function patternMeanMu(mu: Triple, p: Triple): number {
  return p[0] * mu[0] + p[1] * mu[1] + p[2] * mu[2];
}

/**
 * A source the firmware calibrated on its monitor: the monitor reads the nominal
 * signal level, so the source emits nominal / (1 + monitor error) (the physics-only
 * engine's source, which runs no firmware).
 */
export function calibratedEmittedMu(nominal: Triple, monitorErrorRel: number): Triple {
  return emittedMu(nominal, 1 / (1 + monitorErrorRel));
}
