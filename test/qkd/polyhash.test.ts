import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fe61FromWords, polyHash61 } from '../../qkd/polyhash.ts';
import { polyReference } from './poly-reference.ts';


describe('polynomial hash over GF(2^61 - 1)', () => {
  it('equals a BigInt reference (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (bytes, hi, lo) => {
        const key = fe61FromWords(hi, lo);
        const h = polyHash61(bytes, key);
        expect((BigInt(h.hi) << 32n) + BigInt(h.lo)).toBe(polyReference(bytes, (BigInt(key.hi) << 32n) + BigInt(key.lo)));
      }),
      { numRuns: 300 },
    );
  });

  it('handles keys next to the modulus', () => {
    const bytes = new Uint8Array([255, 255, 255, 255, 1, 2, 3]);
    for (const key of [{ hi: 2 ** 29 - 1, lo: 2 ** 32 - 2 }, { hi: 0, lo: 1 }, { hi: 2 ** 29 - 1, lo: 0 }]) {
      const h = polyHash61(bytes, key);
      expect((BigInt(h.hi) << 32n) + BigInt(h.lo)).toBe(polyReference(bytes, (BigInt(key.hi) << 32n) + BigInt(key.lo)));
    }
  });

  it('distinguishes a message from its zero-extended copy (length is hashed)', () => {
    const key = fe61FromWords(0x1234567, 0x89abcdef);
    const a = polyHash61(new Uint8Array([1, 2, 3]), key);
    const b = polyHash61(new Uint8Array([1, 2, 3, 0]), key);
    expect(a).not.toEqual(b);
  });
});
