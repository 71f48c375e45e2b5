/**
 * Privacy amplification by multiply-add-shift: the BigInt fast path against plain
 * references (per-bit schoolbook arithmetic; BigInts built bit by bit), and the
 * family's strong universality measured over many seeds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { privacyAmplify } from '../../qkd/block.ts';
import { bigIntToBits, bitsToBigInt, multiplyAddShift, paHash, paHashKey, paSeedStream, paWidthBits } from '../../qkd/pa-hash.ts';
import { hashIndex, seedHalves } from '../../qkd/random.ts';

const bitsArb = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max, min: 0, max: 1 });

/** The seed stream bit by bit: word i = hashIndex(seed, i), LSB first. */
function seedBitsReference(seed: number, count: number): Uint8Array {
  const { lo, hi } = seedHalves(seed);
  const out = new Uint8Array(count);
  for (let j = 0; j < count; j++) out[j] = (hashIndex(lo, hi ^ 0x70e9, j >>> 5) >>> (j & 31)) & 1;
  return out;
}

/** h(x) = bits n-1 .. n+l-2 of (a x + b) mod 2^w, by schoolbook shift-and-add on bit arrays. */
function multiplyAddShiftReference(x: Uint8Array, a: Uint8Array, b: Uint8Array, l: number): Uint8Array {
  const n = x.length;
  const w = a.length;
  const acc = b.slice(); // w bits
  for (let i = 0; i < n; i++) {
    if (!x[i]) continue;
    // acc += a << i (mod 2^w)
    let carry = 0;
    for (let j = i; j < w; j++) {
      const s = acc[j] + a[j - i] + carry;
      acc[j] = s & 1;
      carry = s >>> 1;
    }
  }
  return acc.slice(n - 1, n - 1 + l);
}

function bigIntReference(bits: Uint8Array): bigint {
  let v = 0n;
  for (let i = bits.length - 1; i >= 0; i--) v = (v << 1n) | BigInt(bits[i]);
  return v;
}

function paReference(x: Uint8Array, l: number, seed: number): Uint8Array {
  const w = x.length + l - 1;
  const s = seedBitsReference(seed, 2 * w);
  return multiplyAddShiftReference(x, s.subarray(0, w), s.subarray(w, 2 * w), l);
}

describe('multiply-add-shift privacy amplification', () => {
  it('the BigInt path equals per-bit schoolbook arithmetic bit for bit (property)', () => {
    fc.assert(
      fc.property(bitsArb(1, 300), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 2 ** 40 }), (x, l, seed) => {
        expect(Array.from(paHash(x, l, seed))).toEqual(Array.from(paReference(x, l, seed)));
      }),
      { numRuns: 150, seed: 20261130 },
    );
  });

  it('at the shape of a pass (l about n/5, unaligned views too) equals the plain BigInt product (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 6000, max: 14000 }), fc.double({ min: 0.15, max: 0.3, noNaN: true }), fc.integer({ min: 0, max: 2 ** 40 }), fc.nat({ max: 3 }), (n, ratio, seed, skip) => {
        const l = Math.round(ratio * n);
        const raw = seedBitsReference(seed ^ 0x55, n + skip);
        const x = raw.subarray(skip); // byteOffset 0..3: the aligned and the byte-wise paths
        const w = n + l - 1;
        const s = seedBitsReference(seed, 2 * w);
        const a = bigIntReference(s.subarray(0, w));
        const b = bigIntReference(s.subarray(w));
        const y = (((a * bigIntReference(x) + b) % (1n << BigInt(w))) >> BigInt(n - 1)) & ((1n << BigInt(l)) - 1n);
        const expected = Uint8Array.from({ length: l }, (_, i) => Number((y >> BigInt(i)) & 1n));
        expect(Array.from(privacyAmplify(x, l, seed))).toEqual(Array.from(expected));
      }),
      { numRuns: 8, seed: 20261130 },
    );
  });

  it('bits and BigInts convert both ways through hex, aligned or not (property)', () => {
    fc.assert(
      fc.property(bitsArb(0, 2000), fc.nat({ max: 3 }), (raw, skip) => {
        const bits = raw.subarray(Math.min(skip, raw.length));
        const v = bitsToBigInt(bits);
        expect(v).toBe(bigIntReference(bits));
        expect(Array.from(bigIntToBits(v, bits.length))).toEqual(Array.from(bits));
        // Longer than the value: zero above; shorter: its low bits.
        expect(Array.from(bigIntToBits(v, bits.length + 9))).toEqual([...bits, ...new Array(9).fill(0)]);
        const cut = Math.floor(bits.length / 3);
        expect(Array.from(bigIntToBits(v, cut))).toEqual(Array.from(bits.subarray(0, cut)));
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('the seed stream is the counter hash LSB first, a the first w bits and b the next w', () => {
    for (const [seed, count] of [[1, 1], [2, 31], [3, 32], [4, 33], [5, 1000], [2 ** 40 + 3, 4097]]) {
      expect(paSeedStream(seed, count)).toBe(bigIntReference(seedBitsReference(seed, count)));
    }
    const { a, b, w } = paHashKey(9, 100, 20);
    expect(w).toBe(paWidthBits(100, 20));
    expect(w).toBe(119);
    const s = seedBitsReference(9, 2 * w);
    expect(a).toBe(bigIntReference(s.subarray(0, w)));
    expect(b).toBe(bigIntReference(s.subarray(w)));
  });

  it('gives exactly l bits, the same for a seed, others for another seed', () => {
    const x = seedBitsReference(77, 5000);
    for (const l of [1, 7, 32, 999, 1000, 4999]) expect(paHash(x, l, 3)).toHaveLength(l);
    expect(Array.from(paHash(x, 1000, 3))).toEqual(Array.from(paHash(x.slice(), 1000, 3)));
    expect(Array.from(paHash(x, 1000, 4))).not.toEqual(Array.from(paHash(x, 1000, 3)));
    expect(paHash(x, 0, 3)).toHaveLength(0);
  });

  it('refuses an empty key and a multiplier or offset outside [0, 2^w)', () => {
    expect(() => paHash(new Uint8Array(0), 5, 1)).toThrow(/no key bits/);
    const x = new Uint8Array(10);
    const w = paWidthBits(10, 4);
    expect(() => multiplyAddShift(x, 1n << BigInt(w), 0n, 4)).toThrow(/\[0, 2\^13\)/);
    expect(() => multiplyAddShift(x, 0n, -1n, 4)).toThrow(/\[0, 2\^13\)/);
  });

  // Strong universality: for x != y and (a, b) uniform, (h(x), h(y)) is uniform on
  // [2^l]^2, so collisions happen with probability exactly 2^-l. Measured over seeds
  // for pairs including the hardest difference for multiply-shift (x - y = 2^(n-1)):
  // with one bit less width (w = n + l - 2) that pair's lowest output bit never differs
  // (tried: 3233 collisions instead of 1600, chi-square 12856).
  it('is strongly universal on small keys: pair values uniform, collisions at 2^-l (seeded statistics)', () => {
    const n = 12;
    const l = 3;
    const cells = 1 << (2 * l);
    const seeds = 12_800; // 200 per cell
    const toBits = (v: number) => Uint8Array.from({ length: n }, (_, i) => (v >>> i) & 1);
    const toInt = (bits: Uint8Array) => bits.reduce((s, b, i) => s | (b << i), 0);
    for (const [xv, yv] of [[0, 1 << (n - 1)], [5, 6], [0, 4095], [1234, 1235 + 2048]]) {
      const x = toBits(xv);
      const y = toBits(yv);
      const count = new Float64Array(cells);
      let collisions = 0;
      for (let s = 0; s < seeds; s++) {
        const hx = toInt(paHash(x, l, 1000 + s));
        const hy = toInt(paHash(y, l, 1000 + s));
        count[(hx << l) | hy]++;
        if (hx === hy) collisions++;
      }
      // Collisions: binomial(12800, 1/8), mean 1600, sd 37.4; six sd either side.
      expect(Math.abs(collisions - seeds / (1 << l))).toBeLessThan(6 * Math.sqrt(seeds * (1 / 8) * (7 / 8)));
      // Chi-square over 64 cells (63 degrees of freedom: mean 63, sd 11.2); below 63 + 6 sd.
      const e = seeds / cells;
      const chi2 = count.reduce((s, c) => s + ((c - e) * (c - e)) / e, 0);
      expect(chi2).toBeLessThan(63 + 6 * Math.sqrt(2 * 63));
    }
  });
});
