/**
 * Source + detector simulation at pulse resolution without per-pulse work: the gap to
 * the next candidate click is drawn from a geometric law at the largest per-pulse
 * yield, and each candidate is thinned to its own intensity's yield (the intensity
 * comes from the counter-based settings hash). Cost grows with detections, not pulses.
 *
 * Detection model (physics.md): Y_k = 1 - (1 - Y0) exp(-eta mu_k),
 * E_k = (e0 Y0 + e_d (1 - exp(-eta mu_k))) / Y_k, a dead time after every click.
 */
import type { Triple } from '../../firmware/qkd/keyrate.ts';
import { Rng } from '../../firmware/qkd/random.ts';
import { packedSettings, settingsTable, type SettingsTable } from '../../firmware/qkd/settings.ts';
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
   * (detector efficiency applied here). Appends time tags.
   */
  sample(p0: number, p1: number, eta: number): void {
    const etaTotal = eta * this.detector.efficiency;
    const mu = this.source.mu;
    const y0 = this.y0;
    const ed = this.detector.misalignment;
    const Y = new Float64Array(3);
    const E = new Float64Array(3);
    for (let k = 0; k < 3; k++) {
      const signal = 1 - Math.exp(-etaTotal * mu[k]);
      Y[k] = 1 - (1 - y0) * Math.exp(-etaTotal * mu[k]);
      E[k] = Y[k] > 0 ? (0.5 * y0 + ed * signal) / Y[k] : 0.5;
    }
    const yMax = Math.max(Y[0], Y[1], Y[2]);
    if (!(yMax > 0)) return;
    const logQ = Math.log1p(-yMax);
    const st = this.rng.state();
    const state = Int32Array.from(st);
    const out = new Float64Array([Math.max(p0, this.liveFrom), 0, 0, this.liveFrom]);
    const { seedLo, seedHi, t0, t1, tKey } = this.table;
    sampleCore(state, out, p1, logQ, yMax, Y[0], Y[1], Y[2], E[0], E[1], E[2], seedLo | 0, seedHi | 0, t0, t1, tKey, this.deadPulses, this.tags);
    this.rng.setState(state[0], state[1], state[2], state[3]);
    this.liveFrom = out[3];
    const candidates = out[1];
    const detections = out[2];
    this.stats.candidates += candidates;
    this.stats.detections += detections;
  }
}

/**
 * The hot loop, kept monomorphic and free of `this`: one iteration per candidate click.
 * state = sfc32 (a, b, c, d); io = [pos, candidates, detections, liveFrom].
 * The settings hash is hashIndex + packedSettings inlined (a test checks they agree).
 */
function sampleCore(
  state: Int32Array,
  io: Float64Array,
  p1: number,
  logQ: number,
  yMax: number,
  y0r: number,
  y1r: number,
  y2r: number,
  e0r: number,
  e1r: number,
  e2r: number,
  seedLo: number,
  seedHi: number,
  t0: number,
  t1: number,
  tKey: number,
  dead: number,
  tags: TimeTagBuffer,
): void {
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let pos = io[0];
  let liveFrom = io[3];
  let candidates = 0;
  let detections = 0;
  const yScale = yMax / 4294967296;
  for (;;) {
    let t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    pos += Math.floor(Math.log(((t >>> 0) + 1) / 4294967296) / logQ);
    if (pos >= p1) break;
    candidates++;
    const hi = Math.floor(pos / 4294967296);
    const lo = pos - hi * 4294967296;
    let h = ((lo ^ seedLo) + 0x632be5ab) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const ha = h;
    h = Math.imul(hi ^ seedHi, 0x9e3779b9) ^ ha;
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
    const k = u < t0 ? 0 : u < t1 ? 1 : 2;
    const yk = k === 0 ? y0r : k === 1 ? y1r : y2r;
    t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    if ((t >>> 0) * yScale < yk) {
      detections++;
      t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      // Bob's passive basis (top bit); his bit is Alice's with error E_k in the same
      // basis, a fair coin otherwise (low 31 bits).
      const bobBasis = t >>> 31;
      const aliceBasis = ((h >>> 1) & 0x7fff) < tKey ? 0 : 1;
      const u31 = (t & 0x7fffffff) / 2147483648;
      let bit: number;
      if (bobBasis === aliceBasis) {
        const ek = k === 0 ? e0r : k === 1 ? e1r : e2r;
        bit = (h & 1) ^ (u31 < ek ? 1 : 0);
      } else bit = u31 < 0.5 ? 1 : 0;
      tags.push(pos, bobBasis, bit);
      pos += dead + 1;
      liveFrom = pos;
    } else {
      pos += 1;
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
}
