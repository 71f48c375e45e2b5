/**
 * Per-pulse source settings from a counter-based hash of (seed, pulse index): any
 * pulse's intensity class, basis and bit in O(1). The one definition shared by the
 * source-board emulator, the channel simulation and Alice's distillation.
 */
import { hashIndex, seedHalves } from './random.ts';

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
