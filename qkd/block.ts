/**
 * Per-block decisions both ends compute identically from the same public counts:
 * parameter estimation (Lim et al. bound), abort rules, error verification hashes
 * and privacy amplification.
 */
import type { AbortReason } from '../protocols/qkd-messages.ts';
import type { DistillConfig } from './config.ts';
import { packBits } from './bits.ts';
import { binaryEntropy } from './entropy.ts';
import { keyLength, type KeyRateResult, type Triple } from './keyrate.ts';
import { fe61FromWords, polyHash61 } from './polyhash.ts';
import { hashIndex, seedHalves } from './random.ts';
import { paHash } from './pa-hash.ts';

export interface BlockCounts {
  keyN: Triple;
  testN: Triple;
  testM: Triple;
}

export interface Assessment {
  reason: AbortReason;
  rate: KeyRateResult;
  /** Test-basis QBER of the signal intensity (the pre-EC estimate). */
  qberTestSignal: number;
  /** Test-basis QBER over all intensities (sets Cascade block sizes). */
  qberTest: number;
}

export function assessBlock(cfg: DistillConfig, c: BlockCounts, lambdaEc: number): Assessment {
  const keyTotal = c.keyN[0] + c.keyN[1] + c.keyN[2];
  const testTotal = c.testN[0] + c.testN[1] + c.testN[2];
  const qberTestSignal = c.testN[0] > 0 ? c.testM[0] / c.testN[0] : 1;
  const qberTest = testTotal > 0 ? (c.testM[0] + c.testM[1] + c.testM[2]) / testTotal : 1;
  const rate = keyLength({
    mu: cfg.mu,
    p: cfg.p,
    eps_sec: cfg.epsSec,
    eps_cor: cfg.epsCor,
    key: { n: c.keyN, m: [0, 0, 0] },
    test: { n: c.testN, m: c.testM },
    lambda_ec: lambdaEc,
    mu_rel_uncertainty: cfg.muRelUncertainty,
  });
  let reason: AbortReason = 'NONE';
  if (keyTotal < cfg.minBlockBits || c.testN[0] === 0 || c.testN[1] === 0 || c.testN[2] === 0) reason = 'TOO_FEW_COUNTS';
  else if (qberTestSignal > cfg.qberMax) reason = 'QBER_TOO_HIGH';
  else if (rate.phi > cfg.phiMax) reason = 'PHASE_ERROR_TOO_HIGH';
  else if (rate.length <= 0) reason = 'NO_SECURE_KEY';
  return { reason, rate, qberTestSignal, qberTest };
}

/** The leakage assumed before EC runs, to decide whether a block is worth correcting. */
export function predictedLeak(cfg: DistillConfig, keyBits: number, qber: number): number {
  return cfg.fPredicted * keyBits * binaryEntropy(Math.min(0.5, qber));
}

/** Bits revealed by error verification. */
export function verifyHashBits(cfg: DistillConfig): number {
  return 61 * cfg.verifyLanes;
}

/** Key bits (0/1 bytes) packed LSB-first into bytes for hashing: the packed words' little-endian bytes. */
export function packToBytes(bits: Uint8Array): Uint8Array {
  return new Uint8Array(packBits(bits).buffer, 0, (bits.length + 7) >>> 3);
}

/** Error-verification hash: `lanes` independent polynomial hashes keyed from a public seed. */
export function verificationHash(bits: Uint8Array, hashSeed: number, lanes: number): Uint32Array {
  const bytes = packToBytes(bits);
  const { lo, hi } = seedHalves(hashSeed);
  const out = new Uint32Array(lanes * 2);
  for (let i = 0; i < lanes; i++) {
    const key = fe61FromWords(hashIndex(lo, hi, 2 * i), hashIndex(lo, hi, 2 * i + 1));
    const h = polyHash61(bytes, key);
    out[2 * i] = h.hi;
    out[2 * i + 1] = h.lo;
  }
  return out;
}

/**
 * Privacy amplification of a corrected block to `lengthBits` with a public seed: the
 * strongly universal multiply-add-shift hash (pa-hash.ts), the one PA both ends run.
 */
export function privacyAmplify(bits: Uint8Array, lengthBits: number, paSeed: number): Uint8Array {
  return paHash(bits, lengthBits, paSeed);
}

