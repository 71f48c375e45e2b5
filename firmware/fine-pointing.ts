import { fromCallback, type EventObject } from 'xstate';
import { every, type ActorDeps } from './actor-kit.ts';
import type { ActorInput, ModeEvent } from './modes.ts';
import type { Params } from './params.ts';
import { PlanPointAhead } from './point-ahead.ts';

/**
 * Fine pointing: a PI loop per axis from the beacon spot error to the fast steering
 * mirror, with output limits and anti-windup, a lock detector, and the offload of the
 * mirror's residual offset to the attitude control. The downlink shares the mirror, so
 * with POINT_AHEAD_ENABLE the loop holds the beacon spot off centre by minus the
 * point-ahead (firmware/point-ahead.ts): the mirror then points the downlink ahead of
 * the beacon by it.
 */

export interface PiGains {
  kp: number;
  /** Integral gain, 1/s. */
  kiPerS: number;
  /** Output limit (mirror travel), +/- urad. */
  limitUrad: number;
}

/**
 * One axis of the PI controller. The output is the mirror position command; the
 * integrator is frozen while the output is saturated and the error would drive it
 * further out (conditional integration), so it never winds up against the stop.
 */
export class PiAxis {
  integralUrad = 0;
  outputUrad = 0;

  constructor(private readonly g: PiGains) {}

  step(errorUrad: number, dtS: number): number {
    const candidate = this.integralUrad + this.g.kiPerS * errorUrad * dtS;
    const unclamped = this.g.kp * errorUrad + candidate;
    const lim = this.g.limitUrad;
    const saturatedHigh = unclamped > lim && errorUrad > 0;
    const saturatedLow = unclamped < -lim && errorUrad < 0;
    if (!saturatedHigh && !saturatedLow) this.integralUrad = Math.max(-lim, Math.min(lim, candidate));
    this.outputUrad = Math.max(-lim, Math.min(lim, this.g.kp * errorUrad + this.integralUrad));
    return this.outputUrad;
  }

  /** Moves the integrator when the attitude control takes over part of the offset. */
  shift(deltaUrad: number): void {
    this.integralUrad -= deltaUrad;
  }
}

export type LockChange = 'locked' | 'lost' | null;

/**
 * Lock = error under the threshold for N consecutive samples. Once locked, lock is
 * lost after max(1, N/10) consecutive samples over twice the threshold (or with no
 * beacon), a hysteresis so single noisy samples do not toggle it.
 */
export class LockDetector {
  locked = false;
  private good = 0;
  private bad = 0;

  constructor(
    private readonly thresholdUrad: number,
    private readonly samples: number,
  ) {}

  update(errorUrad: number | null): LockChange {
    if (!this.locked) {
      this.good = errorUrad !== null && errorUrad < this.thresholdUrad ? this.good + 1 : 0;
      if (this.good >= this.samples) {
        this.locked = true;
        this.bad = 0;
        return 'locked';
      }
      return null;
    }
    this.bad = errorUrad === null || errorUrad > 2 * this.thresholdUrad ? this.bad + 1 : 0;
    if (this.bad >= Math.max(1, Math.floor(this.samples / 10))) {
      this.locked = false;
      this.good = 0;
      return 'lost';
    }
    return null;
  }
}

export function loopPeriodMs(params: Params): number {
  return Math.max(1, Math.round(1000 / params.FINE_LOOP_RATE_HZ));
}

/** Offload cadence and fraction: every 100 ms the ACS takes 20 % of the mirror offset. */
const OFFLOAD_EVERY_SAMPLES = 100;
const OFFLOAD_FRACTION = 0.2;
/** The point-ahead is recomputed this often (it changes by well under 1 urad/s). */
const POINT_AHEAD_EVERY_MS = 100;

/** The fine loop as an actor: runs while the payload is engaged on the beacon. */
export function fineLoopActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const { params } = input;
    const { pointing, attitude } = deps.ports;
    const rd = deps.readings;
    // Starts from the body offset at which the beacon search centred the beacon.
    const body = { ...input.beaconOffsetUrad };
    let lastErrorUrad = 0;
    const gains: PiGains = { kp: params.FSM_KP, kiPerS: params.FSM_KI, limitUrad: params.FSM_RANGE_URAD };
    const x = new PiAxis(gains);
    const y = new PiAxis(gains);
    const start = pointing.fsmPositionUrad();
    x.integralUrad = start.xUrad;
    y.integralUrad = start.yUrad;
    const lock = new LockDetector(params.FINE_LOCK_THRESHOLD_URAD, params.FINE_LOCK_SAMPLES);
    const periodMs = loopPeriodMs(params);
    const dtS = periodMs / 1000;
    // Point-ahead from the pass plan (none without a plan, with a plan whose orbit does not propagate, or disabled).
    const planAhead = params.POINT_AHEAD_ENABLE === 1 && input.plan ? new PlanPointAhead(input.plan) : null;
    const aheadEvery = Math.max(1, Math.round(POINT_AHEAD_EVERY_MS / periodMs));
    let ahead = { xUrad: 0, yUrad: 0 };
    const updateAhead = () => {
      ahead = planAhead?.at(deps.missionTimeS()) ?? { xUrad: 0, yUrad: 0 };
    };
    updateAhead();
    let n = 0;
    rd.unlockedSinceMs = deps.clock.now();
    const send = (e: ModeEvent) => sendBack(e);
    const stop = every(deps.clock, periodMs, () => {
      n++;
      if (n % aheadEvery === 0) updateAhead();
      const spot = pointing.beaconSpot();
      let errorUrad: number | null = null;
      if (spot.visible) {
        // The camera sees beacon - mirror; the mirror should sit at beacon + point-ahead.
        const ex = spot.xUrad + ahead.xUrad;
        const ey = spot.yUrad + ahead.yUrad;
        errorUrad = Math.hypot(ex, ey);
        pointing.commandFsmUrad(x.step(ex, dtS), y.step(ey, dtS));
        rd.fsmXUrad = x.outputUrad;
        rd.fsmYUrad = y.outputUrad;
        lastErrorUrad = errorUrad;
        deps.tracking.add(errorUrad);
      }
      const change = lock.update(errorUrad);
      if (change === 'locked') {
        rd.unlockedSinceMs = null;
        send({ type: 'FINE_LOCKED', errorUrad: errorUrad ?? 0 });
      } else if (change === 'lost') {
        rd.unlockedSinceMs = deps.clock.now();
        send({ type: 'FINE_LOST', errorUrad: errorUrad ?? lastErrorUrad });
      }
      if (n % OFFLOAD_EVERY_SAMPLES === 0 && spot.visible) {
        // Hand part of the mirror offset to the body so the mirror stays near centre.
        const dx = OFFLOAD_FRACTION * x.outputUrad;
        const dy = OFFLOAD_FRACTION * y.outputUrad;
        body.xUrad += dx;
        body.yUrad += dy;
        attitude.setPointingOffsetUrad(body.xUrad, body.yUrad);
        x.shift(dx);
        y.shift(dy);
      }
    });
    return () => {
      stop();
      rd.unlockedSinceMs = null;
    };
  });
}
