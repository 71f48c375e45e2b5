import { fromCallback, type EventObject } from 'xstate';
import type { FRAME_END_REASONS } from '../protocols/dictionary/defs/payload.ts';
import { every, type ActorDeps } from './actor-kit.ts';
import type { SourcePattern } from './hal.ts';
import type { ActorInput, ModeEvent, PassPlan } from './modes.ts';
import type { Params } from './params.ts';

/**
 * The decoy-state source: laser temperature stabilisation, intensity calibration
 * against the monitor photodiode, and emission in numbered frames gated on fine lock,
 * elevation and the optical link, with every frame accounted for.
 */

export type FrameEndReason = (typeof FRAME_END_REASONS)[number];

/** Temperature counts as stable within this band for this many 100 ms samples. */
export const TEMP_BAND_C = 0.1;
export const TEMP_STABLE_SAMPLES = 10;

export function tempControlActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const src = deps.ports.source;
    const set = input.params.LASER_TEMP_SETPOINT_C;
    src.setLaserTempSetpointC(set);
    const startMs = deps.clock.now();
    let good = 0;
    return every(deps.clock, 100, () => {
      const tempC = src.laserTempC();
      good = Math.abs(tempC - set) < TEMP_BAND_C ? good + 1 : 0;
      if (good < TEMP_STABLE_SAMPLES) {
        if (deps.clock.now() - startMs < input.params.LASER_STABILISE_TIMEOUT_MS) return true;
        sendBack({ type: 'TEMP_FAIL', tempC, setpointC: set } satisfies ModeEvent);
        return false;
      }
      sendBack({ type: 'TEMP_STABLE' } satisfies ModeEvent);
      return false;
    });
  });
}

export function intensityLevels(params: Params, scale: number) {
  return { signalMu: params.MU_SIGNAL * scale, decoyMu: params.MU_DECOY * scale, vacuumMu: params.MU_VACUUM * scale };
}

export function sourcePattern(p: Params): SourcePattern {
  return { repRateMhz: p.SOURCE_REP_RATE_MHZ, pSignal: p.P_SIGNAL, pDecoy: p.P_DECOY, pVacuum: p.P_VACUUM, pKeyBasis: p.P_KEY_BASIS };
}

export const CAL_PERIOD_MS = 10;
export const CAL_GOOD_SAMPLES = 3;

/**
 * Intensity calibration: the modulator drive scale is corrected by the ratio of the
 * wanted to the measured signal mean photon number (damped), until the error stays
 * within the tolerance for a few samples, or the timeout runs out.
 */
export function calibrationActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const p = input.params;
    const src = deps.ports.source;
    const rd = deps.readings;
    src.configurePattern(sourcePattern(p));
    let scale = rd.intensityDriveScale > 0 ? rd.intensityDriveScale : 1;
    src.setIntensityLevels(intensityLevels(p, scale));
    const startMs = deps.clock.now();
    let iterations = 0;
    let good = 0;
    return every(deps.clock, CAL_PERIOD_MS, () => {
      iterations++;
      const measured = src.monitorSignalMu();
      const errorPct = ((measured - p.MU_SIGNAL) / p.MU_SIGNAL) * 100;
      if (Math.abs(errorPct) <= p.INTENSITY_TOLERANCE_PCT) {
        good++;
        if (good >= CAL_GOOD_SAMPLES) {
          rd.intensityDriveScale = scale;
          sendBack({ type: 'CAL_OK', errorPct, iterations: Math.min(iterations, 255) } satisfies ModeEvent);
          return false;
        }
      } else {
        good = 0;
      }
      if (deps.clock.now() - startMs >= p.CALIBRATION_TIMEOUT_MS) {
        sendBack({ type: 'CAL_FAIL', errorPct } satisfies ModeEvent);
        return false;
      }
      if (measured > 0) scale *= 1 + 0.7 * (p.MU_SIGNAL / measured - 1);
      else scale *= 1.5;
      scale = Math.max(0.05, Math.min(20, scale));
      src.setIntensityLevels(intensityLevels(p, scale));
      return true;
    });
  });
}

/** Frame period in whole ms: the frame's pulses at the repetition rate, rounded up. */
export function framePeriodMs(params: Params): number {
  return Math.ceil(params.PULSES_PER_FRAME / (params.SOURCE_REP_RATE_MHZ * 1000));
}

export function minElevationDeg(params: Params, plan: PassPlan | null): number {
  return Math.max(params.MIN_ELEVATION_DEG, plan?.minElevationDeg ?? 0);
}

/** Which gate is shut, in priority order, or null when emission may run. */
export function closedGate(lock: boolean, elevationDeg: number, minElevDeg: number, linkUp: boolean): FrameEndReason | null {
  if (!lock) return 'PAUSED_LOCK';
  if (elevationDeg < minElevDeg) return 'PAUSED_ELEVATION';
  if (!linkUp) return 'PAUSED_LINK';
  return null;
}

/**
 * The frame scheduler. Frames start on the link's time-sync boundaries
 * (epoch + k * period); the board emits exactly PULSES_PER_FRAME pulses a frame. A
 * shut gate stops the open frame at once (PAUSED_*), and a frame is accounted — one
 * SOURCE_FRAME event with its number, pulse count from the board's counter, and
 * reason — once the board reports it ended. Frame numbers run on across pauses.
 */
export function frameSchedulerActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const p = input.params;
    const { source, link, attitude } = deps.ports;
    const rd = deps.readings;
    const periodMs = framePeriodMs(p);
    const pulses = p.PULSES_PER_FRAME;
    const minElev = minElevationDeg(p, input.plan);
    let open: number | null = null;
    let closing: { frame: number; reason: FrameEndReason } | null = null;
    const startedAt = new Map<number, number>();
    // Frames start only when a sync boundary is crossed, so every frame start is on the grid.
    let prevBoundary = Math.floor((deps.clock.now() - link.timeSync().epochMs) / periodMs);
    let emitting = false;

    const account = (frame: number, reason: FrameEndReason) => {
      const r = source.frameReport();
      const count = r && r.frameNumber === frame ? r.pulsesEmitted : 0;
      rd.pulsesSent += count;
      deps.event('SOURCE_FRAME', { frameNumber: frame, pulseCount: count, reason });
      deps.frameAccounted({ frameNumber: frame, pulseCount: count, reason, startMs: startedAt.get(frame) ?? now0 });
      startedAt.delete(frame);
    };
    const now0 = deps.clock.now();
    // The machine's running.emitting/held follows these events; status.emitting is derived from it.
    const setEmitting = (on: boolean) => {
      if (on === emitting) return;
      emitting = on;
      sendBack({ type: on ? 'EMITTING' : 'HELD' } satisfies ModeEvent);
    };

    const stop = every(deps.clock, 1, () => {
      const now = deps.clock.now();
      const elev = attitude.status().stationElevationDeg;
      rd.elevationDeg = elev;
      const sync = link.timeSync();
      const gate = closedGate(deps.status().fineLock, elev, minElev, link.linkUp() && sync.locked);
      if (closing) {
        const r = source.frameReport();
        if (r && r.frameNumber === closing.frame && r.ended) {
          account(closing.frame, closing.reason);
          closing = null;
        }
      }
      if (open !== null) {
        const r = source.frameReport();
        if (gate !== null) {
          source.stopFrame();
          closing = { frame: open, reason: gate };
          open = null;
        } else if (r && r.frameNumber === open && r.ended) {
          account(open, 'COMPLETED');
          open = null;
        }
      }
      const boundary = Math.floor((now - sync.epochMs) / periodMs);
      const crossed = boundary > prevBoundary;
      prevBoundary = boundary;
      if (open === null && closing === null && gate === null && crossed) {
        open = rd.frameNumber;
        rd.frameNumber++;
        source.startFrame(open, pulses);
        startedAt.set(open, now);
      }
      setEmitting(open !== null);
    });
    return () => {
      stop();
      if (open !== null) {
        source.stopFrame();
        // Stopped from outside: the machine has already left running, so its snapshot says why.
        account(open, deps.status().stopReason);
      } else if (closing) {
        account(closing.frame, closing.reason);
      }
    };
  });
}
