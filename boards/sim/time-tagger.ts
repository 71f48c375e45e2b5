/**
 * The ground station's time tagger: what it really stamps. A detection of pulse i
 * arrives at ground-clock time
 *   tGround = offset + (1 + drift) * (tEmit(i) + lightTime(tEmit(i))) + jitter,
 * with tEmit the satellite-clock emission time (the pulse schedule), the light time over
 * the slant range (its rate is the Doppler: up to ~2.5e-5), the ground clock's offset and
 * drift against the satellite's, and the detector's Gaussian timing jitter. The sync
 * laser fires at pulses whose index is a multiple of `syncEveryPulses`; the tagger stamps
 * those too (their own jitter, some lost). Pulse indices do not reach the ground: the
 * ground's time sync (boards/ground/time-sync.ts) has to get them back.
 */
import { Rng } from '../../qkd/random.ts';
import type { LightTime } from './light-time.ts';
import { normals } from './normal.ts';
import type { PulseSchedule } from './pulse-schedule.ts';
import type { TimeTagBuffer } from './time-tags.ts';

export interface TimeTaggerConfig {
  /** Ground clock minus satellite clock at satellite time 0, ps (free-running oscillators: up to ms). */
  clockOffsetPs: number;
  /** The ground clock's rate error against the satellite's, fractional (OCXO/TCXO pair: 1e-7..1e-6). */
  clockDrift: number;
  /** Detector timing jitter, one sigma, ps (Micius-class Si-APDs: 300-500). */
  jitterPs: number;
  /** The sync laser fires at pulse indices that are multiples of this (a divisor of the frame length). */
  syncEveryPulses: number;
  /** Sync pulse timing jitter, one sigma, ps. */
  syncJitterPs: number;
  /** Probability that a sync pulse is not detected. */
  syncLossProb: number;
}

export const DEFAULT_TIME_TAGGER: TimeTaggerConfig = {
  clockOffsetPs: 0.4e9,
  clockDrift: 3e-7,
  // 300 ps: 0.8 % of tags fall outside +-0.8 ns (QBER +0.3 %), keeping the pass in 1-3 %.
  jitterPs: 300,
  // One sync pulse per 2^20-pulse source frame: 1.68 ms at 625 MHz.
  syncEveryPulses: 1 << 20,
  syncJitterPs: 50,
  syncLossProb: 0.01,
};

/** One batch as the ground's tagger saw it: ground-clock times only, each stream in time order. */
export interface ArrivalTags {
  /** Arrival time of each detection on the ground clock, ps. */
  arrivalPs: Float64Array;
  /** Detector id 0..3 = basis * 2 + bit. */
  detector: Uint8Array;
  /** Arrival time of each sync pulse detected, ground clock, ps. */
  syncArrivalPs: Float64Array;
}

export class GroundTimeTagger {
  private readonly rng: Rng;
  /** The jitter's second stream: the draws the ziggurat's rare slow cases take (normal.ts). */
  private readonly slowRng: Rng;
  /** Pulse indices of the sync pulses fired since the last take. */
  private syncIndex = new Float64Array(256);
  private syncCount = 0;
  /** gaussian's deviate. */
  private readonly one = new Float64Array(1);
  /** take's detection arrays, reused. */
  private arrivalScratch = new Float64Array(0);
  private detectorScratch = new Uint8Array(0);

  constructor(
    readonly config: TimeTaggerConfig,
    private readonly schedule: PulseSchedule,
    private readonly light: LightTime,
    seed: number,
  ) {
    const { syncEveryPulses: p, syncLossProb: l } = config;
    if (!Number.isInteger(p) || p < 1) throw new RangeError(`syncEveryPulses must be a positive integer, got ${p}`);
    if (!(l >= 0 && l < 1)) throw new RangeError(`syncLossProb must be in [0, 1), got ${l}`);
    if (!(config.jitterPs >= 0) || !(config.syncJitterPs >= 0)) throw new RangeError('jitterPs and syncJitterPs must be >= 0');
    this.rng = new Rng(seed, 0x7a6);
    this.slowRng = new Rng(seed, 0x7a7);
  }

  /** The source emitted pulses [p0, p1): the sync laser fired at the multiples of syncEveryPulses among them. */
  emitted(p0: number, p1: number): void {
    const every = this.config.syncEveryPulses;
    for (let k = Math.ceil(p0 / every) * every; k < p1; k += every) {
      if (this.rng.next() < this.config.syncLossProb) continue;
      if (this.syncCount === this.syncIndex.length) {
        const grown = new Float64Array(this.syncIndex.length * 2);
        grown.set(this.syncIndex);
        this.syncIndex = grown;
      }
      this.syncIndex[this.syncCount++] = k;
    }
  }

  /**
   * Stamps the sampler's detections (pulse indices, emptied) and the sync pulses fired
   * since the last take. The detection arrays are the tagger's own, valid until the next
   * take (the time sync reads them at once; a pass makes millions of these).
   */
  take(tags: TimeTagBuffer): ArrivalTags {
    const n = tags.length;
    if (this.arrivalScratch.length < n) {
      this.arrivalScratch = new Float64Array(Math.max(n, 2 * this.arrivalScratch.length));
      this.detectorScratch = new Uint8Array(this.arrivalScratch.length);
    }
    const arrivalPs = this.arrivalScratch.subarray(0, n);
    const pulse = tags.pulseBuffer;
    const jitter = this.config.jitterPs;
    // The deviates first (one tight loop), then the times.
    if (jitter > 0) this.gaussians(arrivalPs, n);
    else arrivalPs.fill(0);
    this.groundTimes(pulse, arrivalPs, n, jitter);
    const detector = this.detectorScratch.subarray(0, n);
    detector.set(tags.detectorBuffer.subarray(0, n));
    tags.length = 0;
    if (jitter > 0) sortByTime(arrivalPs, detector);
    const syncArrivalPs = new Float64Array(this.syncCount);
    const sj = this.config.syncJitterPs;
    for (let i = 0; i < this.syncCount; i++) syncArrivalPs[i] = this.groundTimePs(this.syncIndex[i]) + (sj > 0 ? sj * this.gaussian() : 0);
    this.syncCount = 0;
    return { arrivalPs, detector, syncArrivalPs };
  }

  /** Ground-clock arrival time of pulse `index` without jitter, ps. */
  groundTimePs(index: number): number {
    const tEmit = this.schedule.emitPs(index);
    const tArrive = tEmit + this.light.ps(tEmit);
    return this.config.clockOffsetPs + tArrive + this.config.clockDrift * tArrive;
  }

  /**
   * out[i] = groundTimePs(pulse[i]) + scale * out[i] for i < n: a batch's times, jitter
   * added. A uniform schedule (pulse i at i * period) has it inlined: a batch lies in one
   * or two seconds of the light-time table, so the cubic's coefficients are loaded once
   * per second and each detection costs a few multiply-adds, the very operations of
   * groundTimePs (a test holds the two bit-equal).
   */
  groundTimes(pulse: Float64Array, out: Float64Array, n: number, scale: number): void {
    if (this.schedule.uniform !== true) {
      for (let i = 0; i < n; i++) out[i] = this.groundTimePs(pulse[i]) + scale * out[i];
      return;
    }
    const off = this.config.clockOffsetPs;
    const drift = this.config.clockDrift;
    const period = this.schedule.periodPs;
    const origin = this.light.originPs;
    for (let i = 0; i < n; ) {
      const start = i;
      if (pulse[i] >= 0) {
        // The run of pulses in pulse[i]'s second of the table, its cubic's coefficients
        // constants of the inner loop (V8 keeps them in registers).
        const seg = this.light.segment(pulse[i] * period);
        const lo = seg.second;
        const hi = lo + 1;
        const { a, b, c, d } = seg;
        for (; i < n; i++) {
          const p = pulse[i];
          const tEmit = p * period;
          const tS = (tEmit - origin) * 1e-12;
          if (tS < lo || tS >= hi || p < 0) break;
          const u = tS - lo;
          const tArrive = tEmit + (a + u * (b + u * (c + u * d)));
          out[i] = off + tArrive + drift * tArrive + scale * out[i];
        }
      }
      // A pulse never emitted (emitPs is NaN below 0) or out of all range: the general way.
      if (i === start) {
        out[i] = this.groundTimePs(pulse[i]) + scale * out[i];
        i++;
      }
    }
  }

  /** out[0..n) = the next n standard normal deviates of the tagger's generator (boards/sim/normal.ts). */
  gaussians(out: Float64Array, n: number): void {
    normals(this.rng, this.slowRng, out, n);
  }

  /** One standard normal deviate: gaussians for one. */
  gaussian(): number {
    this.gaussians(this.one, 1);
    return this.one[0];
  }
}

/**
 * The tagger merges its detector channels in time order. Jitter swaps only clicks of
 * different detectors a slot or two apart, so the stream is nearly sorted: insertion
 * sort is linear here.
 */
function sortByTime(t: Float64Array, det: Uint8Array): void {
  for (let i = 1; i < t.length; i++) {
    const x = t[i];
    if (x >= t[i - 1]) continue;
    const d = det[i];
    let j = i - 1;
    while (j >= 0 && t[j] > x) {
      t[j + 1] = t[j];
      det[j + 1] = det[j];
      j--;
    }
    t[j + 1] = x;
    det[j + 1] = d;
  }
}
