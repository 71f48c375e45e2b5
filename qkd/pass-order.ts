/**
 * The order of a Cascade pass, computed alike by both ends from a public seed: an
 * affine permutation (PassMap) or, for the late passes over halves of the key, a
 * random subset first (SubsetMap). Both map positions both ways in O(1) or O(log n)
 * and read a range's parity from packed bits without a gathered copy.
 */
import { parity32 } from './bits.ts';
import { Rng } from './random.ts';

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modular inverse of a mod n (gcd(a, n) = 1), extended Euclid on safe integers. */
function modInverse(a: number, n: number): number {
  let [r0, r1, t0, t1] = [n, a % n, 0, 1];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return ((t0 % n) + n) % n;
}

/**
 * Permutation of one pass from a public seed: position j of the pass holds bit
 * (a j + c) mod n, with a random multiplier a coprime to n (pass 0: identity).
 * Sifted errors are independent, so an affine shuffle with a random multiplier
 * separates neighbours as well as a uniform shuffle does, and needs no tables:
 * both directions are O(1) arithmetic (products stay below 2^53 for n < 2^26).
 */
export class PassMap {
  readonly a: number;
  readonly c: number;
  private readonly aInv: number;

  constructor(
    readonly n: number,
    seed: number,
    pass: number,
  ) {
    if (n > 1 << 26) throw new RangeError(`cascade: key of ${n} bits too long (max 2^26)`);
    if (pass === 0 || n < 3) {
      this.a = 1;
      this.c = 0;
    } else {
      const rng = new Rng(seed, pass);
      let a = Math.floor(n / 4) + rng.int(Math.max(1, Math.floor(n / 2)));
      while (gcd(a, n) !== 1) a++;
      this.a = a;
      this.c = rng.int(n);
    }
    this.aInv = modInverse(this.a, n);
  }

  /** Original index of pass position j. */
  at(j: number): number {
    return (this.a * j + this.c) % this.n;
  }

  /** Pass position of original index i. */
  pos(i: number): number {
    return (this.aInv * ((i - this.c + this.n) % this.n)) % this.n;
  }

  /**
   * Parity of pass positions [j0, j1) read straight from packed bits in original
   * order (no gathered copy): the top parities of a pass of one or two blocks.
   */
  parityOf(src: Uint32Array, j0: number, j1: number): number {
    const n = this.n;
    const a = this.a;
    const start = (j: number) => (this.c + ((a * j) % n)) % n; // a * j < 2^52: exact
    // Four interleaved streams over quarters of the range (instruction-level
    // parallelism, as in gatherPacked), the left-over tail by the first.
    const len = (j1 - j0) >>> 2;
    let x0 = start(j0);
    let x1 = start(j0 + len);
    let x2 = start(j0 + 2 * len);
    let x3 = start(j0 + 3 * len);
    let acc = 0;
    for (let i = 0; i < len; i++) {
      acc ^= (src[x0 >>> 5] >>> (x0 & 31)) ^ (src[x1 >>> 5] >>> (x1 & 31)) ^ (src[x2 >>> 5] >>> (x2 & 31)) ^ (src[x3 >>> 5] >>> (x3 & 31));
      x0 += a;
      x0 -= ((n - 1 - x0) >> 31) & n;
      x1 += a;
      x1 -= ((n - 1 - x1) >> 31) & n;
      x2 += a;
      x2 -= ((n - 1 - x2) >> 31) & n;
      x3 += a;
      x3 -= ((n - 1 - x3) >> 31) & n;
    }
    for (let j = j0 + 4 * len, x = start(j); j < j1; j++) {
      acc ^= src[x >>> 5] >>> (x & 31);
      x += a;
      x -= ((n - 1 - x) >> 31) & n;
    }
    return acc & 1;
  }

  /** bits in pass order. */
  gather(bits: Uint8Array): Uint8Array {
    const n = this.n;
    const a = this.a;
    const out = new Uint8Array(n);
    let x = this.c;
    for (let j = 0; j < n; j++) {
      out[j] = bits[x];
      x += a;
      if (x >= n) x -= n;
    }
    return out;
  }

  /** Packed bits (see packWords) in pass order, packed. */
  gatherPacked(src: Uint32Array): Uint32Array {
    const n = this.n;
    const a = this.a;
    const c = this.c;
    if (a === 1 && c === 0) return src.slice();
    const words = (n + 31) >>> 5;
    const full = n >>> 5;
    const out = new Uint32Array(words);
    // The partial last word first: code after a hot loop would run without type
    // feedback and throw the loop's optimised code away on every call.
    if (full < words) {
      let x = (c + ((a * 32 * full) % n)) % n; // a * 32 * full < 2^52: exact
      let acc = 0;
      for (let b = 0; b < (n & 31); b++) {
        acc |= ((src[x >>> 5] >>> (x & 31)) & 1) << b;
        x += a;
        x -= ((n - 1 - x) >> 31) & n;
      }
      out[full] = acc;
    }
    // Whole words as four interleaved streams of 8 bits (x, x + 8a, x + 16a, x + 24a)
    // for instruction-level parallelism; the wrap mod n is branch-free (a coin flip).
    const a8 = (8 * a) % n;
    let x0 = c;
    for (let w = 0; w < full; w++) {
      let x1 = x0 + a8;
      x1 -= ((n - 1 - x1) >> 31) & n;
      let x2 = x1 + a8;
      x2 -= ((n - 1 - x2) >> 31) & n;
      let x3 = x2 + a8;
      x3 -= ((n - 1 - x3) >> 31) & n;
      let acc = 0;
      for (let b = 0; b < 8; b++) {
        acc |=
          (((src[x0 >>> 5] >>> (x0 & 31)) & 1) << b) |
          (((src[x1 >>> 5] >>> (x1 & 31)) & 1) << (b + 8)) |
          (((src[x2 >>> 5] >>> (x2 & 31)) & 1) << (b + 16)) |
          (((src[x3 >>> 5] >>> (x3 & 31)) & 1) << (b + 24));
        x0 += a;
        x0 -= ((n - 1 - x0) >> 31) & n;
        x1 += a;
        x1 -= ((n - 1 - x1) >> 31) & n;
        x2 += a;
        x2 -= ((n - 1 - x2) >> 31) & n;
        x3 += a;
        x3 -= ((n - 1 - x3) >> 31) & n;
      }
      out[w] = acc;
      x0 = x3; // x3 has reached the next word's first position, x + 32a
    }
    return out;
  }
}

/** Number of set bits of a 32-bit word. */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Position of the r-th set bit (from 0) of a word that has more than r. */
function selectBit(x: number, r: number): number {
  for (; r > 0; r--) x &= x - 1;
  return 31 - Math.clz32(x & -x);
}

/**
 * Order of a late pass over halves of the key: a random subset S of the positions (a
 * hashed bit mask, complemented if needed so that |S| >= n/2) in ascending order, then
 * the rest; the first block is S. Each pair of positions is split with probability 1/2
 * independently of its distance (an affine map splits all pairs at one distance alike),
 * and a block's parity is a word AND and XOR per 32 bits, no bit-by-bit walk.
 */
export class SubsetMap {
  /** |S|: the first block's size. */
  readonly m: number;
  private readonly mask: Uint32Array;
  /** rank[w] = members of S in words before w. */
  private readonly rank: Int32Array;

  constructor(
    readonly n: number,
    seed: number,
    pass: number,
  ) {
    const words = (n + 31) >>> 5;
    const rng = new Rng(seed, 0x5b5e7 + pass);
    const tail = n & 31 ? (1 << (n & 31)) - 1 : 0xffffffff;
    const mask = new Uint32Array(words);
    let count = 0;
    for (let w = 0; w < words; w++) {
      mask[w] = rng.nextU32() & (w === words - 1 ? tail : 0xffffffff);
      count += popcount32(mask[w]);
    }
    if (2 * count < n) {
      for (let w = 0; w < words; w++) mask[w] = ~mask[w] & (w === words - 1 ? tail : 0xffffffff);
      count = n - count;
    }
    const rank = new Int32Array(words + 1);
    for (let w = 0; w < words; w++) rank[w + 1] = rank[w] + popcount32(mask[w]);
    this.mask = mask;
    this.rank = rank;
    this.m = count;
  }

  /** Members of S below position i. */
  private below(i: number): number {
    const w = i >>> 5;
    return this.rank[w] + popcount32(this.mask[w] & ((1 << (i & 31)) - 1));
  }

  /** Pass position of original index i. */
  pos(i: number): number {
    const r = this.below(i);
    return (this.mask[i >>> 5] >>> (i & 31)) & 1 ? r : this.m + (i - r);
  }

  /** Original index of pass position j. */
  at(j: number): number {
    const inS = j < this.m;
    const r = inS ? j : j - this.m;
    // Last word w whose members (of S, or of the rest) before it are at most r.
    const before = (w: number) => (inS ? this.rank[w] : 32 * w - this.rank[w]);
    let lo = 0;
    let hi = this.mask.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (before(mid) <= r) lo = mid;
      else hi = mid - 1;
    }
    const x = inS ? this.mask[lo] : ~this.mask[lo];
    return 32 * lo + selectBit(x, r - before(lo));
  }

  /** Parity of pass positions [0, j). */
  private prefixParity(src: Uint32Array, j: number): number {
    const { mask, rank, m } = this;
    const inS = j <= m;
    const r = inS ? j : j - m;
    let acc = 0;
    let w = 0;
    // Whole words while they hold no more than r members.
    const before = (v: number) => (inS ? rank[v] : 32 * v - rank[v]);
    for (; w < mask.length && before(w + 1) <= r; w++) acc ^= src[w] & (inS ? mask[w] : ~mask[w]);
    if (w < mask.length && before(w) < r) {
      const x = inS ? mask[w] : ~mask[w];
      const upTo = selectBit(x, r - before(w)); // first member not included
      acc ^= src[w] & x & ((1 << upTo) - 1);
    }
    if (!inS) acc ^= this.prefixParity(src, m) ? 1 : 0;
    return parity32(acc);
  }

  /** Parity of pass positions [j0, j1) from packed bits in original order. */
  parityOf(src: Uint32Array, j0: number, j1: number): number {
    return this.prefixParity(src, j1) ^ this.prefixParity(src, j0);
  }

  /** Packed bits (see packWords) in pass order, packed. */
  gatherPacked(src: Uint32Array): Uint32Array {
    const n = this.n;
    const out = new Uint32Array((n + 31) >>> 5);
    let o = 0;
    for (let part = 1; part >= 0; part--) {
      for (let i = 0; i < n; i++) {
        if (((this.mask[i >>> 5] >>> (i & 31)) & 1) !== part) continue;
        out[o >>> 5] |= ((src[i >>> 5] >>> (i & 31)) & 1) << (o & 31);
        o++;
      }
    }
    return out;
  }
}

/** The order of one pass: an affine permutation, or (late passes over halves) a subset first. */
export type PassOrder = PassMap | SubsetMap;

/**
 * The order of pass `pass` with block size k: a block size of at least half the key
 * asks for a subset pass, whose first block is the subset (its size replaces k).
 */
export function passOrder(n: number, seed: number, pass: number, k: number): PassOrder {
  return k >= Math.ceil(n / 2) ? new SubsetMap(n, seed, pass) : new PassMap(n, seed, pass);
}
