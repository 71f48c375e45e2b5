import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyRateInputError, intensityCorners, keyLength, parseKeyRateInput, singlePhotonErrors, vacuumAndSinglePhoton, type KeyRateInput, type Triple } from '../../qkd/keyrate.ts';

/*
 * Expected values computed independently in Python straight from the formulas of
 * physics.md / Lim et al. 2014 (not from this code):
 *
 *   from math import exp, log, log2, sqrt, floor, factorial
 *   def h(x): return 0 if x<=0 or x>=1 else -x*log2(x)-(1-x)*log2(1-x)
 *   def calc(mu,p,es,ec,kn,km,tn,tm,lam=None,f=None):
 *     tau=[sum(p[k]*exp(-mu[k])*mu[k]**n/factorial(n) for k in range(3)) for n in (0,1)]
 *     def pm(c):
 *       N=sum(c); d=sqrt(N/2*log(21/es))
 *       return [exp(mu[k])/p[k]*(c[k]+d) for k in range(3)],[exp(mu[k])/p[k]*(c[k]-d) for k in range(3)]
 *     def s01(c):
 *       P,M=pm(c)
 *       s0=max(0,tau[0]*(mu[1]*M[2]-mu[2]*P[1])/(mu[1]-mu[2]))
 *       s1=tau[1]*mu[0]*(M[1]-P[2]-(mu[1]**2-mu[2]**2)/mu[0]**2*(P[0]-s0/tau[0]))/(mu[0]*(mu[1]-mu[2])-mu[1]**2+mu[2]**2)
 *       return s0,max(0,s1)
 *     s0,s1=s01(kn); s0z,s1z=s01(tn)
 *     P,M=pm(tm); v=max(0,tau[1]*(P[1]-M[2])/(mu[1]-mu[2]))
 *     b=v/s1z; g=sqrt((s1z+s1)*(1-b)*b/(s1z*s1*log(2))*log2((s1z+s1)/(s1z*s1*(1-b)*b)*21**2/es**2))
 *     phi=min(0.5,b+g)
 *     if lam is None: lam=f*sum(kn)*h(sum(km)/sum(kn))
 *     l=s0+s1-s1*h(phi)-lam-6*log2(21/es)-log2(2/ec)
 *     return dict(s0=s0,s1=s1,s1_test=s1z,v1_test=v,phi=phi,lambda_ec=lam,length=max(0,floor(l)))
 */
const cases = [
  {
    name: 'Micius-like intensities, f_ec given (the fixture file)',
    input: {
      mu: [0.8, 0.1, 0],
      p: [0.5, 0.25, 0.25],
      eps_sec: 1e-10,
      eps_cor: 1e-15,
      key: { n: [1700000, 93000, 150], m: [17500, 1050, 75] },
      test: { n: [1700000, 93000, 150], m: [17600, 1040, 74] },
      f_ec: 1.16,
    },
    want: { s0: 0, s1: 581027.4921808693, s1_test: 581027.4921808693, v1_test: 17120.064573281154, phi: 0.0324372944700667, lambda_ec: 173364.75195852065, length: 287420 },
  },
  {
    name: 'weak decoy mu3 > 0, other epsilons, lambda_ec given',
    input: {
      mu: [0.5, 0.1, 0.0002],
      p: [0.7, 0.2, 0.1],
      eps_sec: 1e-9,
      eps_cor: 1e-12,
      key: { n: [4000000, 180000, 2500], m: [40000, 2000, 1250] },
      test: { n: [900000, 45000, 700], m: [12000, 700, 350] },
      lambda_ec: 300000,
    },
    want: { s0: 0, s1: 1393564.2798335226, s1_test: 301715.9780448071, v1_test: 14965.525238937946, phi: 0.05348722972354476, lambda_ec: 300000, length: 673813 },
  },
  {
    name: 'large vacuum counts give a positive s0',
    input: {
      mu: [0.6, 0.2, 0.05],
      p: [0.6, 0.2, 0.2],
      eps_sec: 1e-10,
      eps_cor: 1e-15,
      key: { n: [300000, 60000, 40000], m: [3000, 900, 1500] },
      test: { n: [250000, 50000, 30000], m: [2600, 800, 1100] },
      lambda_ec: 40000,
    },
    want: { s0: 93982.95633788667, s1: 134094.56805097737, s1_test: 147178.39134231606, v1_test: 2967.173767613845, phi: 0.025290097611818226, lambda_ec: 40000, length: 164979 },
  },
];

describe('Lim et al. 2014 finite-key bound', () => {
  for (const c of cases) {
    it(`matches the hand calculation: ${c.name}`, () => {
      const r = keyLength(parseKeyRateInput(c.input));
      for (const [k, v] of Object.entries(c.want)) {
        const got = (r as unknown as Record<string, number>)[k];
        if (v === 0) expect(got, k).toBe(0);
        else expect(Math.abs(got - v) / Math.abs(v), k).toBeLessThan(1e-9);
      }
      expect(r.length).toBe(c.want.length);
    });
  }

  it('gives no key when the counts are too few for a single-photon bound', () => {
    const r = keyLength(
      parseKeyRateInput({
        mu: [0.8, 0.1, 0],
        p: [0.5, 0.25, 0.25],
        key: { n: [20000, 1000, 5], m: [2000, 110, 3] },
        test: { n: [20000, 1000, 5], m: [2100, 120, 2] },
        f_ec: 1.2,
      }),
    );
    expect(r.s1).toBe(0);
    expect(r.length).toBe(0);
  });

  it('more errors never give a longer key', () => {
    const base = cases[0].input;
    let last = Infinity;
    for (const m1 of [300, 1040, 3000, 8000, 30000]) {
      const r = keyLength(parseKeyRateInput({ ...base, test: { n: base.test.n, m: [17600, m1, 74] } }));
      expect(r.length).toBeLessThanOrEqual(last);
      last = r.length;
    }
    expect(last).toBe(0);
  });

  const bad: [string, (o: Record<string, unknown>) => void][] = [
    ['mu', (o) => (o.mu = [0.8, 0.1])],
    ['mu', (o) => (o.mu = [0.1, 0.1, 0])],
    ['p', (o) => (o.p = [0.5, 0.3, 0.3])],
    ['key.n', (o) => (o.key = { n: [1, 2], m: [0, 0, 0] })],
    ['key.n[1]', (o) => (o.key = { n: [1, -2, 3], m: [0, 0, 0] })],
    ['test.m[0]', (o) => (o.test = { n: [1, 2, 3], m: [-1, 0, 0] })],
    ['eps_sec', (o) => (o.eps_sec = 2)],
    ['lambda_ec', (o) => delete o.f_ec],
    // Issue 11: decoy conditions, fractional and astronomically large counts, overflowing parameters.
    ['mu', (o) => (o.mu = [0.3, 0.25, 0.1])],
    ['key.n[0]', (o) => (o.key = { n: [1700000.5, 93000, 150], m: [17500, 1050, 75] })],
    ['test.m[2]', (o) => (o.test = { n: [1700000, 93000, 150], m: [17600, 1040, 74.25] })],
    ['test.n[1]', (o) => (o.test = { n: [1700000, 1e308, 150], m: [17600, 1040, 74] })],
    ['key.n', (o) => (o.key = { n: [2 ** 52, 2 ** 52, 2 ** 52], m: [0, 0, 0] })],
    ['eps_sec', (o) => (o.eps_sec = 1e-320)],
    ['f_ec', (o) => (o.f_ec = 1e308)],
    ['mu[0]', (o) => (o.mu = [800, 0.1, 0])],
    // Issue 14: the intensities' uncertainty must be a fraction, and keep every intensity within it under the decoy conditions.
    ['mu_rel_uncertainty', (o) => (o.mu_rel_uncertainty = 0.6)],
    ['mu_rel_uncertainty', (o) => ((o.mu = [0.3, 0.14, 0.1]), (o.mu_rel_uncertainty = 0.2))],
  ];
  for (const [field, mutate] of bad) {
    it(`rejects bad ${field} naming the field`, () => {
      const o = structuredClone(cases[0].input) as Record<string, unknown>;
      mutate(o);
      expect(() => parseKeyRateInput(o)).toThrowError(KeyRateInputError);
      try {
        parseKeyRateInput(o);
      } catch (e) {
        expect((e as KeyRateInputError).field).toBe(field);
      }
    });
  }

  it('the CLI prints the output keys, and exits 1 naming the field on bad input data', () => {
    const ok = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/keyrate.ts', '-'], { input: JSON.stringify(cases[0].input), encoding: 'utf8' });
    expect(ok.status).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(Object.keys(out).sort()).toEqual(['lambda_ec', 'length', 'phi', 's0', 's1', 's1_test', 'v1_test']);
    expect(out.length).toBe(287420);
    const badP = { ...cases[0].input, p: [0.5, 0.25, 0.3] };
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/keyrate.ts', '-'], { input: JSON.stringify(badP), encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/\bp\b.*sum to 1/);
  });
});

describe('intensities known only within mu (1 ± delta)', () => {
  const P: Triple = [0.5, 0.25, 0.25];
  const NOMINAL: Triple = [0.8, 0.1, 0];
  /** Expected counts of a block when the source emitted `mu` (yield and error model of physics.md). */
  function block(mu: Triple, eta: number, ed: number, pulses: number): KeyRateInput {
    const y0 = 1e-7;
    const n = [0, 0, 0] as Triple;
    const m = [0, 0, 0] as Triple;
    for (let k = 0; k < 3; k++) {
      const y = 1 - (1 - y0) * Math.exp(-eta * mu[k]);
      n[k] = Math.round(pulses * P[k] * y);
      m[k] = Math.round((pulses * P[k] * (0.5 * y0 + ed * (1 - Math.exp(-eta * mu[k])))));
    }
    return { mu: NOMINAL, p: P, eps_sec: 1e-10, eps_cor: 1e-15, key: { n, m }, test: { n, m }, lambda_ec: 0 };
  }
  const scenario = fc.record({
    eta: fc.double({ min: 2e-4, max: 3e-3, noNaN: true }),
    ed: fc.double({ min: 0.003, max: 0.03, noNaN: true }),
    pulses: fc.double({ min: 2e9, max: 2e10, noNaN: true }),
    delta: fc.double({ min: 0.001, max: 0.08, noNaN: true }),
    // Where in each interval the true intensities lie: -1 = lower end, +1 = upper end.
    at: fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true })),
  });

  it('the corners: every end of every interval, a vacuum class staying vacuum', () => {
    expect(intensityCorners(NOMINAL, 0)).toEqual([NOMINAL]);
    const c = intensityCorners([0.5, 0.1, 0.01], 0.1);
    expect(c).toHaveLength(8);
    expect(c).toContainEqual([0.45, 0.11000000000000001, 0.009000000000000001]);
    expect(intensityCorners(NOMINAL, 0.1).every((m) => m[2] === 0)).toBe(true);
  });

  it('with delta > 0 the bound is never above the delta = 0 bound (property)', () => {
    fc.assert(
      fc.property(scenario, ({ eta, ed, pulses, delta }) => {
        const input = block(NOMINAL, eta, ed, pulses);
        const exact = keyLength(input);
        const wide = keyLength({ ...input, mu_rel_uncertainty: delta });
        expect(wide.s1).toBeLessThanOrEqual(exact.s1);
        // ... and strictly below it: the uncertainty is priced, not ignored.
        if (exact.s1 > 0) expect(wide.s1).toBeLessThan(exact.s1);
        expect(wide.v1_test).toBeGreaterThanOrEqual(exact.v1_test);
        expect(wide.phi).toBeGreaterThanOrEqual(exact.phi);
        expect(wide.length).toBeLessThanOrEqual(exact.length);
      }),
      { numRuns: 100, seed: 14 },
    );
  });

  it('with the true intensities off by up to delta, the bound stays below what the true intensities give (property)', () => {
    fc.assert(
      fc.property(scenario, ({ eta, ed, pulses, delta, at }) => {
        const truth: Triple = [NOMINAL[0] * (1 + at[0] * delta), NOMINAL[1] * (1 + at[1] * delta), 0];
        const input = block(truth, eta, ed, pulses);
        const bound = keyLength({ ...input, mu_rel_uncertainty: delta });
        const known = keyLength({ ...input, mu: truth });
        expect(bound.s1).toBeLessThanOrEqual(known.s1 * (1 + 1e-12));
        expect(bound.v1_test).toBeGreaterThanOrEqual(known.v1_test * (1 - 1e-12));
        expect(bound.length).toBeLessThanOrEqual(known.length);
      }),
      { numRuns: 100, seed: 15 },
    );
  });

  it('the worst ends are as keyrate.ts states: s1 at (mu1 low, mu2 high), v1 at (mu1 high, mu2 low)', () => {
    const { key, test } = block(NOMINAL, 1e-3, 0.01, 1e10);
    const d = 0.05;
    const s1 = (mu: Triple) => vacuumAndSinglePhoton(key.n, mu, P, 1e-10).s1;
    const v1 = (mu: Triple) => singlePhotonErrors(test.m, mu, P, 1e-10);
    const corners = intensityCorners(NOMINAL, d);
    expect(Math.min(...corners.map(s1))).toBe(s1([0.8 * (1 - d), 0.1 * (1 + d), 0]));
    expect(Math.max(...corners.map(v1))).toBe(v1([0.8 * (1 + d), 0.1 * (1 - d), 0]));
  });

  it('a 1 % uncertainty costs a few % of the key, not all of it', () => {
    const input = block(NOMINAL, 1e-3, 0.01, 1e10);
    const exact = keyLength(input).length;
    const wide = keyLength({ ...input, mu_rel_uncertainty: 0.01 }).length;
    expect(wide).toBeGreaterThan(0.9 * exact);
    expect(wide).toBeLessThan(exact);
  });
});
