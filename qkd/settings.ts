/**
 * Per-pulse source settings from a counter-based hash of (seed, pulse index): any
 * pulse's intensity class, basis and bit in O(1). The one definition shared by the
 * source-board emulator, the channel simulation and Alice's distillation.
 */
import { hashIndex, hashIndexHalves, seedHalves } from './random.ts';

/** Intensity class: 0 = signal mu1, 1 = decoy mu2, 2 = vacuum/weak decoy mu3. */
export type IntensityClass = 0 | 1 | 2;
/** Basis: 0 = key basis (X in Lim et al.), 1 = test basis (Z). */
export type Basis = 0 | 1;

export interface SourceProbabilities {
  /** Sending probabilities of the three intensity classes (sum 1). */
  p: readonly [number, number, number];
  /** Probability of choosing the key basis. */
  pKeyBasis: number;
}

export const DEFAULT_SOURCE_PROBABILITIES: SourceProbabilities = { p: [0.5, 0.25, 0.25], pKeyBasis: 0.5 };

export interface PulseSettings {
  intensity: IntensityClass;
  basis: Basis;
  bit: 0 | 1;
}

/** Thresholds on 16-bit hash fields, precomputed once per configuration. */
export interface SettingsTable {
  seedLo: number;
  seedHi: number;
  t0: number;
  t1: number;
  tKey: number;
}

export function settingsTable(seed: number | bigint, probs: SourceProbabilities = DEFAULT_SOURCE_PROBABILITIES): SettingsTable {
  const { lo, hi } = seedHalves(seed);
  return {
    seedLo: lo,
    seedHi: hi,
    t0: Math.round(probs.p[0] * 65536),
    t1: Math.round((probs.p[0] + probs.p[1]) * 65536),
    tKey: Math.round(probs.pKeyBasis * 32768),
  };
}

/**
 * Packed settings of one pulse: bits 0 = bit value, 1 = basis, 2-3 = intensity class.
 * The hot loops use this; `pulseSettings` is the readable form.
 */
export function packedSettings(t: SettingsTable, pulseIndex: number): number {
  const h = hashIndex(t.seedLo, t.seedHi, pulseIndex);
  const u = h >>> 16;
  const intensity = u < t.t0 ? 0 : u < t.t1 ? 1 : 2;
  const basis = ((h >>> 1) & 0x7fff) < t.tKey ? 0 : 1;
  return (h & 1) | (basis << 1) | (intensity << 2);
}

export function pulseSettings(
  seed: number | bigint,
  pulseIndex: number,
  probs: SourceProbabilities = DEFAULT_SOURCE_PROBABILITIES,
): PulseSettings {
  return unpackSettings(packedSettings(settingsTable(seed, probs), pulseIndex));
}

export function unpackSettings(packed: number): PulseSettings {
  return {
    bit: (packed & 1) as 0 | 1,
    basis: ((packed >>> 1) & 1) as Basis,
    intensity: ((packed >>> 2) & 3) as IntensityClass,
  };
}

/**
 * Packed settings (as `packedSettings`) of many pulses at once into `out`, by the same
 * hash as `hashIndex` from the index's halves (a test checks they agree).
 */
export function packedSettingsInto(t: SettingsTable, pulseIndex: ArrayLike<number>, out: Uint8Array): void {
  const n = pulseIndex.length;
  const seedLo = t.seedLo | 0;
  const seedHi = t.seedHi | 0;
  for (let i = 0; i < n; i++) out[i] = packedAt(seedLo, seedHi, t.t0, t.t1, t.tKey, pulseIndex[i]);
}

/** Marks a pulse a SettingsRecord holds no settings for. */
export const NOT_RECORDED = 255;

/**
 * Packed settings already looked up at ascending pulse indices (NOT_RECORDED where
 * not): the source's record of the pulses it had to know anyway (the sampler's
 * detections), so that Alice need not hash them a second time.
 */
export interface SettingsRecord {
  pulseIndex: Float64Array;
  settings: Uint8Array;
}

/**
 * packedSettingsInto for ascending pulse indices, taking each one the record holds from
 * it (a merge of the two ascending lists) and hashing the rest: the same output, since
 * the record holds packedSettings values. A loop that wants each setting as it goes
 * (Alice's sifting) takes the same two steps, recordFrom and recordedOrHashed (and the
 * record's next entry directly while it is the next pulse's, with settings).
 */
export function packedSettingsFrom(t: SettingsTable, pulseIndex: ArrayLike<number>, out: Uint8Array, record: SettingsRecord): void {
  const n = pulseIndex.length;
  const rp = record.pulseIndex;
  const rs = record.settings;
  const m = Math.min(rp.length, rs.length);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const pos = pulseIndex[i];
    j = recordFrom(rp, m, j, pos);
    out[i] = recordedOrHashed(t, rp, rs, m, j, pos);
  }
}

/** The first of the record's first m entries at or after pulse `pos`, searching on from entry j: a step of the merge. */
export function recordFrom(rp: Float64Array, m: number, j: number, pos: number): number {
  while (j < m && rp[j] < pos) j++;
  return j;
}

/** Pulse `pos`'s packed settings: the record's entry j (from recordFrom) if it holds them, else hashed. */
export function recordedOrHashed(t: SettingsTable, rp: Float64Array, rs: Uint8Array, m: number, j: number, pos: number): number {
  const s = j < m && rp[j] === pos ? rs[j] : NOT_RECORDED;
  return s !== NOT_RECORDED ? s : packedAt(t.seedLo | 0, t.seedHi | 0, t.t0, t.t1, t.tKey, pos);
}

/** packedSettings from the pulse index (hot loops). */
function packedAt(seedLo: number, seedHi: number, t0: number, t1: number, tKey: number, pos: number): number {
  const hi = Math.floor(pos * 2.3283064365386963e-10); // / 2^32, exact
  return packedFromHash(hashIndexHalves(seedLo, seedHi, pos - hi * 4294967296, hi), t0, t1, tKey);
}

/** A pulse's packed settings from its hashIndex value and the table's thresholds: bit 0 the bit, bit 1 the basis, bits 2-3 the intensity class. */
export function packedFromHash(h: number, t0: number, t1: number, tKey: number): number {
  const u = h >>> 16;
  // Branch-free comparisons (the outcomes are coin flips): (u >= t0) + (u >= t1).
  const intensity = ((t0 - 1 - u) >>> 31) + ((t1 - 1 - u) >>> 31);
  const basis = (tKey - 1 - ((h >>> 1) & 0x7fff)) >>> 31;
  return (h & 1) | (basis << 1) | (intensity << 2);
}
