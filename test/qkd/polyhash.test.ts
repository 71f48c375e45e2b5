import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fe61FromWords, polyHash61 } from '../../firmware/qkd/polyhash.ts';

const P = (1n << 61n) - 1n;

/** Reference: the same polynomial with BigInt arithmetic. */
function reference(bytes: Uint8Array, k: bigint): bigint {
  let h = 0n;
  const words = (bytes.length + 3) >> 2;
  for (let w = 0; w <= words; w++) {
    let m = BigInt(bytes.length);
    if (w < words) {
      m = 0n;
      for (let b = 3; b >= 0; b--) m = (m << 8n) | BigInt(bytes[4 * w + b] ?? 0);
    }
    h = ((h + m) * k) % P;
  }
  return h;
}

describe('polynomial hash over GF(2^61 - 1)', () => {
  it('equals a BigInt reference (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (bytes, hi, lo) => {
        const key = fe61FromWords(hi, lo);
        const h = polyHash61(bytes, key);
        expect((BigInt(h.hi) << 32n) + BigInt(h.lo)).toBe(reference(bytes, (BigInt(key.hi) << 32n) + BigInt(key.lo)));
      }),
      { numRuns: 300 },
    );
  });

  it('handles keys next to the modulus', () => {
    const bytes = new Uint8Array([255, 255, 255, 255, 1, 2, 3]);
    for (const key of [{ hi: 2 ** 29 - 1, lo: 2 ** 32 - 2 }, { hi: 0, lo: 1 }, { hi: 2 ** 29 - 1, lo: 0 }]) {
      const h = polyHash61(bytes, key);
      expect((BigInt(h.hi) << 32n) + BigInt(h.lo)).toBe(reference(bytes, (BigInt(key.hi) << 32n) + BigInt(key.lo)));
    }
  });

  it('distinguishes a message from its zero-extended copy (length is hashed)', () => {
    const key = fe61FromWords(0x1234567, 0x89abcdef);
    const a = polyHash61(new Uint8Array([1, 2, 3]), key);
    const b = polyHash61(new Uint8Array([1, 2, 3, 0]), key);
    expect(a).not.toEqual(b);
  });
});
