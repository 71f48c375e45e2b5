/** Distillation settings shared by both ends (they must agree on every value). */
import { assertDecoyConditions } from './decoy-conditions.ts';
import { DEFAULT_EPS_COR, DEFAULT_EPS_SEC, intensityCorners, type Triple } from './keyrate.ts';

export interface DistillConfig {
  /** Mean photon numbers of signal, decoy, vacuum (mu1 > mu2 + mu3, mu2 > mu3 >= 0). */
  mu: Triple;
  /** Sending probabilities of the three intensities. */
  p: Triple;
  /** Probability of the key basis at Alice (Bob's passive choice is 1/2). */
  pKeyBasis: number;
  epsSec: number;
  epsCor: number;
  /** Key-basis sifted bits per block. */
  blockBits: number;
  /** Fewer key bits than this at the end of a pass: block discarded (TOO_FEW_COUNTS). */
  minBlockBits: number;
  /** Abort above this test-basis QBER of the signal intensity. */
  qberMax: number;
  /** Abort above this phase-error bound. */
  phiMax: number;
  /** EC efficiency assumed when checking a block is worth correcting. */
  fPredicted: number;
  /** Independent polynomial hashes in error verification (each 61 bits). */
  verifyLanes: number;
  /**
   * Relative uncertainty of the emitted intensities: the source is known to emit within
   * mu (1 ± this), and the key bound takes the worst case (keyrate.ts). The payload's
   * figure is firmware/source.ts intensityUncertaintyRel: the drift FDIR tolerates plus
   * the monitor's accuracy.
   */
  muRelUncertainty: number;
}

export const DEFAULT_DISTILL_CONFIG: DistillConfig = {
  mu: [0.8, 0.1, 0],
  p: [0.5, 0.25, 0.25],
  pKeyBasis: 0.5,
  epsSec: DEFAULT_EPS_SEC,
  epsCor: DEFAULT_EPS_COR,
  blockBits: 1_000_000,
  minBlockBits: 50_000,
  qberMax: 0.06,
  phiMax: 0.2,
  fPredicted: 1.1,
  verifyLanes: 2,
  // INTENSITY_DRIFT_MAX_PCT (5 %) + the monitor photodiode's accuracy (1 %), as the payload states it.
  muRelUncertainty: 0.06,
};

/**
 * Refuses a configuration the key-rate bound does not hold for: throws
 * DecoyConditionError naming the values. Both distillers call it before their first
 * detection, so no block is ever assessed under broken decoy-state conditions.
 */
export function checkDistillConfig(cfg: DistillConfig): DistillConfig {
  assertDecoyConditions(cfg.mu, cfg.p);
  // Every intensity the source may emit within the uncertainty must keep the conditions too.
  for (const mu of intensityCorners(cfg.mu, cfg.muRelUncertainty)) assertDecoyConditions(mu, cfg.p);
  return cfg;
}
