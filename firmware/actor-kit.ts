import type { Params } from './params.ts';
import type { PayloadClock, PayloadPorts } from './hal.ts';
import type { PayloadStatus, TrackingStats } from './status.ts';

/** What the hardware actors are built from: ports, the clock, the status board, telemetry. */
export interface ActorDeps {
  ports: PayloadPorts;
  clock: PayloadClock;
  status: PayloadStatus;
  tracking: TrackingStats;
  /** Emits a dictionary event as TM(5,x). */
  event(name: string, fields?: Record<string, unknown>): void;
  /** Mission time in seconds (payload clock plus the mission epoch offset). */
  missionTimeS(): number;
  seed: number;
  /** The parameters in force now (the mode manager's context). */
  params(): Params;
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

/** A one-shot timer on the payload clock; returns its cancel function. */
export function after(clock: PayloadClock, delayMs: number, fn: () => void): () => void {
  let handle: unknown = clock.setTimeout(() => {
    handle = null;
    fn();
  }, Math.max(0, delayMs));
  return () => {
    if (handle !== null) clock.clearTimeout(handle);
    handle = null;
  };
}
