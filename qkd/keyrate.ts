/**
 * Finite-key decoy-state BB84 bounds of Lim, Curty, Walenta, Xu, Zbinden,
 * PRA 89, 022307 (2014): three intensities, key basis `key` (their X) and test
 * basis `test` (their Z). Pure maths plus input validation that names the bad field.
 */
import { assertDecoyConditions, decoyViolation } from './decoy-conditions.ts';
import { binaryEntropy } from './entropy.ts';

export type Triple = [number, number, number];

export interface BasisCounts {
  /** Detections per intensity class in this basis. */
  n: Triple;
  /** Errors among them. */
  m: Triple;
}

export interface KeyRateInput {
  mu: Triple;
  p: Triple;
  eps_sec: number;
  eps_cor: number;
  key: BasisCounts;
  test: BasisCounts;
  /** Bits disclosed by error correction (and anything else revealed about the key). */
  lambda_ec: number;
  /**
   * Relative uncertainty delta of the intensities: the source emitted some mu'_k in
   * [mu_k (1 - delta), mu_k (1 + delta)] (monitor accuracy plus the drift FDIR tolerates).
   * The bound is taken at the worst case over those intervals. Default 0.
   */
  mu_rel_uncertainty?: number;
}

export interface KeyRateResult {
  s0: number;
  s1: number;
  s0_test: number;
  s1_test: number;
  v1_test: number;
  phi: number;
  lambda_ec: number;
  length: number;
}

export class KeyRateInputError extends Error {
  override readonly name = 'KeyRateInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export const DEFAULT_EPS_SEC = 1e-10;
export const DEFAULT_EPS_COR = 1e-15;

/** tau_n = sum_k p_k e^-k k^n / n! : probability that an n-photon state is sent. */
export function tau(n: 0 | 1, mu: Triple, p: Triple): number {
  let t = 0;
  for (let i = 0; i < 3; i++) t += p[i] * Math.exp(-mu[i]) * (n === 0 ? 1 : mu[i]);
  return t;
}

/** Hoeffding-corrected expected counts n^±(k) = e^k/p_k (n_k ± delta). */
function corrected(counts: Triple, mu: Triple, p: Triple, epsSec: number): { plus: Triple; minus: Triple } {
  const total = counts[0] + counts[1] + counts[2];
  const delta = Math.sqrt((total / 2) * Math.log(21 / epsSec));
  const plus = [0, 0, 0] as Triple;
  const minus = [0, 0, 0] as Triple;
  for (let i = 0; i < 3; i++) {
    const f = Math.exp(mu[i]) / p[i];
    plus[i] = f * (counts[i] + delta);
    minus[i] = f * (counts[i] - delta);
  }
  return { plus, minus };
}

/**
 * Lower bounds on vacuum and single-photon events from the counts of one basis.
 * Vacuum and single-photon events are disjoint subsets of the detections they are
 * estimated from, so s0 + s1 never exceeds them (the cap binds only where Hoeffding
 * corrections and p_k weights overshoot on few counts).
 */
export function vacuumAndSinglePhoton(n: Triple, mu: Triple, p: Triple, epsSec: number): { s0: number; s1: number } {
  const [mu1, mu2, mu3] = mu;
  const detections = n[0] + n[1] + n[2];
  const { plus, minus } = corrected(n, mu, p, epsSec);
  const t0 = tau(0, mu, p);
  const t1 = tau(1, mu, p);
  const s0raw = Math.max(0, (t0 * (mu2 * minus[2] - mu3 * plus[1])) / (mu2 - mu3));
  const s1raw =
    (t1 * mu1 * (minus[1] - plus[2] - ((mu2 * mu2 - mu3 * mu3) / (mu1 * mu1)) * (plus[0] - s0raw / t0))) /
    (mu1 * (mu2 - mu3) - mu2 * mu2 + mu3 * mu3);
  const s0 = Math.min(s0raw, detections);
  return { s0, s1: Math.min(Math.max(0, s1raw), detections - s0) };
}

/** Upper bound on single-photon errors from the error counts m of the test basis. */
export function singlePhotonErrors(m: Triple, mu: Triple, p: Triple, epsSec: number): number {
  const { plus, minus } = corrected(m, mu, p, epsSec);
  return Math.max(0, (tau(1, mu, p) * (plus[1] - minus[2])) / (mu[1] - mu[2]));
}

/** gamma(a, b, c, d) of Lim et al.: the finite-sample correction on the phase error rate. */
export function gamma(a: number, b: number, c: number, d: number): number {
  if (b <= 0 || b >= 1 || c <= 0 || d <= 0) return b <= 0 ? 0 : Infinity;
  const inner = ((c + d) / (c * d * (1 - b) * b)) * ((21 * 21) / (a * a));
  return Math.sqrt((((c + d) * (1 - b) * b) / (c * d * Math.LN2)) * Math.log2(inner));
}

/**
 * The intensity triples the source may have emitted when it is known only within
 * mu_k (1 ± delta): every end of every interval (a vacuum class stays vacuum). The
 * bound is evaluated at each and the worst kept, rather than at the ends worked out
 * by hand, because which end is worst depends on the counts. For the Micius-class
 * figures (mu = 0.8/0.1/0, decoy counts of order 5 % of the signal's) it is:
 *  - s1 (lower bound): mu2 at its upper end, mu1 at its lower end. The single-photon
 *    yield is read from the decoy's counts over the vacuum's divided by mu2 (the
 *    1 / (mu1 mu2 - mu2^2) factor), so assuming more decoy photons than were sent
 *    credits fewer of its clicks to single photons; a smaller mu1 makes the
 *    multi-photon part subtracted from them, (mu2 / mu1)^2 e^mu1 n1, larger.
 *  - v1 (upper bound on single-photon errors, hence phi): mu2 at its lower end and
 *    mu1 at its upper end. The decoy's excess errors are divided by mu2 - mu3 (fewer
 *    assumed photons: more errors per photon), and tau1 = sum p_k mu_k e^-mu_k grows
 *    with mu1 below one photon per pulse.
 * s1 and v1 take their worst cases independently (each at its own corner), which can
 * only lower the key further: a bound over the whole interval.
 */
export function intensityCorners(mu: Triple, delta: number): Triple[] {
  if (!(delta > 0)) return [mu];
  const ends = mu.map((m) => (m > 0 ? [m * (1 - delta), m * (1 + delta)] : [m]));
  const out: Triple[] = [];
  for (const a of ends[0]) for (const b of ends[1]) for (const c of ends[2]) out.push([a, b, c]);
  return out;
}

/** The key length of a block. Refuses (DecoyConditionError) intensities outside the decoy-state conditions. */
export function keyLength(input: KeyRateInput): KeyRateResult {
  const { mu, p, eps_sec: epsSec, eps_cor: epsCor, lambda_ec: lambda } = input;
  assertDecoyConditions(mu, p);
  const delta = input.mu_rel_uncertainty ?? 0;
  let s0 = Infinity;
  let s1 = Infinity;
  let s0Test = Infinity;
  let s1Test = Infinity;
  let v1Test = -Infinity;
  for (const m of intensityCorners(mu, delta)) {
    // Every intensity the source may have emitted must itself satisfy the conditions.
    if (delta > 0) assertDecoyConditions(m, p);
    const key = vacuumAndSinglePhoton(input.key.n, m, p, epsSec);
    const test = vacuumAndSinglePhoton(input.test.n, m, p, epsSec);
    s0 = Math.min(s0, key.s0);
    s1 = Math.min(s1, key.s1);
    s0Test = Math.min(s0Test, test.s0);
    s1Test = Math.min(s1Test, test.s1);
    v1Test = Math.max(v1Test, singlePhotonErrors(input.test.m, m, p, epsSec));
  }
  let phi: number;
  if (s1Test <= 0 || s1 <= 0) phi = 0.5;
  else {
    const ratio = v1Test / s1Test;
    phi = Math.min(0.5, ratio + gamma(epsSec, ratio, s1Test, s1));
  }
  const raw =
    s0 + s1 - s1 * binaryEntropy(phi) - lambda - 6 * Math.log2(21 / epsSec) - Math.log2(2 / epsCor);
  const length = s1 > 0 && phi < 0.5 && raw > 0 ? Math.floor(raw) : 0;
  const result = { s0, s1, s0_test: s0Test, s1_test: s1Test, v1_test: v1Test, phi, lambda_ec: lambda, length };
  // Never a NaN or infinite answer (it would print as null): parseKeyRateInput keeps inputs in range.
  for (const [k, v] of Object.entries(result)) if (!Number.isFinite(v)) throw new KeyRateInputError(k, `bound is not finite (${v}) for these inputs`);
  return result;
}

/** lambda_EC = f * n * h(m/n) over all key-basis detections. */
export function lambdaFromEfficiency(fEc: number, key: BasisCounts): number {
  const n = key.n[0] + key.n[1] + key.n[2];
  const m = key.m[0] + key.m[1] + key.m[2];
  return n > 0 ? fEc * n * binaryEntropy(m / n) : 0;
}

// ---- validation of untrusted input (the keyrate CLI, telemetry checks) ----

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Three finite non-negative numbers; `counts`: whole numbers no larger than 2^53 - 1 (event counts). */
function triple(v: unknown, field: string, counts: boolean): Triple {
  if (!Array.isArray(v) || v.length !== 3) throw new KeyRateInputError(field, 'expected an array of 3 numbers');
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new KeyRateInputError(`${field}[${i}]`, `expected a finite number (got ${JSON.stringify(x)})`);
    if (x < 0) throw new KeyRateInputError(`${field}[${i}]`, `must not be negative (got ${x})`);
    if (counts && !Number.isSafeInteger(x)) throw new KeyRateInputError(`${field}[${i}]`, `a count must be a whole number up to 2^53 - 1 (got ${x})`);
  });
  return [v[0], v[1], v[2]];
}

function epsilon(v: unknown, field: string, dflt: number): number {
  if (v === undefined) return dflt;
  // 21/eps must stay finite: the bound takes log(21/eps).
  if (typeof v !== 'number' || !(v > 0 && v < 1) || !Number.isFinite(21 / v)) {
    throw new KeyRateInputError(field, `expected a number in (0, 1), not below 1e-300 (got ${JSON.stringify(v)})`);
  }
  return v;
}

function basisCounts(v: unknown, field: string): BasisCounts {
  if (!isObject(v)) throw new KeyRateInputError(field, 'expected an object { n: [..3], m: [..3] }');
  const n = triple(v.n, `${field}.n`, true);
  const m = triple(v.m, `${field}.m`, true);
  for (let i = 0; i < 3; i++) {
    if (m[i] > n[i]) throw new KeyRateInputError(`${field}.m[${i}]`, `errors (${m[i]}) exceed detections (${n[i]})`);
  }
  if (!Number.isSafeInteger(n[0] + n[1] + n[2])) throw new KeyRateInputError(`${field}.n`, `total detections ${n[0] + n[1] + n[2]} exceed 2^53 - 1`);
  return { n, m };
}

/** Parse and check a keyrate input object; throws KeyRateInputError naming the field. */
export function parseKeyRateInput(v: unknown): KeyRateInput {
  if (!isObject(v)) throw new KeyRateInputError('(root)', 'expected a JSON object');
  const mu = triple(v.mu, 'mu', false);
  const p = triple(v.p, 'p', false);
  p.forEach((x, i) => {
    if (!(x > 0 && x <= 1)) throw new KeyRateInputError(`p[${i}]`, `each probability must be in (0, 1] (got ${x})`);
  });
  const decoy = decoyViolation(mu, p);
  // "p: probabilities must sum to 1" keeps the wording scripts grep for.
  if (decoy) throw new KeyRateInputError(decoy.field, decoy.field === 'p' ? `probabilities must sum to 1: ${decoy.message}` : decoy.message);
  mu.forEach((x, i) => {
    // The bound weights counts by e^mu/p: it must stay finite for any count below 2^54.
    if (!Number.isFinite((Math.exp(x) / p[i]) * 2 ** 54)) throw new KeyRateInputError(`mu[${i}]`, `${x} is too large for p[${i}] = ${p[i]} (e^mu/p overflows)`);
  });
  const epsSec = epsilon(v.eps_sec, 'eps_sec', DEFAULT_EPS_SEC);
  const epsCor = epsilon(v.eps_cor, 'eps_cor', DEFAULT_EPS_COR);
  const key = basisCounts(v.key, 'key');
  const test = basisCounts(v.test, 'test');
  const delta = muRelUncertainty(v.mu_rel_uncertainty, mu, p);
  let lambda: number;
  if (v.lambda_ec !== undefined) {
    if (v.f_ec !== undefined) throw new KeyRateInputError('lambda_ec', 'give either lambda_ec or f_ec, not both');
    if (typeof v.lambda_ec !== 'number' || !(v.lambda_ec >= 0) || !Number.isFinite(v.lambda_ec)) {
      throw new KeyRateInputError('lambda_ec', 'expected a non-negative number');
    }
    lambda = v.lambda_ec;
  } else if (v.f_ec !== undefined) {
    if (typeof v.f_ec !== 'number' || !(v.f_ec >= 1) || !Number.isFinite(v.f_ec)) {
      throw new KeyRateInputError('f_ec', 'expected a number >= 1');
    }
    lambda = lambdaFromEfficiency(v.f_ec, key);
    if (!Number.isFinite(lambda)) throw new KeyRateInputError('f_ec', `${v.f_ec} gives an infinite lambda_ec`);
  } else {
    throw new KeyRateInputError('lambda_ec', 'missing: give lambda_ec or f_ec');
  }
  return { mu, p, eps_sec: epsSec, eps_cor: epsCor, key, test, lambda_ec: lambda, ...(delta > 0 ? { mu_rel_uncertainty: delta } : {}) };
}

/** The intensities' relative uncertainty: in [0, 0.5), and every intensity within it must keep the decoy-state conditions. */
function muRelUncertainty(v: unknown, mu: Triple, p: Triple): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v < 0.5)) throw new KeyRateInputError('mu_rel_uncertainty', `expected a number in [0, 0.5) (got ${JSON.stringify(v)})`);
  for (const m of intensityCorners(mu, v)) {
    const bad = decoyViolation(m, p);
    if (bad) throw new KeyRateInputError('mu_rel_uncertainty', `${v} lets the intensities leave the decoy-state conditions: ${bad.message}`);
  }
  return v;
}
