/**
 * The sampler's table log against Math.log: the gap to the next candidate must be
 * floor(ln((v + 1) / 2^32) / logQ) exactly as Math.log gives it, for any draw v,
 * including the draws whose quotient lies next to an integer (where a log a few ulps
 * off would change the floor).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gapFast, gapOf, gapTolerance } from '../../boards/sim/detection.ts';
import { Rng } from '../../qkd/random.ts';

/** The plain definition. */
const reference = (v: number, logQ: number) => Math.floor(Math.log((v + 1) / 4294967296) / logQ);

/** yMax from 1e-9 to 0.5, log-uniform. */
const logQArb = fc.double({ min: -9, max: Math.log10(0.5), noNaN: true }).map((e) => Math.log1p(-(10 ** e)));

/** gapOf gives the Math.log gap, and gapFast gives it too or gives up (Infinity). */
function expectGapExact(v: number, logQ: number): void {
  const tol = gapTolerance(logQ);
  const ref = reference(v, logQ);
  expect(gapOf(v, logQ, 1 / logQ, tol)).toBe(ref);
  const g = gapFast(v, 1 / logQ, tol);
  if (g !== Infinity) expect(g).toBe(ref);
}

describe('table-log gap', () => {
  it('equals Math.log floors for random draws (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), logQArb, (v, logQ) => {
        expectGapExact(v, logQ);
      }),
      { numRuns: 20000, seed: 20261201 },
    );
  });

  it('the fast path takes all but ~1e-4 of the gaps at a pass\'s yields (yMax >= 1e-5)', () => {
    const rng = new Rng(5, 1);
    let slow = 0;
    let wrong = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const logQ = Math.log1p(-(10 ** (-5 + (4.7 * i) / n)));
      const v = rng.nextU32();
      const g = gapFast(v, 1 / logQ, gapTolerance(logQ));
      if (g === Infinity) slow++;
      else if (g !== reference(v, logQ)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(slow / n).toBeLessThan(1e-3);
  });

  it('equals Math.log floors at the draws where the gap steps from k - 1 to k (property)', () => {
    fc.assert(
      fc.property(logQArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: -3, max: 3 }), (logQ, at, dv) => {
        // ln((v + 1) / 2^32) = k logQ at v + 1 = 2^32 q^k: the draws next to it.
        const k = Math.floor(at * (-22.18 / logQ));
        const v = Math.min(2 ** 32 - 1, Math.max(0, Math.round(4294967296 * Math.exp(k * logQ)) - 1 + dv));
        expectGapExact(v, logQ);
      }),
      { numRuns: 20000, seed: 20261202 },
    );
  });

  it('small draws (below the tables) go to Math.log', () => {
    const logQ = Math.log1p(-1e-4);
    for (const v of [0, 1, 255]) {
      expect(gapFast(v, 1 / logQ, gapTolerance(logQ))).toBe(Infinity);
      expect(gapOf(v, logQ, 1 / logQ, gapTolerance(logQ))).toBe(reference(v, logQ));
    }
  });
});
