import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { privacyAmplify } from '../../qkd/block.ts';
import { toeplitzHash, toeplitzNaive, toeplitzSeedBits } from '../../qkd/toeplitz.ts';

const bitsArb = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max, min: 0, max: 1 });

describe('Toeplitz privacy amplification', () => {
  it('FFT product equals the naive O(n l) product (property)', () => {
    fc.assert(
      fc.property(bitsArb(1, 600), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 2 ** 40 }), (x, lRaw, seed) => {
        const l = Math.min(lRaw, x.length + 50);
        const s = toeplitzSeedBits(seed, x.length + l - 1);
        expect(Array.from(toeplitzHash(x, s, l))).toEqual(Array.from(toeplitzNaive(x, s, l)));
      }),
      { numRuns: 150 },
    );
  });

  it('chunked transform (n much larger than l) equals the naive product', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3000, max: 40000 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 1e9 }), (n, l, seed) => {
        const x = toeplitzSeedBits(seed + 1, n);
        const s = toeplitzSeedBits(seed, n + l - 1);
        expect(Array.from(toeplitzHash(x, s, l))).toEqual(Array.from(toeplitzNaive(x, s, l)));
      }),
      { numRuns: 12 },
    );
  });

  it('is linear over GF(2): T(x xor y) = Tx xor Ty', () => {
    const n = 5000;
    const l = 1000;
    const s = toeplitzSeedBits(9, n + l - 1);
    const x = toeplitzSeedBits(1, n);
    const y = toeplitzSeedBits(2, n);
    const xy = x.map((b, i) => b ^ y[i]);
    const a = toeplitzHash(xy, s, l);
    const b = toeplitzHash(x, s, l).map((v, i) => v ^ toeplitzHash(y, s, l)[i]);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('privacy amplification at the shape of a pass (l about n/5, several chunks, a short last one) is the plain product bit for bit (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 6000, max: 14000 }), fc.double({ min: 0.15, max: 0.3, noNaN: true }), fc.integer({ min: 0, max: 2 ** 40 }), (n, ratio, seed) => {
        const l = Math.round(ratio * n);
        const x = toeplitzSeedBits(seed ^ 0x55, n);
        const plain = toeplitzNaive(x, toeplitzSeedBits(seed, n + l - 1), l);
        expect(Array.from(privacyAmplify(x, l, seed))).toEqual(Array.from(plain));
      }),
      { numRuns: 8, seed: 20261130 },
    );
  });

  it('rejects a seed of the wrong length', () => {
    expect(() => toeplitzHash(new Uint8Array(10), new Uint8Array(5), 3)).toThrow(/seed/);
  });
});
