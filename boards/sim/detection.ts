/**
 * Source + detector simulation at pulse resolution without per-pulse work: the gap to
 * the next candidate click is drawn from a geometric law at the largest per-pulse
 * yield, and each candidate is thinned to its own pulse's yield (its intensity, basis
 * and bit come from the counter-based settings hash). Cost grows with detections, not
 * pulses.
 *
 * Detection model (docs/qkd.md, "Source, geometry, channel, detectors"): the source emits
 * mu'_k (the actual intensities, SliceConditions.emittedMu; the nominal SourceConfig.mu
 * when not given). Bob has four detectors d = basis * 2 + bit behind a passive 50/50
 * basis split; of the light of Alice's state s a share f_d(s) reaches detector d
 * ((1 - e_d) / 2 and e_d / 2 in her basis, 1/4 each in the other), so d sees a Poisson
 * photon number of mean lambda_d = eta mu'_k eff_d f_d(s) and its own noise n_d (dark
 * counts plus a quarter of the background per pulse): P_d = 1 - (1 - n_d) e^-lambda_d.
 * A pulse clicks with Y = 1 - prod_d (1 - P_d), reported on detector d with
 * probability P_d / sum P_d (a double click, both P_d small, reported as one of its
 * detectors). A click makes only its own detector dead (a candidate on a dead
 * detector is dropped) and with afterpulseProb arms an afterpulse on that detector an
 * exponential delay after it is live again: a click with that detector's basis and
 * bit in a later slot, whatever Alice sent there (so it adds errors).
 */
import type { Triple } from '../../qkd/keyrate.ts';
import { Rng, highHalfKey } from '../../qkd/random.ts';
import { NOT_RECORDED, settingsTable, type SettingsTable } from '../../qkd/settings.ts';
import { TimeTagBuffer } from './time-tags.ts';

export interface SourceConfig {
  rateHz: number;
  /** Nominal mean photon numbers (what the firmware sets and the key bound assumes). */
  mu: Triple;
  p: Triple;
  pKeyBasis: number;
  /** Pulses per source frame; pulseIndex = frameNumber * pulsesPerFrame + offsetInFrame. */
  pulsesPerFrame: number;
}

export const DEFAULT_SOURCE: SourceConfig = {
  rateHz: 625e6,
  mu: [0.8, 0.1, 0],
  p: [0.5, 0.25, 0.25],
  pKeyBasis: 0.5,
  pulsesPerFrame: 1 << 20,
};

/** One value per detector, indexed by detector id = basis * 2 + bit. */
export type Quad = readonly [number, number, number, number];

export interface DetectorConfig {
  /** Mean detection efficiency of the four single-photon detectors. */
  efficiency: number;
  /** Each detector's efficiency relative to the mean (efficiency mismatch); mean 1. */
  relativeEfficiency: Quad;
  /** Dark counts of each detector, per s. */
  darkCountsPerS: Quad;
  /** Background (sky, stray light) counts inside the time gates, all detectors together (split evenly). */
  backgroundCountsPerS: number;
  /** Misalignment error e_d. */
  misalignment: number;
  /** Dead time of a detector after its own click, ns (the others stay live). */
  deadTimeNs: number;
  /** Probability that a click is followed by an afterpulse on the same detector. */
  afterpulseProb: number;
  /** Mean delay of an afterpulse after its detector is live again, ns (exponential). */
  afterpulseDelayNs: number;
}

/**
 * Micius / Jinan-1 class Si-APDs: 50 ns dead time, 0.5 % afterpulsing, efficiencies
 * within a few % of each other, tens of dark counts per second each.
 */
export const DEFAULT_DETECTOR: DetectorConfig = {
  efficiency: 0.5,
  relativeEfficiency: [1.03, 0.97, 0.98, 1.02],
  darkCountsPerS: [12, 8, 10, 10],
  backgroundCountsPerS: 25,
  misalignment: 0.01,
  deadTimeNs: 50,
  afterpulseProb: 0.005,
  afterpulseDelayNs: 50,
};

/** What changes from slice to slice besides the transmittance. */
export interface SliceConditions {
  /** Background (sky, Moon, stray light) counts in the gates, all detectors, per s. Default: the detector config's. */
  backgroundCountsPerS?: number;
  /**
   * Extra probability that a signal photon reaches the wrong detector of its basis
   * (an uncompensated polarisation-frame rotation by theta: sin^2 theta). Default 0.
   */
  polarisationErrorProb?: number;
  /** Mean photon numbers the source actually emits per class (calibration error, drift). Default: the nominal SourceConfig.mu. */
  emittedMu?: Triple;
}

export interface DetectionStats {
  /** Candidate clicks drawn (the sampler's cost). */
  candidates: number;
  /** Clicks reported, afterpulses included. */
  detections: number;
  /** Of those, afterpulses. */
  afterpulses: number;
  /** Candidates dropped because their detector was dead. */
  deadDropped: number;
}

/** Per-pulse click tables for one slice: row = intensity * 4 + Alice's (basis * 2 + bit). */
export interface ClickTables {
  /** Probability that the pulse clicks at all (12 rows). */
  yields: Float64Array;
  /** Probability that a click is reported on detector 0..3 (12 rows of 4). */
  detectorShare: Float64Array;
}

/** The click probabilities of the model above for pulses of the given intensities at channel transmittance `eta`. */
export function clickTables(mu: Triple, eta: number, det: DetectorConfig, rateHz: number, conditions: SliceConditions = {}, out?: ClickTables): ClickTables {
  const bg = conditions.backgroundCountsPerS ?? det.backgroundCountsPerS;
  const ed0 = det.misalignment;
  const ed = ed0 + (1 - 2 * ed0) * (conditions.polarisationErrorProb ?? 0);
  // `out`: the sampler's own tables, refilled every slice (a pass has 30 000 slices).
  const yields = out?.yields ?? new Float64Array(12);
  const detectorShare = out?.detectorShare ?? new Float64Array(48);
  const rel = det.relativeEfficiency;
  const dark = det.darkCountsPerS;
  for (let k = 0; k < 3; k++) {
    const meanPhotons = eta * mu[k] * det.efficiency;
    for (let s = 0; s < 4; s++) {
      let none = 1;
      let sum = 0;
      const row = k * 4 + s;
      for (let d = 0; d < 4; d++) {
        const share = d >> 1 !== s >> 1 ? 0.25 : (d & 1) === (s & 1) ? 0.5 * (1 - ed) : 0.5 * ed;
        const noise = Math.min(1, (dark[d] + bg / 4) / rateHz);
        const pd = 1 - (1 - noise) * Math.exp(-meanPhotons * rel[d] * share);
        detectorShare[row * 4 + d] = pd;
        none *= 1 - pd;
        sum += pd;
      }
      yields[row] = 1 - none;
      for (let d = 0; d < 4; d++) detectorShare[row * 4 + d] = sum > 0 ? detectorShare[row * 4 + d] / sum : 0.25;
    }
  }
  return out ?? { yields, detectorShare };
}

export class DetectionSampler {
  private readonly table: SettingsTable;
  private readonly rng: Rng;
  private readonly deadPulses: number;
  private readonly apProb: number;
  private readonly apMeanPulses: number;
  /** Per detector: first pulse it is live again (0..3), its pending afterpulse or Infinity (4..7). */
  private readonly detState = new Float64Array([0, 0, 0, 0, Infinity, Infinity, Infinity, Infinity]);
  /** Scratch of sample(): click tables, draw thresholds per row, generator state, sampleCore's io and parameters. */
  private readonly clicks: ClickTables = { yields: new Float64Array(12), detectorShare: new Float64Array(48) };
  private readonly ctab = new Float64Array(60);
  private readonly state = new Int32Array(4);
  private readonly io = new Float64Array(12);
  private readonly par = new Float64Array(11);
  readonly stats: DetectionStats = { candidates: 0, detections: 0, afterpulses: 0, deadDropped: 0 };
  readonly tags: TimeTagBuffer;

  constructor(
    private readonly source: SourceConfig,
    private readonly detector: DetectorConfig,
    sourceSeed: number,
    channelSeed: number,
  ) {
    this.table = settingsTable(sourceSeed, { p: source.p, pKeyBasis: source.pKeyBasis });
    this.rng = new Rng(channelSeed, 0xc4a);
    this.deadPulses = Math.ceil(detector.deadTimeNs * 1e-9 * source.rateHz);
    this.apProb = Math.max(0, Math.min(1, detector.afterpulseProb));
    this.apMeanPulses = detector.afterpulseDelayNs * 1e-9 * source.rateHz;
    this.tags = new TimeTagBuffer(source.pulsesPerFrame);
  }

  /** Noise yield per pulse of all detectors together (dark counts and background). */
  get backgroundYield(): number {
    const d = this.detector;
    const dark = d.darkCountsPerS[0] + d.darkCountsPerS[1] + d.darkCountsPerS[2] + d.darkCountsPerS[3];
    return Math.min(1, (dark + d.backgroundCountsPerS) / this.source.rateHz);
  }

  /**
   * Sample the detections among pulses [p0, p1) at channel transmittance `eta`
   * (detector efficiencies applied here) under the slice's conditions. Appends time
   * tags in pulse order. Pulses are sampled in increasing order across calls; an
   * afterpulse that would fall before p0 (outside the pulses emitted) is dropped.
   */
  sample(p0: number, p1: number, eta: number, conditions: SliceConditions = {}): void {
    const { yields, detectorShare } = clickTables(conditions.emittedMu ?? this.source.mu, eta, this.detector, this.source.rateHz, conditions, this.clicks);
    const C = this.ctab;
    let yMax = 0;
    for (let r = 0; r < 12; r++) if (yields[r] > yMax) yMax = yields[r];
    for (let r = 0; r < 12; r++) {
      // A candidate clicks when its draw u < y = C[5r + 4]; u is then uniform on [0, y):
      // detector d takes [C[5r + d], C[5r + d + 1]), its cumulative share of y (u >= c
      // for an integer u is u >= ceil(c)).
      const y = clickThreshold(yields[r], yMax / 4294967296);
      let acc = 0;
      C[r * 5] = 0;
      for (let d = 0; d < 3; d++) {
        acc += detectorShare[r * 4 + d];
        C[r * 5 + d + 1] = Math.min(y, Math.ceil(acc * y));
      }
      C[r * 5 + 4] = y;
    }
    const det = this.detState;
    for (let d = 4; d < 8; d++) if (det[d] < p0) det[d] = Infinity;
    const tags = this.tags;
    const io = this.io.fill(0);
    if (!(yMax > 0)) {
      // No clicks can come from these pulses, but afterpulses still fall in them.
      if (tags.length + TAG_HEADROOM > tags.pulseBuffer.length) tags.grow();
      tags.length = flushAfterpulses(det, p1, this.deadPulses, tags.pulseBuffer, tags.detectorBuffer, tags.settingsBuffer, tags.length, io);
      this.stats.detections += io[2];
      this.stats.afterpulses += io[4];
      return;
    }
    const logQ = Math.log1p(-yMax);
    const st = this.rng.state();
    const state = this.state;
    state[0] = st[0];
    state[1] = st[1];
    state[2] = st[2];
    state[3] = st[3];
    io[0] = p0;
    io[3] = NaN; // no gap drawn yet
    const { seedLo, seedHi, t0, t1, tKey } = this.table;
    const par = this.par;
    par[0] = p1;
    par[1] = logQ;
    par[2] = 1 / logQ;
    par[3] = gapTolerance(logQ);
    par[4] = seedLo | 0;
    par[5] = seedHi | 0;
    par[6] = t0;
    par[7] = t1;
    par[8] = tKey;
    par[9] = this.deadPulses;
    par[10] = this.apProb;
    for (;;) {
      tags.length = sampleCore(state, io, par, det, C, tags.pulseBuffer, tags.detectorBuffer, tags.settingsBuffer, tags.length);
      const stop = io[6];
      if (stop === STOP_DONE) break;
      if (stop === STOP_FULL) tags.grow();
      // Afterpulses due before the next candidate (or the span's end) go first.
      else if (stop === STOP_AFTERPULSE) tags.length = flushAfterpulses(det, Math.min(io[0] + io[3], p1), this.deadPulses, tags.pulseBuffer, tags.detectorBuffer, tags.settingsBuffer, tags.length, io);
      else if (stop === STOP_ARM) armAfterpulse(det, io[8], io[9], io[10], io[11], this.apProb, this.apMeanPulses);
      // STOP_GAP, STOP_HIWORD: sampleCore's entry computes the gap with Math.log, or the new high word's key.
    }
    this.rng.setState(state[0], state[1], state[2], state[3]);
    this.stats.candidates += io[1];
    this.stats.detections += io[2];
    this.stats.afterpulses += io[4];
    this.stats.deadDropped += io[5];
  }
}

/**
 * The thinning test u * yScale < y (u a 32-bit draw) as u < threshold: the number of
 * draws that pass (the product grows with u, rounding included, so they are 0 .. t-1).
 */
export function clickThreshold(y: number, yScale: number): number {
  if (!(yScale > 0)) return 0;
  let t = Math.min(4294967296, Math.max(0, Math.ceil(y / yScale)));
  while (t > 0 && (t - 1) * yScale >= y) t--;
  while (t < 4294967296 && t * yScale < y) t++;
  return t;
}

/**
 * 1 when a >= b, else 0, without a branch: V8 turns the comparison's flag into the
 * number (setcc); a ternary would be a branch, and these outcomes are coin flips.
 */
function geq(a: number, b: number): number {
  return +(a >= b);
}

/** Tags one loop iteration or one afterpulse flush may append at most (four afterpulses, or a click). */
const TAG_HEADROOM = 5;
/**
 * Why sampleCore returned (io[6]): the span is done, the tag buffer is full,
 * afterpulses are due, a click arms an afterpulse, the table log was unsure of a gap,
 * the next candidate lies in the next 2^32 pulses. The last three need calls (Math.log,
 * highHalfKey), which sampleCore's loop leaves to its caller and its own entry.
 */
const STOP_DONE = 0;
const STOP_FULL = 1;
const STOP_AFTERPULSE = 2;
const STOP_ARM = 3;
const STOP_GAP = 4;
const STOP_HIWORD = 5;

/**
 * Emits, in pulse order, the pending afterpulses (det[4..7]) before pulse `until`
 * (the next candidate, or the span's end):
 * each is a click of its detector in that slot (a second click in a slot already
 * tagged is the same slot's double click, not reported twice) and makes the detector
 * dead. Afterpulses of afterpulses are neglected (second order in afterpulseProb).
 * Returns the new tag count; io[2] and io[4] count them.
 */
function flushAfterpulses(det: Float64Array, until: number, dead: number, tagPos: Float64Array, tagDet: Uint8Array, tagSet: Uint8Array, nTag: number, io: Float64Array): number {
  for (;;) {
    let d = -1;
    let at = until;
    for (let j = 0; j < 4; j++) {
      if (det[4 + j] < at) {
        at = det[4 + j];
        d = j;
      }
    }
    if (d < 0) return nTag;
    det[4 + d] = Infinity;
    if (nTag > 0 && tagPos[nTag - 1] === at) continue;
    tagPos[nTag] = at;
    tagSet[nTag] = NOT_RECORDED; // the source did not look this pulse up
    tagDet[nTag++] = d;
    det[d] = at + dead + 1;
    io[2]++;
    io[4]++;
  }
}

const minAfterpulse = (det: Float64Array) => Math.min(det[4], det[5], det[6], det[7]);
const dueIn = (at: number, p1: number) => (at < p1 ? at : Infinity);

/**
 * After a click of detector d (live again at `live`) whose draw lay `w` into d's share
 * `width` of the draw range: with w < apProb * width an afterpulse at live + an
 * exponential delay ((w + 0.5) / (apProb * width) is uniform on (0, 1]), else none;
 * either way it replaces d's pending one.
 */
function armAfterpulse(det: Float64Array, d: number, live: number, w: number, width: number, apProb: number, apMeanPulses: number): void {
  const limit = apProb * width;
  det[4 + d] = w < limit ? live + Math.floor(-apMeanPulses * Math.log((w + 0.5) / limit)) : Infinity;
}

/**
 * Natural log of (v + 1) / 2^32 for 256 <= v < 2^32 from tables: v + 1 = 2^e m, m near
 * c_j = 1 + j/256 + 1/512 (j = the 8 bits after the leading one), ln(m / c_j) = ln(1 + r)
 * by r - r^2 / 2 (|r| <= 1/512: truncation below |r|^3 / 3 / (1 - |r|) < 2.5e-9; a longer
 * series measured slower, its latency is on the loop's critical path). Rounding (tables,
 * the product v * (1 / c_j 2^e), the sum) adds below 4e-15.
 */
const LN_TABLE = new Float64Array(32 * 256);
const MUL_TABLE = new Float64Array(32 * 256);
for (let e = 0; e < 32; e++) {
  for (let j = 0; j < 256; j++) {
    const c = 1 + j / 256 + 1 / 512;
    MUL_TABLE[e * 256 + j] = 1 / (c * 2 ** e);
    LN_TABLE[e * 256 + j] = Math.log(c * 2 ** (e - 32));
  }
}

/**
 * How close to an integer the table log's quotient ln / logQ may lie before gapFast
 * gives up: its ln is within 2.5e-9 of the true one (above), Math.log's and both
 * quotients' rounding add below 2e-14 / |logQ|; 4e-9 / |logQ| covers both. In a pass
 * (|logQ| ~ 1e-4) that sends ~1e-4 of the gaps to Math.log.
 */
export function gapTolerance(logQ: number): number {
  return 4e-9 / -logQ;
}

/** Gap to the next candidate, floor(ln((v + 1) / 2^32) / logQ), by the table log; Infinity when that may differ from Math.log's. */
export function gapFast(v: number, invLogQ: number, tol: number): number {
  if (v < 256) return Infinity;
  const z = Math.clz32(v);
  const idx = ((31 - z) << 8) | (((v << z) >>> 23) & 255);
  const r = (v + 1) * MUL_TABLE[idx] - 1;
  const ln = LN_TABLE[idx] + r * (1 - 0.5 * r);
  const x = ln * invLogQ;
  const g = Math.floor(x);
  const f = x - g;
  return f >= tol && f <= 1 - tol ? g : Infinity;
}

/** Gap to the next candidate: floor(ln((v + 1) / 2^32) / logQ), exactly as with Math.log (tol = gapTolerance(logQ)). */
export function gapOf(v: number, logQ: number, invLogQ: number, tol: number): number {
  const g = gapFast(v, invLogQ, tol);
  return g !== Infinity ? g : Math.floor(Math.log((v + 1) / 4294967296) / logQ);
}

/**
 * The hot loop, kept monomorphic, free of `this` and free of calls (V8 treats a call as
 * clobbering every register, and spills the loop's values around it on every
 * iteration): one iteration per candidate click. state = sfc32 (a, b, c, d);
 * io = [pos, candidates, detections, pending gap (NaN: none drawn, Infinity: its draw
 * io[7] still needs Math.log), afterpulses, dead drops, stop reason, that draw, and for
 * STOP_ARM the click's detector, live-from, w and width]; par = [p1, logQ, 1 / logQ,
 * gap tolerance, seedLo, seedHi, t0, t1, tKey, dead pulses, apProb] (read once into
 * untagged locals: as arguments, V8 re-checked their tags in the loop); det = per-detector live-from and pending afterpulse.
 * Appends tags to (tagPos, tagDet, tagSet: the pulse's packed settings, the source's
 * record for Alice) from index nTag and returns the new count; io[6] says why it
 * stopped (STOP_*; state and io then say where to resume).
 *
 * Two generator outputs per candidate, always: the gap to it, and one draw u that
 * decides the rest (u uniform on [0, 2^32); a click when u < y = C[5 row + 4]; then u
 * is uniform on [0, y), so the sub-range it falls in picks the detector (C: the
 * cumulative shares of y) and its place w in that sub-range, uniform too, the
 * afterpulse). The click, a coin flip that waits on the hash, is applied by masks, not
 * a branch.
 *
 * The gap floor(ln(u) / ln(1 - yMax)) uses the table log above; whenever the quotient
 * lies within the tolerance of an integer the loop stops and the entry takes Math.log,
 * so every gap equals the Math.log one exactly. The settings hash is hashLowHalf +
 * packedFromHash inlined (a test checks they agree).
 */
function sampleCore(state: Int32Array, io: Float64Array, par: Float64Array, det: Float64Array, ctab: Float64Array, tagPos: Float64Array, tagDet: Uint8Array, tagSet: Uint8Array, nTag: number): number {
  const p1 = par[0];
  const logQ = par[1];
  const invLogQ = par[2];
  const tol = par[3];
  const seedLo = par[4] | 0;
  const seedHi = par[5] | 0;
  const t0 = par[6] | 0;
  const t1 = par[7] | 0;
  const tKey = par[8] | 0;
  const dead = par[9];
  const apProb = par[10];
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let pos = io[0];
  let candidates = 0;
  let detections = 0;
  let dropped = 0;
  const cap = tagPos.length - TAG_HEADROOM;
  let g = io[3];
  if (g !== g) {
    // A fresh span: draw the first gap.
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    g = gapOf(t >>> 0, logQ, invLogQ, tol);
  } else if (g === Infinity) g = gapOf(io[7], logQ, invLogQ, tol); // the table log was unsure of it
  // The calls happen here, before the loop. The next candidate's pulse index's high
  // word (it changes a few dozen times a pass).
  const hiWord = Math.floor((pos + g) / 4294967296);
  const hiBase = hiWord * 4294967296;
  const hiKey = highHalfKey(seedHi, hiWord) | 0;
  // The earliest pending afterpulse inside this span (later ones wait for their span).
  const apDue = dueIn(minAfterpulse(det), p1);
  // One compare per candidate for all of: an afterpulse due, the span's end, the next high word.
  const lim = Math.min(apDue, p1 - 1, hiBase + 4294967295);
  let stop = STOP_DONE;
  let vNext = 0;
  for (;;) {
    if (nTag >= cap) {
      stop = STOP_FULL;
      break;
    }
    if (!(pos + g <= lim)) {
      if (g === Infinity) stop = STOP_GAP;
      // Afterpulses are due in this span before the next candidate: the caller inserts them (rare).
      else if (pos + g > apDue) stop = STOP_AFTERPULSE;
      else if (pos + g >= p1) {
        pos += g;
        g = NaN;
        stop = STOP_DONE;
      } else stop = STOP_HIWORD;
      break;
    }
    pos += g;
    candidates++;
    // The pulse's settings as Alice derives them: packedFromHash(hashLowHalf(seedLo,
    // pos - hiBase, highHalfKey(seedHi, hiWord)), t0, t1, tKey) written out by hand
    // (calling the functions measured 20 % slower for the whole pass); fast-paths.test.ts
    // holds this loop to them (the sampler against the plain reference sampler).
    let h = (((pos - hiBase) ^ seedLo) + 0x632be5ab) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    h ^= hiKey;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const hu = h >>> 16;
    const k = ((t0 - 1 - hu) >>> 31) + ((t1 - 1 - hu) >>> 31);
    const aliceBasis = (tKey - 1 - ((h >>> 1) & 0x7fff)) >>> 31;
    const row = (k << 2) | (aliceBasis << 1) | (h & 1);
    // The candidate's draw, then the next gap's.
    const t2 = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t2) | 0;
    const t3 = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t3) | 0;
    vNext = t3 >>> 0;
    const gNext = gapFast(vNext, invLogQ, tol);
    const u = t2 >>> 0;
    const r5 = row * 5;
    const click = 1 - geq(u, ctab[r5 + 4]);
    const dd = geq(u, ctab[r5 + 1]) + geq(u, ctab[r5 + 2]) + geq(u, ctab[r5 + 3]);
    const was = det[dd];
    const ok = click & geq(pos, was);
    // The tag is written always, counted only for a click on a live detector.
    tagPos[nTag] = pos;
    tagDet[nTag] = dd;
    tagSet[nTag] = row; // = packedSettings of the pulse: the source's record
    nTag += ok;
    detections += ok;
    dropped += click - ok;
    const live = pos + dead + 1;
    det[dd] = was + (live - was) * ok;
    pos += 1;
    g = gNext;
    // A new click arms an afterpulse or replaces its detector's pending one (rare): the caller does it.
    const lo = ctab[r5 + dd];
    const width = ctab[r5 + dd + 1] - lo;
    if ((u - lo < apProb * width || det[4 + dd] !== Infinity) && ok === 1) {
      io[8] = dd;
      io[9] = live;
      io[10] = u - lo;
      io[11] = width;
      stop = STOP_ARM;
      break;
    }
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
  io[0] = pos;
  io[1] += candidates;
  io[2] += detections;
  io[3] = g;
  io[5] += dropped;
  io[6] = stop;
  io[7] = vNext;
  return nTag;
}
