import { fromCallback, type EventObject } from 'xstate';
import { every, type ActorDeps } from './actor-kit.ts';
import type { ActorInput, ModeEvent } from './modes.ts';

/**
 * Coarse acquisition: body pointing at the station through the ACS, then a spiral
 * search for the ground beacon over the pointing-uncertainty cone.
 */

/** Half-width of the beacon camera's field of view: the scan step is set from it. */
export const CAMERA_HALF_FOV_URAD = 400;
/**
 * Scan step as a multiple of the half field: with turns and points one step apart, the
 * farthest a direction can be from a scan point is step/sqrt(2), so 1.3 keeps every
 * direction inside the field (0.92 of it) with margin for pointing jitter.
 */
export const SCAN_STEP_FACTOR = 1.3;
/** Dwell on each scan point before moving on. */
export const SCAN_DWELL_MS = 20;

/**
 * Points of an Archimedean spiral from the centre out to `coneUrad` (radius), with
 * successive turns and successive points `stepUrad` apart, so a camera whose field is
 * wider than the step sees every direction of the cone. `phaseRad` rotates the spiral.
 */
export function spiralScanPoints(coneUrad: number, stepUrad: number, phaseRad = 0): Array<{ xUrad: number; yUrad: number }> {
  const pts = [{ xUrad: 0, yUrad: 0 }];
  const b = stepUrad / (2 * Math.PI); // radius grows one step per turn
  let theta = 2 * Math.PI; // first turn starts one step out
  for (;;) {
    const r = b * theta;
    if (r > coneUrad + stepUrad / 2) break;
    pts.push({ xUrad: r * Math.cos(theta + phaseRad), yUrad: r * Math.sin(theta + phaseRad) });
    theta += stepUrad / r; // arc length ~ step
  }
  return pts;
}

/** Deterministic spiral phase per (seed, attempt): retries look along a rotated path. */
export function scanPhaseRad(seed: number, attempt: number): number {
  let h = (seed ^ Math.imul(attempt + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (((h ^ (h >>> 16)) >>> 0) / 2 ** 32) * 2 * Math.PI;
}

/** Asks the ACS for body pointing at the station and reports when it has settled. */
export function slewActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const { attitude } = deps.ports;
    const plan = input.plan;
    if (plan) attitude.requestStationPointing({ latDeg: plan.latDeg, lonDeg: plan.lonDeg, altM: plan.altM, tleLine1: plan.tleLine1, tleLine2: plan.tleLine2 });
    attitude.setPointingOffsetUrad(0, 0);
    deps.ports.pointing.commandFsmUrad(0, 0);
    return every(deps.clock, 10, () => {
      if (!attitude.status().settled) return true;
      sendBack({ type: 'SLEW_DONE' } satisfies ModeEvent);
      return false;
    });
  });
}

/** Spiral search with the body offset; on a beacon sighting, centres it and reports. */
export function beaconSearchActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const { attitude, pointing } = deps.ports;
    const points = spiralScanPoints(input.params.ACQ_CONE_URAD, SCAN_STEP_FACTOR * CAMERA_HALF_FOV_URAD, scanPhaseRad(deps.seed, input.attempt));
    let i = 0;
    // The body offset commanded now; on a sighting it goes to the fine loop with BEACON_FOUND.
    let offset = points[0];
    const goTo = (p: { xUrad: number; yUrad: number }) => {
      offset = p;
      attitude.setPointingOffsetUrad(p.xUrad, p.yUrad);
    };
    goTo(points[0]);
    return every(deps.clock, SCAN_DWELL_MS, () => {
      const spot = pointing.beaconSpot();
      if (spot.visible) {
        // Put the beacon on the boresight; fine pointing takes it from there.
        goTo({ xUrad: offset.xUrad + spot.xUrad, yUrad: offset.yUrad + spot.yUrad });
        sendBack({ type: 'BEACON_FOUND', xUrad: offset.xUrad, yUrad: offset.yUrad } satisfies ModeEvent);
        return false;
      }
      i = (i + 1) % points.length;
      goTo(points[i]);
      return true;
    });
  });
}
