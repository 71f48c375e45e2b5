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

/** The monitor photodiode's stated relative accuracy (its datasheet figure). */
export const MONITOR_ACCURACY_REL = 0.01;

/**
 * How far the emitted intensities may be from the nominal ones without the payload
 * noticing: the drift INTENSITY_DRIFT tolerates before it recalibrates, plus the
 * monitor's own accuracy. The key bound takes the worst case within it.
 */
export function intensityUncertaintyRel(params: Params): number {
  return params.INTENSITY_DRIFT_MAX_PCT / 100 + MONITOR_ACCURACY_REL;
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
 * How long before its sync boundary a frame is armed. The board opens the gate at the
 * boundary by its own clock, so the command only has to reach it in time: this covers
 * the command's round trip on slow lines and lockstep quanta with a wide margin (a frame
 * of 2^28 - 1 pulses at 625 MHz leaves only 0.5 ms of its 430 ms period).
 */
export const FRAME_ARM_LEAD_MS = 100;

/** The next time-sync boundary strictly after `nowMs`. */
export function nextBoundaryMs(nowMs: number, epochMs: number, periodMs: number): number {
  return epochMs + (Math.floor((nowMs - epochMs) / periodMs) + 1) * periodMs;
}

/** A frame the board holds (armed, emitting, or ended and not yet accounted). */
interface HeldFrame {
  frame: number;
  /** The sync boundary it was armed for. */
  startMs: number;
  /** Why it is being closed, once the gate shut on it. */
  reason: FrameEndReason | null;
}

/**
 * The frame scheduler. Frames start on the link's time-sync boundaries
 * (epoch + k * period): each is armed FRAME_ARM_LEAD_MS ahead of its boundary, and the
 * board opens the gate at the boundary and emits exactly PULSES_PER_FRAME pulses, so
 * line latency does not delay frames or make them skip a period. A shut gate stops the
 * emitting frame at once (PAUSED_*) and withdraws an armed one; a frame is accounted —
 * one SOURCE_FRAME event with its number, pulse count from the board's counter, and
 * reason — once the board reports it ended. A frame that never opened sent no pulses
 * and is not accounted: the next frame takes its number. Frame numbers run on across pauses.
 */
export function frameSchedulerActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const p = input.params;
    const { source, link, attitude } = deps.ports;
    const rd = deps.readings;
    const periodMs = framePeriodMs(p);
    const pulses = p.PULSES_PER_FRAME;
    const minElev = minElevationDeg(p, input.plan);
    // Oldest first: at most one emitting (or ended, unaccounted) and one armed.
    const held: HeldFrame[] = [];
    let emitting = false;

    const account = (f: HeldFrame, count: number, reason: FrameEndReason) => {
      rd.pulsesSent += count;
      deps.event('SOURCE_FRAME', { frameNumber: f.frame, pulseCount: count, reason });
      deps.frameAccounted({ frameNumber: f.frame, pulseCount: count, reason, startMs: f.startMs });
    };
    /** Accounts a frame the board is done with; one that never opened hands its number back. */
    const settle = (f: HeldFrame, pulsesEmitted: number, opened: boolean, reason: FrameEndReason) => {
      if (!opened && f.frame === rd.frameNumber - 1) rd.frameNumber = f.frame;
      else account(f, pulsesEmitted, reason);
    };
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
      // Frames are accounted in order, each once the board reports it ended.
      while (held.length > 0) {
        const r = source.frameReport(held[0].frame);
        if (r && !r.ended) break;
        const f = held.shift()!;
        settle(f, r?.pulsesEmitted ?? 0, r?.opened ?? false, f.reason ?? 'COMPLETED');
      }
      if (gate !== null && held.some((f) => f.reason === null)) {
        source.stopFrame();
        for (const f of held) f.reason ??= gate;
      }
      const nextMs = nextBoundaryMs(now, sync.epochMs, periodMs);
      // One frame armed at a time: a late one (its command not yet taken) is waited for, not replaced.
      const armed = held.some((f) => f.startMs >= nextMs || source.frameReport(f.frame)?.opened === false);
      if (gate === null && !armed && held.every((f) => f.reason === null) && nextMs - now <= FRAME_ARM_LEAD_MS) {
        const f: HeldFrame = { frame: rd.frameNumber, startMs: nextMs, reason: null };
        rd.frameNumber++;
        held.push(f);
        source.startFrame(f.frame, pulses, nextMs);
      }
      setEmitting(held.some((f) => f.reason === null && f.startMs <= now));
    });
    return () => {
      stop();
      // Stopped from outside: the machine has already left running, so its snapshot says why.
      const reports = held.map((f) => source.frameReport(f.frame));
      if (held.length > 0) source.stopFrame();
      held.forEach((f, i) => {
        const before = reports[i];
        const r = source.frameReport(f.frame);
        const reason = f.reason ?? (before?.ended ? 'COMPLETED' : deps.status().stopReason);
        settle(f, r?.pulsesEmitted ?? 0, r?.opened ?? false, reason);
      });
    };
  });
}
