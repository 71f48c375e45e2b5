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
import type { LightSegment, LightTime } from './light-time.ts';
import { EDGE, normals, STEP, zigguratOuter } from './normal.ts';
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
  /** stampRun's constants. */
  private readonly run: RunConstants;

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
    this.run = { period: schedule.periodPs, origin: light.originPs, off: config.clockOffsetPs, drift: config.clockDrift, scale: config.jitterPs };
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
    const detector = this.detectorScratch.subarray(0, n);
    detector.set(tags.detectorBuffer.subarray(0, n));
    const jittered = this.stamp(tags.pulseBuffer, arrivalPs, n);
    tags.length = 0;
    if (jittered) sortByTime(arrivalPs, detector);
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
   * out[i] = groundTimePs(pulse[i]) + jitterPs * (the next standard normal deviate of the
   * tagger's generators) for i < n: the batch's arrival times, in pulse order; returns
   * whether there was jitter (then take sorts them). The reference is the plain loop
   * below; a uniform schedule with jitter has it in one fused loop (stampRun), which a
   * test holds bit-equal to the reference.
   */
  stamp(pulse: Float64Array, out: Float64Array, n: number): boolean {
    const jitter = this.config.jitterPs;
    if (this.schedule.uniform !== true || !(jitter > 0)) {
      if (jitter > 0) this.gaussians(out, n);
      else out.fill(0);
      for (let i = 0; i < n; i++) out[i] = this.groundTimePs(pulse[i]) + jitter * out[i];
      return jitter > 0;
    }
    if (deferred.length < 3 * n) deferred = new Float64Array(3 * n);
    deferCount = 0;
    const k = this.run;
    const rng = this.rng;
    for (let i = 0; i < n; ) {
      // The run of pulses in pulse[i]'s second of the light-time table (a batch spans one or two).
      const p = pulse[i];
      let end = i;
      if (p >= 0) {
        const st = rng.state();
        sfcA = st[0];
        sfcB = st[1];
        sfcC = st[2];
        sfcD = st[3];
        end = stampRun(pulse, out, i, n, k, this.light.segment(p * k.period));
        rng.setState(sfcA, sfcB, sfcC, sfcD);
      }
      if (end === i) {
        // A pulse in no second of the table (never emitted): its draw now, its time the general way.
        const j = 3 * deferCount++;
        deferred[j] = i;
        deferred[j + 1] = rng.nextU32();
        deferred[j + 2] = NaN;
        end++;
      }
      i = end;
    }
    this.finishDeferred(pulse, out);
    return true;
  }

  /**
   * stamp's deferred detections, in order: the deviate of each (zigguratOuter, drawing the
   * slow stream for those its fast test left) and its time (the general way where stamp
   * had none).
   */
  private finishDeferred(pulse: Float64Array, out: Float64Array): void {
    const slow = this.slowRng;
    const scale = this.config.jitterPs;
    const d = deferred;
    for (let j = 0; j < 3 * deferCount; j += 3) {
      const i = d[j];
      const base = d[j + 2];
      out[i] = (base === base ? base : this.groundTimePs(pulse[i])) + scale * zigguratOuter(d[j + 1], slow);
    }
  }

  /** out[0..n) = the next n standard normal deviates of the tagger's generators (boards/sim/normal.ts). */
  gaussians(out: Float64Array, n: number): void {
    normals(this.rng, this.slowRng, out, n);
  }

  /** One standard normal deviate: gaussians for one. */
  gaussian(): number {
    this.gaussians(this.one, 1);
    return this.one[0];
  }
}

/** What stampRun keeps constant over a batch: the schedule's period, the table's origin, the clocks and the jitter's sigma. */
interface RunConstants {
  period: number;
  origin: number;
  off: number;
  drift: number;
  scale: number;
}

/**
 * The detections stamp leaves to finishDeferred, deferCount triples: index, draw (as
 * int32), time without jitter (NaN: none yet). One array, read only where stampRun
 * defers: its loop keeps few pointers live (with more, V8's register allocation came
 * out 1.5x slower on some compiles).
 */
let deferred = new Float64Array(0);
let deferCount = 0;
/**
 * The tagger's sfc32 state into and out of stampRun. Module variables, as they need no
 * type feedback: V8 compiles a hot loop on the stack during its first call, before the
 * code after it has ever run, and a property access there (the generator's setState,
 * say) deoptimised that code at the loop's end and re-entered it on every later call.
 */
let sfcA = 0;
let sfcB = 0;
let sfcC = 0;
let sfcD = 0;

/**
 * stamp's fused loop over pulse[from..n) while the pulses lie in the table's second `seg`
 * and were emitted: per detection one sfc32 step (Rng.nextU32), the ziggurat's fast case
 * (zigguratPoint, zigguratInner), the light time's cubic (LightTime.ps) and the clocks
 * (groundTimePs), out[i] = time + scale * deviate: the very operations of the reference.
 * The 1.5 % the fast case leaves are deferred. No calls; returns where it stopped.
 */
function stampRun(pulse: Float64Array, out: Float64Array, from: number, n: number, k: RunConstants, seg: LightSegment): number {
  const { period, origin, off, drift, scale } = k;
  const lo = seg.second;
  const hi = lo + 1;
  const { a: ca, b: cb, c: cc, d: cd } = seg;
  // The ziggurat's tables as locals: an imported binding is loaded (and checked) on each use.
  const step = STEP;
  const edge = EDGE;
  // The state as int32 locals (V8 keeps them untagged in registers).
  let a = sfcA | 0;
  let b = sfcB | 0;
  let c = sfcC | 0;
  let d = sfcD | 0;
  let i = from;
  for (; i < n; i++) {
    const p = pulse[i];
    const tEmit = p * period;
    const tS = (tEmit - origin) * 1e-12;
    if (!(tS >= lo && tS < hi && p >= 0)) break;
    const u = tS - lo;
    const tArrive = tEmit + (ca + u * (cb + u * (cc + u * cd)));
    const base = off + tArrive + drift * tArrive;
    // sfc32's step, as Rng.nextU32.
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    // zigguratPoint and zigguratInner, written out: a call would box t (a HeapNumber each).
    const x = ((t >>> 9) + 0.5) * step[t & 511];
    if (!(Math.abs(x) < edge[(t & 255) + 1])) {
      const j = 3 * deferCount++;
      deferred[j] = i;
      deferred[j + 1] = t;
      deferred[j + 2] = base;
    }
    out[i] = base + scale * x;
  }
  sfcA = a;
  sfcB = b;
  sfcC = c;
  sfcD = d;
  return i;
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
