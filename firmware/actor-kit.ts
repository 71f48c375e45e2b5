import type { Params } from './params.ts';
import type { PayloadClock, PayloadPorts } from './hal.ts';
import type { ModeStatus, Readings, TrackingStats } from './status.ts';

/** What the hardware actors are built from: ports, the clock, the status, telemetry. */
export interface ActorDeps {
  ports: PayloadPorts;
  clock: PayloadClock;
  /** The status the mode machine's snapshot implies now (lock, emission, bank, ...): read only. */
  status(): ModeStatus;
  /** Running values the actors measure; each actor writes only its own fields. */
  readings: Readings;
  tracking: TrackingStats;
  /** Emits a dictionary event as TM(5,x). */
  event(name: string, fields?: Record<string, unknown>): void;
  /** Mission time in seconds (payload clock plus the mission epoch offset). */
  missionTimeS(): number;
  seed: number;
  /** The parameters in force now (the mode manager's context). */
  params(): Params;
  /** Called once per accounted source frame (in-process consumers such as distillation). */
  frameAccounted(record: SourceFrameRecord): void;
}

/** One source frame as accounted: what SOURCE_FRAME carries plus when it started. */
export interface SourceFrameRecord {
  frameNumber: number;
  pulseCount: number;
  reason: string;
  /** Payload-clock ms at which the frame was started. */
  startMs: number;
}

/**
 * A periodic task on the payload clock: runs `fn` every `periodMs` until stopped or
 * `fn` returns false. Each run reschedules itself, so on a simulated clock advanced
 * 1 ms at a time it runs exactly on its period.
 */
export function every(clock: PayloadClock, periodMs: number, fn: () => boolean | void): () => void {
  let handle: unknown = null;
  let stopped = false;
  const run = () => {
    handle = null;
    if (stopped) return;
    if (fn() === false) {
      stopped = true;
      return;
    }
    if (!stopped) handle = clock.setTimeout(run, periodMs);
  };
  handle = clock.setTimeout(run, periodMs);
  return () => {
    stopped = true;
    if (handle !== null) clock.clearTimeout(handle);
    handle = null;
  };
}
