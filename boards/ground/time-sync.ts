/**
 * The ground's time synchronisation: from the sync pulse train it finds the ground clock's
 * offset against the satellite's (acquisition, without knowing it beforehand), tracks
 * offset and rate through the pass (clock drift plus the range-rate Doppler, which
 * changes through the pass), and turns each detection's ground-clock arrival time back
 * into a pulse index by the nearest slot, dropping tags outside the coincidence window.
 *
 * Model tracked: tGround - tEmit = alpha + beta * (tEmit - tRef), a least-squares line
 * over the last `fitSyncs` sync pulses (each sync pulse's emission time is known once it
 * is identified). Over the ~13 ms the default fit spans, the Doppler's change bends the
 * true curve by tens of ps at most, well inside a 1.6 ns slot.
 *
 * Acquisition: the first sync tag is matched to the sync pulse whose predicted arrival
 * (the pass plan's light time, the nominal clock) is nearest: right whenever the clock
 * offset is within half a sync period (0.84 ms at one sync per 2^20-pulse frame).
 */
import type { LightTime } from '../sim/light-time.ts';
import type { PulseSchedule } from '../sim/pulse-schedule.ts';
import type { ArrivalTags } from '../sim/time-tagger.ts';
import { TimeTagBuffer, type TimeTags } from '../sim/time-tags.ts';

export interface TimeSyncConfig {
  /** Coincidence window, ps, centred on the slot: tags farther than half of it from their slot are dropped. Default the slot spacing. */
  windowPs?: number;
  /** Sync pulses in the tracking fit. Default 8. */
  fitSyncs?: number;
  /**
   * No tracking (what-if `disable: ['time-sync']`): the ground reads its own clock as
   * the satellite's and takes off only the pass plan's light time.
   */
  disabled?: boolean;
}

export interface TimeSyncStats {
  /** Whether the offset was found. */
  acquired: boolean;
  /** Ground minus satellite clock measured at acquisition (light time taken off), ps. */
  acquiredOffsetPs: number;
  syncPulses: number;
  /** Detections resolved to a slot, dropped outside the window, or before the first sync pulse. */
  resolved: number;
  outsideWindow: number;
  beforeSync: number;
  /** Second clicks resolved to a slot already taken (another detector, moved there by jitter): dropped, the first is kept. */
  sameSlot: number;
}

export class TimeSync {
  readonly stats: TimeSyncStats = { acquired: false, acquiredOffsetPs: NaN, syncPulses: 0, resolved: 0, outsideWindow: 0, beforeSync: 0, sameSlot: 0 };
  private readonly halfWindowPs: number;
  private readonly fitSyncs: number;
  private readonly syncPeriodPulses: number;
  /** Ring of the last sync pulses: emission and arrival times, ps. */
  private readonly fitEmit: Float64Array;
  private readonly fitArrive: Float64Array;
  private fitCount = 0;
  private fitNext = 0;
  /** The tracked line, inverted: tEmit = (tGround - shiftPs) * invSlope. */
  private shiftPs = 0;
  private invSlope = 1;
  /** The line's slope, kept across a re-anchor. */
  private beta = 0;
  private lastSyncArrivalPs = -Infinity;
  private lastSyncEmitPs = -Infinity;
  /** Pulse index of the last tag handed on (indices must ascend, across batches too). */
  private lastIndex = -1;
  private readonly out: TimeTagBuffer;
  /** resolveUniform's state in and out (the IO_ layout). */
  private readonly io = new Float64Array(IO_SIZE);

  constructor(
    private readonly schedule: PulseSchedule,
    /** The light time the ground predicts from the pass plan's orbit. */
    private readonly predicted: LightTime,
    syncEveryPulses: number,
    pulsesPerFrame: number,
    private readonly config: TimeSyncConfig = {},
  ) {
    this.halfWindowPs = (config.windowPs ?? schedule.periodPs) / 2;
    this.fitSyncs = config.fitSyncs ?? 8;
    if (!(this.halfWindowPs > 0)) throw new RangeError(`windowPs must be positive, got ${config.windowPs}`);
    if (!Number.isInteger(this.fitSyncs) || this.fitSyncs < 2) throw new RangeError(`fitSyncs must be an integer >= 2, got ${config.fitSyncs}`);
    this.syncPeriodPulses = syncEveryPulses;
    this.fitEmit = new Float64Array(this.fitSyncs);
    this.fitArrive = new Float64Array(this.fitSyncs);
    this.out = new TimeTagBuffer(pulsesPerFrame);
  }

  /** One batch of the tagger's stamps → time tags by pulse index (ascending), for the ground station. */
  resolve(a: ArrivalTags): TimeTags {
    this.resolveIntoBuffer(a, false, NO_BYTES, NO_BYTES);
    return this.out.take();
  }

  /**
   * resolve for Bob directly: the same tags as pulse indices, basis and bit, the last two
   * written by the resolving loop itself (no second pass over the tags). basis and bit are
   * fresh; pulseIndex is a view of the output buffer, valid until the next resolve.
   */
  resolveDetections(a: ArrivalTags): { pulseIndex: Float64Array; basis: Uint8Array; bit: Uint8Array } {
    // Room for every stamp (fresh each batch: Bob keeps them).
    const basis = new Uint8Array(this.out.length + a.arrivalPs.length);
    const bit = new Uint8Array(basis.length);
    this.resolveIntoBuffer(a, true, basis, bit);
    const k = this.out.length;
    this.out.length = 0;
    return { pulseIndex: this.out.pulseBuffer.subarray(0, k), basis: basis.subarray(0, k), bit: bit.subarray(0, k) };
  }

  /**
   * resolve's work: the batch's tags into the output buffer: pulse indices, and the
   * detector ids, or (split) their basis and bit into `basis` / `bit`.
   */
  private resolveIntoBuffer(a: ArrivalTags, split: boolean, basis: Uint8Array, bit: Uint8Array): void {
    const { arrivalPs, detector, syncArrivalPs } = a;
    const out = this.out;
    const schedule = this.schedule;
    const half = this.halfWindowPs;
    const disabled = this.config.disabled === true;
    const horizonPs = 2 * this.syncPeriodPulses * schedule.periodPs;
    const n = arrivalPs.length;
    const nSync = syncArrivalPs.length;
    const period = schedule.periodPs;
    const uniform = schedule.uniform === true && !disabled;
    const io = this.io;
    // The tags go straight into the buffer's arrays (room for all n made first); the
    // counters and the line live in locals between sync pulses.
    out.reserve(n);
    const outPulse = out.pulseBuffer;
    const outDet = out.detectorBuffer;
    let k = out.length;
    let outside = 0;
    let before = 0;
    let same = 0;
    let lastIndex = this.lastIndex;
    let shift = this.shiftPs;
    let invSlope = this.invSlope;
    // The next sync arrival still to take in (Infinity: none left).
    let si = 0;
    let nextSync = nSync > 0 ? syncArrivalPs[0] : Infinity;
    let lastSync = this.lastSyncArrivalPs;
    let acquired = this.stats.acquired;
    for (let i = 0; i < n; i++) {
      const t = arrivalPs[i];
      // Take in the sync pulses up to the first one after this detection (and at least
      // two): it is then between fitted points, not extrapolated. Not across a gap in
      // the sync train, though: that would restart the fit on the far side.
      if (nextSync <= t + horizonPs && (lastSync <= t || this.fitCount < 2)) {
        while (si < nSync && syncArrivalPs[si] <= t + horizonPs && (this.lastSyncArrivalPs <= t || this.fitCount < 2)) this.ingest(syncArrivalPs[si++]);
        nextSync = si < nSync ? syncArrivalPs[si] : Infinity;
        lastSync = this.lastSyncArrivalPs;
        acquired = this.stats.acquired;
        shift = this.shiftPs;
        invSlope = this.invSlope;
      }
      if (uniform && acquired) {
        // The common case: the tags up to the next sync pulse due, in a tight loop.
        io[IO_K] = k;
        io[IO_LAST_INDEX] = lastIndex;
        io[IO_OUTSIDE] = outside;
        io[IO_SAME] = same;
        io[IO_NEXT_SYNC] = nextSync;
        io[IO_HORIZON] = horizonPs;
        io[IO_LAST_SYNC] = lastSync;
        io[IO_SHIFT] = shift;
        io[IO_INV_SLOPE] = invSlope;
        io[IO_PERIOD] = period;
        io[IO_HALF] = half;
        i = resolveUniform(arrivalPs, detector, i, n, this.fitCount < 2, outPulse, outDet, split, basis, bit, io) - 1;
        k = io[IO_K];
        lastIndex = io[IO_LAST_INDEX];
        outside = io[IO_OUTSIDE];
        same = io[IO_SAME];
        continue;
      }
      let tEmit: number;
      if (disabled) tEmit = t - this.predicted.ps(t - this.predicted.ps(t));
      else if (!acquired) {
        before++;
        continue;
      } else tEmit = (t - shift) * invSlope;
      const index = schedule.nearestPulse(tEmit);
      if (index < 0 || !(Math.abs(tEmit - schedule.emitPs(index)) <= half)) {
        outside++;
        continue;
      }
      if (index <= lastIndex) {
        same++;
        continue;
      }
      lastIndex = index;
      outPulse[k] = index;
      const d = detector[i];
      if (split) {
        basis[k] = d >>> 1;
        bit[k] = d & 1;
      } else outDet[k] = d;
      k++;
    }
    while (si < nSync) this.ingest(syncArrivalPs[si++]);
    this.stats.resolved += k - out.length;
    this.stats.outsideWindow += outside;
    this.stats.beforeSync += before;
    this.stats.sameSlot += same;
    this.lastIndex = lastIndex;
    out.length = k;
  }

  /** One sync pulse: identify it (acquisition or the tracked line), add it to the fit. */
  private ingest(tArrive: number): void {
    this.lastSyncArrivalPs = tArrive;
    if (this.config.disabled) return;
    this.stats.syncPulses++;
    let tGuess: number;
    if (!this.stats.acquired) {
      // Nominal clock: satellite time = ground time minus the predicted light time.
      tGuess = tArrive - this.predicted.ps(tArrive - this.predicted.ps(tArrive));
    } else tGuess = (tArrive - this.shiftPs) * this.invSlope;
    const tEmit = this.nearestSyncEmitPs(tGuess);
    if (!(tEmit === tEmit)) return; // nothing emitted yet that it could be: a stray, ignored
    if (!this.stats.acquired) {
      this.stats.acquired = true;
      this.stats.acquiredOffsetPs = tArrive - tEmit - this.predicted.ps(tEmit);
      // The rate until a second sync pulse comes: the predicted Doppler.
      this.beta = this.predicted.rate(tEmit);
    }
    // A gap in the sync train of more than the fit's span (the gate was shut): start the
    // fit again from this pulse, keeping the rate.
    if (tEmit - this.lastSyncEmitPs > 2 * this.fitSyncs * this.syncPeriodPulses * this.schedule.periodPs) {
      this.fitCount = 0;
      this.fitNext = 0;
    }
    this.lastSyncEmitPs = tEmit;
    this.fitEmit[this.fitNext] = tEmit;
    this.fitArrive[this.fitNext] = tArrive;
    this.fitNext = (this.fitNext + 1) % this.fitSyncs;
    if (this.fitCount < this.fitSyncs) this.fitCount++;
    this.fit(tEmit, tArrive - tEmit);
  }

  /** Least-squares line of (tArrive - tEmit) over tEmit, centred on the newest point for precision. */
  private fit(xRef: number, yRef: number): void {
    const n = this.fitCount;
    if (n >= 2) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let sxy = 0;
      for (let k = 0; k < n; k++) {
        const x = this.fitEmit[k] - xRef;
        const y = this.fitArrive[k] - this.fitEmit[k] - yRef;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
      }
      const det = n * sxx - sx * sx;
      if (det > 0) this.beta = (n * sxy - sx * sy) / det;
      const alpha = (sy - this.beta * sx) / n;
      this.setLine(xRef, yRef + alpha);
    } else this.setLine(xRef, yRef);
  }

  /** tArrive = tEmit + y0 + beta (tEmit - x0), inverted once here so a detection costs two operations. */
  private setLine(x0: number, y0: number): void {
    this.shiftPs = y0 - this.beta * x0;
    this.invSlope = 1 / (1 + this.beta);
  }

  /** Emission time of the sync pulse sent nearest satellite time `tPs` (NaN: none near). */
  private nearestSyncEmitPs(tPs: number): number {
    const every = this.syncPeriodPulses;
    const i = this.schedule.nearestPulse(tPs, true);
    if (i < 0) return NaN;
    const below = Math.floor(i / every) * every;
    const a = this.schedule.emitPs(below);
    const b = this.schedule.emitPs(below + every);
    if (!(b === b)) return a;
    if (!(a === a)) return b;
    return Math.abs(tPs - a) <= Math.abs(b - tPs) ? a : b;
  }
}

/** Bytes for resolve's basis and bit, which it does not write. */
const NO_BYTES = new Uint8Array(0);

/**
 * Math.max(0, Math.round(x)) for -0.5 <= x < 2^52, exactly, at half its cost: x + 0.5 is
 * exact there except just below 0.5, which the correction catches (a test checks).
 */
export function roundHalfUp(x: number): number {
  const r = Math.floor(x + 0.5);
  return r - 0.5 > x ? r - 1 : r;
}

/**
 * A time below which no tag t has nextSync <= t + horizonPs (the sync pulse due): the
 * difference less a margin far above the add's rounding (a test checks).
 */
export function syncDueBound(nextSync: number, horizonPs: number): number {
  return nextSync === Infinity ? Infinity : nextSync - horizonPs - ((Math.abs(nextSync) + Math.abs(horizonPs)) * 2 ** -40 + 1);
}

/**
 * resolveUniform's numbers, in a Float64Array rather than as arguments (V8 would box each
 * double argument, at every sync pulse): in and out the tags out, the last index, the
 * counts outside the window and in a taken slot; in the next sync arrival, the horizon,
 * the last sync arrival, the line (shift, inverse slope), the slot period and half window.
 */
const IO_K = 0;
const IO_LAST_INDEX = 1;
const IO_OUTSIDE = 2;
const IO_SAME = 3;
const IO_NEXT_SYNC = 4;
const IO_HORIZON = 5;
const IO_LAST_SYNC = 6;
const IO_SHIFT = 7;
const IO_INV_SLOPE = 8;
const IO_PERIOD = 9;
const IO_HALF = 10;
const IO_SIZE = 11;

/**
 * resolve's hot loop for a uniform schedule (pulse i at i * period) and an acquired line:
 * tags i0.. up to the first one for which a sync pulse is due (resolve's condition), each
 * to its nearest slot exactly as nearestPulse / emitPs would. io: the IO_ numbers, the
 * first four updated; returns where it stopped.
 */
function resolveUniform(
  arrivalPs: Float64Array,
  detector: Uint8Array,
  i0: number,
  n: number,
  fitLow: boolean,
  outPulse: Float64Array,
  outDet: Uint8Array,
  split: boolean,
  basis: Uint8Array,
  bit: Uint8Array,
  io: Float64Array,
): number {
  let k = io[IO_K] | 0;
  let lastIndex = io[IO_LAST_INDEX];
  let outside = io[IO_OUTSIDE];
  let same = io[IO_SAME];
  const nextSync = io[IO_NEXT_SYNC];
  const horizonPs = io[IO_HORIZON];
  const lastSync = io[IO_LAST_SYNC];
  const shift = io[IO_SHIFT];
  const invSlope = io[IO_INV_SLOPE];
  const period = io[IO_PERIOD];
  const half = io[IO_HALF];
  const low = -period / 2;
  // Most tags are well before the next sync pulse is due: one comparison for them.
  const nearSync = syncDueBound(nextSync, horizonPs);
  let i = i0;
  for (; i < n; i++) {
    const t = arrivalPs[i];
    if (t >= nearSync && nextSync <= t + horizonPs && (lastSync <= t || fitLow) && i > i0) break;
    const tEmit = (t - shift) * invSlope;
    const index = roundHalfUp(tEmit / period);
    if (!(tEmit > low) || !(Math.abs(tEmit - index * period) <= half)) {
      outside++;
      continue;
    }
    if (index <= lastIndex) {
      same++;
      continue;
    }
    lastIndex = index;
    outPulse[k] = index;
    // (split is the same for the whole loop: a branch the CPU always predicts. The
    // general loop above writes a tag the same way; a shared function for the five
    // lines measured 20 % slower here.)
    const d = detector[i];
    if (split) {
      basis[k] = d >>> 1;
      bit[k] = d & 1;
    } else outDet[k] = d;
    k++;
  }
  io[IO_K] = k;
  io[IO_LAST_INDEX] = lastIndex;
  io[IO_OUTSIDE] = outside;
  io[IO_SAME] = same;
  return i;
}
