/**
 * The conditions the three-intensity decoy-state bound of Lim et al. (2014) rests on:
 *   mu1 > mu2 + mu3,  mu2 > mu3 >= 0,  every p_k > 0,  p1 + p2 + p3 = 1.
 * Outside them the single-photon lower bound s1 is not a bound at all (its
 * denominator mu1(mu2 - mu3) - mu2^2 + mu3^2 changes sign, or tau_n is not a
 * probability), and a "secure" key can be longer than the bits it is cut from.
 * One pure check, used wherever intensities and probabilities enter: the key-rate
 * bound, the distiller configuration, the flashed configuration and SET_PARAM.
 */

export type DecoyTriple = readonly [number, number, number];

/** How the caller calls the six values (dictionary names, config keys, mu1..). */
export interface DecoyNames {
  mu: readonly [string, string, string];
  p: readonly [string, string, string];
}

export const MATH_NAMES: DecoyNames = { mu: ['mu1', 'mu2', 'mu3'], p: ['p1', 'p2', 'p3'] };

/** The same six values as dictionary parameters (on-board parameters, config files). */
export const DECOY_PARAMS: DecoyNames = { mu: ['MU_SIGNAL', 'MU_DECOY', 'MU_VACUUM'], p: ['P_SIGNAL', 'P_DECOY', 'P_VACUUM'] };

/** Probabilities may carry rounding from decimal input; anything else is a wrong sum. */
export const P_SUM_TOLERANCE = 1e-9;

export interface DecoyViolation {
  /** Which group is wrong: the intensities or the probabilities. */
  field: 'mu' | 'p';
  /** The condition, in the caller's names: "MU_SIGNAL > MU_DECOY + MU_VACUUM". */
  condition: string;
  /** The values involved, in the caller's names: "MU_SIGNAL=0.3, MU_DECOY=0.25, MU_VACUUM=0.1". */
  values: string;
  /** One line: condition, then values. */
  message: string;
}

const fmt = (names: readonly string[], v: DecoyTriple) => names.map((n, i) => `${n}=${v[i]}`).join(', ');

/** The first condition that (mu, p) break, or null when the bound applies. */
export function decoyViolation(mu: DecoyTriple, p: DecoyTriple, names: DecoyNames = MATH_NAMES): DecoyViolation | null {
  const [m1, m2, m3] = names.mu;
  const [q1, q2, q3] = names.p;
  const bad = (field: 'mu' | 'p', condition: string): DecoyViolation => {
    const values = fmt(field === 'mu' ? names.mu : names.p, field === 'mu' ? mu : p);
    return { field, condition, values, message: `need ${condition}, got ${values}` };
  };
  if (!mu.every(Number.isFinite)) return bad('mu', `finite ${m1}, ${m2}, ${m3}`);
  if (!(mu[2] >= 0)) return bad('mu', `${m3} >= 0`);
  if (!(mu[1] > mu[2])) return bad('mu', `${m2} > ${m3}`);
  if (!(mu[0] > mu[1] + mu[2])) return bad('mu', `${m1} > ${m2} + ${m3}`);
  if (!p.every((x) => Number.isFinite(x) && x > 0 && x <= 1)) return bad('p', `each of ${q1}, ${q2}, ${q3} in (0, 1]`);
  const sum = p[0] + p[1] + p[2];
  if (Math.abs(sum - 1) > P_SUM_TOLERANCE) return bad('p', `${q1} + ${q2} + ${q3} = 1 (sum ${sum})`);
  return null;
}

/** The check on a parameter set by dictionary name (missing values count as not finite). */
export function decoyParamsViolation(params: Readonly<Record<string, number>>): DecoyViolation | null {
  const get = (names: readonly [string, string, string]) => names.map((n) => params[n] ?? NaN) as unknown as DecoyTriple;
  return decoyViolation(get(DECOY_PARAMS.mu), get(DECOY_PARAMS.p), DECOY_PARAMS);
}

/** The typed refusal: names the broken condition and the values. */
export class DecoyConditionError extends Error {
  override readonly name = 'DecoyConditionError';
  readonly field: 'mu' | 'p';
  constructor(
    readonly violation: DecoyViolation,
    readonly mu: DecoyTriple,
    readonly p: DecoyTriple,
  ) {
    super(`decoy-state conditions: ${violation.message}`);
    this.field = violation.field;
  }
}

/** Throws DecoyConditionError unless (mu, p) satisfy the decoy-state conditions. */
export function assertDecoyConditions(mu: DecoyTriple, p: DecoyTriple, names: DecoyNames = MATH_NAMES): void {
  const v = decoyViolation(mu, p, names);
  if (v) throw new DecoyConditionError(v, mu, p);
}
