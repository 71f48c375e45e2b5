import fc from 'fast-check';
import { expect } from 'vitest';
import { isProtocolError } from '../../protocols/errors.ts';

/** Property: `decode` of any value of `arb` returns or throws a ProtocolError, nothing else. */
export function assertOnlyProtocolErrors<T>(arb: fc.Arbitrary<T>, decode: (input: T) => unknown, params: { numRuns: number; seed: number }): void {
  fc.assert(
    fc.property(arb, (input) => {
      try {
        decode(input);
      } catch (e) {
        expect(isProtocolError(e), String(e)).toBe(true);
      }
    }),
    params,
  );
}
