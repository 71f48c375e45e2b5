import type { Station } from '../../boards/sim/stations.ts';
import { encodeCommand } from '../../protocols/dictionary/index.ts';
import type { PassGeometry } from './geometry.ts';
import type { PassTimeline } from './timeline.ts';

/** Boards power up at 0; the payload controller this much later. */
export const PAYLOAD_POWER_ON_MS = 500;
/** Longest the payload may take from power-on to STANDBY. */
const BOOT_LIMIT_MS = 5000;
/** After the pass end: the ground gets the last time tags (the last frame's tags are in by then) ... */
const FLUSH_TAGS_AFTER_PASS_MS = 2000;
/** ... and the payload's distillation closes the pass (its last, short block). */
const END_OF_PASS_AFTER_MS = 4000;
/** How often the script checks whether distillation has settled. */
const SETTLE_STEP_MS = 100;

/** What the script drives time with synchronously (the bench's SimClock run in a plain loop). */
export interface ScriptClock {
  now(): number;
  runUntil(tMs: number): void;
  runUntilTrue(pred: () => boolean, limitMs: number, stepMs?: number): boolean;
}

/** The same, awaited: bench time on a held SimClock (lockstep grants awaited) or the wall clock. */
export interface HeldScriptClock {
  now(): number;
  runUntil(tMs: number): Promise<void>;
  runUntilTrue(pred: () => boolean, limitMs: number, stepMs?: number): Promise<boolean>;
}

/** What the script asks of time: run to a time, or until a condition holds (the answer is whether it held). */
export type ScriptStep = { untilMs: number } | { until: () => boolean; limitMs: number; stepMs?: number };

/** What the script does to the payload (the firmware's Payload, or a fake). */
export interface ScriptPayload {
  powerOn(): void;
  mode(): string;
  sendTc(bytes: Uint8Array): void;
  stop(): void;
}

/** What the script asks of the rest of the pass at its end. */
export interface ScriptSteps {
  /** Hands the ground the time tags still held. */
  flushTimeTags(): void;
  /** The payload's distillation closes the pass. */
  endOfPass(): void;
  /** No block in progress at either end and nothing in flight on the link. */
  settled(): boolean;
}

/** The UPLOAD_PASS_PLAN arguments for a pass: station, the window in mission time, the TLE. */
export function passPlanArgs(stationName: string, station: Station, geo: Pick<PassGeometry, 'durationS' | 'tle'>, timeline: PassTimeline, minElevationDeg: number) {
  const startS = timeline.epochOffsetS + timeline.leadS;
  return {
    station: stationName,
    latDeg: station.latitudeDeg,
    lonDeg: station.longitudeDeg,
    altM: station.heightKm * 1000,
    startS,
    endS: startS + geo.durationS,
    minElevationDeg,
    tleLine1: geo.tle[0],
    tleLine2: geo.tle[1],
  };
}

/**
 * What happens when in a pass: the payload is powered on and boots to STANDBY, the
 * bench uploads the pass plan by telecommand, the pass runs (the firmware acts on the
 * plan by itself), the last time tags go to the ground, the payload's distillation
 * closes the pass, and the link drains until everything settled or the link window
 * ends. Returns the mission time it stopped at.
 *
 * Written once as a generator of time steps, so one script runs both synchronously
 * (runPassScript, the in-process fast path) and awaited (runPassScriptHeld, any bench).
 */
export function* passScript(now: () => number, payload: ScriptPayload, timeline: PassTimeline, plan: ReturnType<typeof passPlanArgs>, steps: ScriptSteps): Generator<ScriptStep, number, boolean> {
  yield { untilMs: PAYLOAD_POWER_ON_MS };
  payload.powerOn();
  if (!(yield { until: () => payload.mode() === 'STANDBY', limitMs: BOOT_LIMIT_MS })) throw new Error(`payload did not reach STANDBY after power-on (mode ${payload.mode()})`);
  const nowS = Math.floor(timeline.epochOffsetS + now() / 1000);
  if (plan.startS <= nowS) throw new Error(`lead-in of ${timeline.leadS} s is too short: the payload booted at mission time ${nowS}`);
  payload.sendTc(encodeCommand('UPLOAD_PASS_PLAN', plan, { seq: 1 }));
  yield { untilMs: timeline.passEndMs + FLUSH_TAGS_AFTER_PASS_MS };
  steps.flushTimeTags();
  yield { untilMs: timeline.passEndMs + END_OF_PASS_AFTER_MS };
  steps.endOfPass();
  yield { until: steps.settled, limitMs: timeline.linkEndMs - now(), stepMs: SETTLE_STEP_MS };
  const endMs = now();
  payload.stop();
  return endMs;
}

/** Runs a script on a synchronous clock; returns what the script returned. */
export function driveScript(clock: ScriptClock, script: Generator<ScriptStep, number, boolean>): number {
  let answer = false;
  for (;;) {
    const r = script.next(answer);
    if (r.done) return r.value;
    const s = r.value;
    answer = 'untilMs' in s ? (clock.runUntil(s.untilMs), true) : clock.runUntilTrue(s.until, s.limitMs, s.stepMs);
  }
}

/** Runs a script on an awaited clock; resolves to what the script returned. */
export async function driveScriptHeld(clock: HeldScriptClock, script: Generator<ScriptStep, number, boolean>): Promise<number> {
  let answer = false;
  for (;;) {
    const r = script.next(answer);
    if (r.done) return r.value;
    const s = r.value;
    answer = 'untilMs' in s ? (await clock.runUntil(s.untilMs), true) : await clock.runUntilTrue(s.until, s.limitMs, s.stepMs);
  }
}

/** The pass script run synchronously (see passScript). */
export function runPassScript(clock: ScriptClock, payload: ScriptPayload, timeline: PassTimeline, plan: ReturnType<typeof passPlanArgs>, steps: ScriptSteps): number {
  return driveScript(clock, passScript(() => clock.now(), payload, timeline, plan, steps));
}

/** The pass script run awaited (see passScript). */
export function runPassScriptHeld(clock: HeldScriptClock, payload: ScriptPayload, timeline: PassTimeline, plan: ReturnType<typeof passPlanArgs>, steps: ScriptSteps): Promise<number> {
  return driveScriptHeld(clock, passScript(() => clock.now(), payload, timeline, plan, steps));
}
