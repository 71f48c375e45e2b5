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

describe('chunked polynomial hash (4 multiplies a word, two lanes)', () => {
  // Chunks of 32 words start at 128 whole words (512 bytes): lengths around those bounds,
  // all-ones words (the largest column sums) and keys next to the modulus.
  const lengths = [0, 1, 3, 4, 5, 127, 128, 129, 508, 511, 512, 513, 515, 516, 639, 640, 641, 644, 2048, 2051, 4096 + 130];
  const keyArb = fc.oneof(
    fc.tuple(fc.nat(), fc.nat()).map(([hi, lo]) => fe61FromWords(hi, lo)),
    fc.constantFrom({ hi: 2 ** 29 - 1, lo: 2 ** 32 - 2 }, { hi: 2 ** 29 - 1, lo: 2 ** 32 - 1 }, { hi: 2 ** 29 - 1, lo: 0 }, { hi: 0, lo: 1 }, { hi: 0, lo: 0 }),
  );
  it('equals the BigInt reference at chunk-boundary lengths, random or all-ones, aligned or not (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...lengths), fc.boolean(), fc.nat({ max: 3 }), keyArb, fc.nat(), (n, ones, skip, key, seed) => {
        const raw = new Uint8Array(n + skip);
        for (let i = 0; i < raw.length; i++) raw[i] = ones ? 255 : (Math.imul(seed + i, 2654435761) >>> 24) & 255;
        const bytes = raw.subarray(skip);
        const h = polyHash61(bytes, key);
        expect((BigInt(h.hi) << 32n) + BigInt(h.lo)).toBe(polyReference(bytes, (BigInt(key.hi) << 32n) + BigInt(key.lo)));
      }),
      { numRuns: 200, seed: 14 },
    );
  });
});
