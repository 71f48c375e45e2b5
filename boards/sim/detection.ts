/**
 * Source + detector simulation at pulse resolution without per-pulse work: the gap to
 * the next candidate click is drawn from a geometric law at the largest per-pulse
 * yield, and each candidate is thinned to its own intensity's yield (the intensity
 * comes from the counter-based settings hash). Cost grows with detections, not pulses.
 *
 * Detection model (physics.md): Y_k = 1 - (1 - Y0) exp(-eta mu_k),
 * E_k = (e0 Y0 + e_d (1 - exp(-eta mu_k))) / Y_k, a dead time after every click.
 */
import type { Triple } from '../../qkd/keyrate.ts';
import { Rng } from '../../qkd/random.ts';
import { settingsTable, type SettingsTable } from '../../qkd/settings.ts';
import { TimeTagBuffer } from './time-tags.ts';

export interface SourceConfig {
  rateHz: number;
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

export interface DetectorConfig {
  /** Detection efficiency of the single-photon detectors. */
  efficiency: number;
  /** Dark counts of all detectors together. */
  darkCountsPerS: number;
  /** Background (sky, stray light) counts inside the time gates. */
  backgroundCountsPerS: number;
  /** Misalignment error e_d. */
  misalignment: number;
  deadTimeNs: number;
}

export const DEFAULT_DETECTOR: DetectorConfig = {
  efficiency: 0.5,
  darkCountsPerS: 40,
  backgroundCountsPerS: 25,
  misalignment: 0.01,
  deadTimeNs: 50,
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
}

export interface DetectionStats {
  candidates: number;
  detections: number;
}

export class DetectionSampler {
  private readonly table: SettingsTable;
  private readonly rng: Rng;
  private readonly y0: number;
  private readonly deadPulses: number;
  /** First pulse at which the detectors are live again. */
  private liveFrom = 0;
  /** Scratch of sample(): yields and error rates per class, generator state, loop io. */
  private readonly yk = new Float64Array(3);
  private readonly ek = new Float64Array(3);
  private readonly state = new Int32Array(4);
  private readonly io = new Float64Array(5);
  readonly stats: DetectionStats = { candidates: 0, detections: 0 };
  readonly tags: TimeTagBuffer;

  constructor(
    private readonly source: SourceConfig,
    private readonly detector: DetectorConfig,
    sourceSeed: number,
    channelSeed: number,
  ) {
    this.table = settingsTable(sourceSeed, { p: source.p, pKeyBasis: source.pKeyBasis });
    this.rng = new Rng(channelSeed, 0xc4a);
    this.y0 = Math.min(1, (detector.darkCountsPerS + detector.backgroundCountsPerS) / source.rateHz);
    this.deadPulses = Math.ceil(detector.deadTimeNs * 1e-9 * source.rateHz);
    this.tags = new TimeTagBuffer(source.pulsesPerFrame);
  }

  /** Background yield per pulse. */
  get backgroundYield(): number {
    return this.y0;
  }

  /**
   * Sample the detections among pulses [p0, p1) at channel transmittance `eta`
   * (detector efficiency applied here) under the slice's conditions. Appends time tags.
   */
  sample(p0: number, p1: number, eta: number, conditions: SliceConditions = {}): void {
    const etaTotal = eta * this.detector.efficiency;
    const mu = this.source.mu;
    const bg = conditions.backgroundCountsPerS;
    const y0 = bg === undefined ? this.y0 : Math.min(1, (this.detector.darkCountsPerS + bg) / this.source.rateHz);
    const ed0 = this.detector.misalignment;
    const ed = ed0 + (1 - 2 * ed0) * (conditions.polarisationErrorProb ?? 0);
    const Y = this.yk;
    const E = this.ek;
    for (let k = 0; k < 3; k++) {
      const signal = 1 - Math.exp(-etaTotal * mu[k]);
      Y[k] = 1 - (1 - y0) * Math.exp(-etaTotal * mu[k]);
      E[k] = Y[k] > 0 ? (0.5 * y0 + ed * signal) / Y[k] : 0.5;
    }
    const yMax = Math.max(Y[0], Y[1], Y[2]);
    if (!(yMax > 0)) return;
    const logQ = Math.log1p(-yMax);
    const st = this.rng.state();
    const state = this.state;
    state[0] = st[0];
    state[1] = st[1];
    state[2] = st[2];
    state[3] = st[3];
    const io = this.io;
    io[0] = Math.max(p0, this.liveFrom);
    io[1] = 0;
    io[2] = 0;
    io[3] = this.liveFrom;
    io[4] = NaN; // no gap drawn yet
    const { seedLo, seedHi, t0, t1, tKey } = this.table;
    // Fast-log tolerance: both logs are within ~1.5e-14 / |log q| of the true gap
    // (see sampleCore); ten times that keeps floors identical to Math.log's.
    const tol = 1e-13 / -logQ;
    let candidates = 0;
    let detections = 0;
    for (;;) {
      const tags = this.tags;
      const n = sampleCore(state, io, p1, logQ, 1 / logQ, tol, yMax, Y, E, seedLo | 0, seedHi | 0, t0, t1, tKey, this.deadPulses, tags.pulseBuffer, tags.detectorBuffer, tags.length);
      candidates += io[1];
      detections += io[2];
      io[1] = 0;
      io[2] = 0;
      if (n >= 0) {
        tags.length = n;
        break;
      }
      tags.length = tags.pulseBuffer.length;
      tags.grow();
    }
    this.rng.setState(state[0], state[1], state[2], state[3]);
    this.liveFrom = io[3];
    this.stats.candidates += candidates;
    this.stats.detections += detections;
  }
}

/**
 * Natural log of (v + 1) / 2^32 for 256 <= v < 2^32 from tables: v + 1 = 2^e m, m near
 * c_j = 1 + j/256 + 1/512 (j = the 8 bits after the leading one), ln(m / c_j) by its
 * series to the fifth power (|r| <= 1/512: truncation below 1e-17). Absolute error
 * below 4e-15 (table rounding, the product v * (1 / c_j 2^e) and the sum).
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

/** Gap to the next candidate: floor(ln((v + 1) / 2^32) / logQ), exactly as with Math.log. */
function gapOf(v: number, logQ: number, invLogQ: number, tol: number): number {
  if (v >= 256) {
    const z = Math.clz32(v);
    const idx = ((31 - z) << 8) | (((v << z) >>> 23) & 255);
    const r = (v + 1) * MUL_TABLE[idx] - 1;
    const ln = LN_TABLE[idx] + r * (1 + r * (-0.5 + r * (0.3333333333333333 + r * (-0.25 + r * 0.2))));
    const x = ln * invLogQ;
    const g = Math.floor(x);
    const f = x - g;
    if (f >= tol && f <= 1 - tol) return g;
  }
  return Math.floor(Math.log((v + 1) / 4294967296) / logQ);
}

/**
 * The hot loop, kept monomorphic and free of `this`: one iteration per candidate click.
 * state = sfc32 (a, b, c, d); io = [pos, candidates, detections, liveFrom, pending
 * gap or NaN]. Appends tags to (tagPos, tagDet) from index nTag; returns the new
 * count, or -1 when the buffer filled first (state and io then say where to resume).
 *
 * Generator outputs are consumed exactly as one draw per candidate for the gap, one
 * for the thinning test and, on a click, one for Bob's basis and bit. Both possible
 * next gaps (after a click or not) are computed before the thinning test resolves,
 * so the log is off the critical path of that unpredictable branch.
 *
 * The gap floor(ln(u) / ln(1 - yMax)) uses the table log above and falls back to
 * Math.log whenever the quotient lies within `tol` of an integer, so every gap equals
 * the Math.log one exactly. The settings hash is hashIndex + packedSettings inlined
 * (a test checks they agree).
 */
function sampleCore(
  state: Int32Array,
  io: Float64Array,
  p1: number,
  logQ: number,
  invLogQ: number,
  tol: number,
  yMax: number,
  ytab: Float64Array,
  etab: Float64Array,
  seedLo: number,
  seedHi: number,
  t0: number,
  t1: number,
  tKey: number,
  dead: number,
  tagPos: Float64Array,
  tagDet: Uint8Array,
  nTag: number,
): number {
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let pos = io[0];
  let liveFrom = io[3];
  let candidates = 0;
  let detections = 0;
  const cap = tagPos.length;
  const yScale = yMax / 4294967296;
  // The pulse index's high word changes a few dozen times a pass: track it.
  let hiWord = Math.floor(pos / 4294967296);
  let hiBase = hiWord * 4294967296;
  let hiNext = hiBase + 4294967296;
  let full = false;
  let g: number;
  if (io[4] === io[4]) {
    g = io[4]; // resumed after the buffer grew: the gap was already drawn
    io[4] = NaN;
  } else {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    g = gapOf(t >>> 0, logQ, invLogQ, tol);
  }
  for (;;) {
    if (nTag === cap) {
      io[4] = g;
      full = true;
      break;
    }
    pos += g;
    if (pos >= p1) break;
    candidates++;
    while (pos >= hiNext) {
      hiWord++;
      hiBase = hiNext;
      hiNext += 4294967296;
    }
    let h = (((pos - hiBase) ^ seedLo) + 0x632be5ab) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const ha = h;
    h = Math.imul(hiWord ^ seedHi, 0x9e3779b9) ^ ha;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    h = (ha + Math.imul(h, 0x7feb352d)) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const u = h >>> 16;
    // Intensity class without branches: (u >= t0) + (u >= t1).
    const k = ((t0 - 1 - u) >>> 31) + ((t1 - 1 - u) >>> 31);
    // Draw 2 (thinning test); draws 3 and 4 computed ahead: draw 3 is Bob's basis and
    // bit on a click or else the next gap; draw 4 is the next gap after a click.
    const t2 = (((a + b) | 0) + d) | 0;
    const d2 = (d + 1) | 0;
    const a2 = b ^ (b >>> 9);
    const b2 = (c + (c << 3)) | 0;
    const c2 = (((c << 21) | (c >>> 11)) + t2) | 0;
    const t3 = (((a2 + b2) | 0) + d2) | 0;
    const d3 = (d2 + 1) | 0;
    const a3 = b2 ^ (b2 >>> 9);
    const b3 = (c2 + (c2 << 3)) | 0;
    const c3 = (((c2 << 21) | (c2 >>> 11)) + t3) | 0;
    const t4 = (((a3 + b3) | 0) + d3) | 0;
    const gNoClick = gapOf(t3 >>> 0, logQ, invLogQ, tol);
    const gClick = gapOf(t4 >>> 0, logQ, invLogQ, tol);
    if ((t2 >>> 0) * yScale < ytab[k]) {
      detections++;
      // Bob's passive basis (top bit); his bit is Alice's with error E_k in the same
      // basis, a fair coin otherwise (low 31 bits).
      const bobBasis = t3 >>> 31;
      const aliceBasis = (tKey - 1 - ((h >>> 1) & 0x7fff)) >>> 31;
      const u31 = (t3 & 0x7fffffff) / 2147483648;
      let bit: number;
      if (bobBasis === aliceBasis) bit = (h & 1) ^ (u31 < etab[k] ? 1 : 0);
      else bit = u31 < 0.5 ? 1 : 0;
      tagPos[nTag] = pos;
      tagDet[nTag++] = (bobBasis << 1) | bit;
      pos += dead + 1;
      liveFrom = pos;
      d = (d3 + 1) | 0;
      a = b3 ^ (b3 >>> 9);
      b = (c3 + (c3 << 3)) | 0;
      c = (((c3 << 21) | (c3 >>> 11)) + t4) | 0;
      g = gClick;
    } else {
      pos += 1;
      a = a3;
      b = b3;
      c = c3;
      d = d3;
      g = gNoClick;
    }
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
  io[0] = pos;
  io[1] = candidates;
  io[2] = detections;
  io[3] = liveFrom;
  return full ? -1 : nTag;
}
