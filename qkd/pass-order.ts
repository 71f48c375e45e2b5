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
    if (this.a === 1 && this.c === 0) return src.slice();
    const n = this.n;
    const out = new Uint32Array((n + 31) >>> 5);
    gatherWords(src, out, n, this.a, this.c);
    if (n & 31) gatherTail(src, out, n, this.a, this.c);
    return out;
  }
}

/*
 * PassMap's gather loops, each alone in its function: V8 optimises a long loop while it
 * runs (OSR), and code after it in the same function then runs without type feedback
 * and throws the optimised code away.
 */

/** Whole words of the affine gather: out bit j = src bit (a j + c) mod n, j < 32 floor(n / 32). */
function gatherWords(src: Uint32Array, out: Uint32Array, n: number, a: number, c: number): void {
  const full = n >>> 5;
  // Four interleaved streams of 8 bits (x, x + 8a, x + 16a, x + 24a) for
  // instruction-level parallelism; the wrap mod n is branch-free (a coin flip).
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
}

/** The partial last word of the affine gather (n not a multiple of 32). */
function gatherTail(src: Uint32Array, out: Uint32Array, n: number, a: number, c: number): void {
  const full = n >>> 5;
  let x = (c + ((a * 32 * full) % n)) % n; // a * 32 * full < 2^52: exact
  let acc = 0;
  for (let b = 0; b < (n & 31); b++) {
    acc |= ((src[x >>> 5] >>> (x & 31)) & 1) << b;
    x += a;
    x -= ((n - 1 - x) >> 31) & n;
  }
  out[full] = acc;
}

/** Number of set bits of a 32-bit word. */
function popcount32(x: number): number {
  x = (x - ((x >>> 1) & 0x55555555)) | 0;
  x = ((x & 0x33333333) + ((x >>> 2) & 0x33333333)) | 0;
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
  /** rank[w] = members of S in words before w; made on first use (the top parities need none). */
  private rankCache: Int32Array | null = null;

  constructor(
    readonly n: number,
    seed: number,
    pass: number,
  ) {
    const words = (n + 31) >>> 5;
    const tail = n & 31 ? (1 << (n & 31)) - 1 : 0xffffffff;
    const mask = new Uint32Array(words);
    let count = randomMask(seed, 0x5b5e7 + pass, mask, tail);
    if (2 * count < n) {
      complementMask(mask, tail);
      count = n - count;
    }
    this.mask = mask;
    this.m = count;
  }

  private get rank(): Int32Array {
    return (this.rankCache ??= wordRanks(this.mask));
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
    const rest = j >= this.m;
    const r = rest ? j - this.m : j;
    const w = lastWordWithCountAtMost(this.rank, r, rest);
    const x = rest ? ~this.mask[w] : this.mask[w];
    return 32 * w + selectBit(x, r - countBefore(this.rank, w, rest));
  }

  /** Parity of pass positions [0, j): the first j members of S, then the first j - m others. */
  private prefixParity(src: Uint32Array, j: number): number {
    const { mask, m } = this;
    if (j === m) return parity32(xorMasked(src, mask, mask.length)); // all of S: no rank needed
    if (j === 0) return 0;
    const rank = this.rank;
    if (j < m) return firstParity(src, mask, rank, j, false);
    return parity32(xorMasked(src, mask, mask.length)) ^ firstParity(src, mask, rank, j - m, true);
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

/*
 * SubsetMap's loops, each alone in a small function: V8 optimises a long loop while it
 * runs (OSR), and code after it in the same function then runs without type feedback
 * and throws the optimised code away, call after call (the constructor's three loops
 * in one function cost 0.35 ms instead of ~0.1 ms).
 */

/** Fill `mask` from a fresh generator Rng(seed, stream), the last word cut to `tail`; returns its set bits. */
function randomMask(seed: number, stream: number, mask: Uint32Array, tail: number): number {
  let count = fillRandomWords(new Rng(seed, stream).state(), mask);
  if (mask.length > 0) {
    const last = mask[mask.length - 1];
    count -= popcount32(last) - popcount32(last & tail);
    mask[mask.length - 1] = last & tail;
  }
  return count;
}

/**
 * The sfc32 words (Rng.nextU32 inlined: the generator's fields stay in registers) that
 * follow state `st`; returns their set bits. The loop is last: the state is not written
 * back (code after the loop would deoptimise on every call), so the generator must not
 * be used again.
 */
function fillRandomWords(st: [number, number, number, number], out: Uint32Array): number {
  // | 0: int32 from the start (the state may hold doubles), no conversions in the loop.
  let a = st[0] | 0;
  let b = st[1] | 0;
  let c = st[2] | 0;
  let d = st[3] | 0;
  let count = 0;
  const len = out.length;
  for (let w = 0; w < len; w++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    out[w] = t;
    count = (count + popcount32(t)) | 0;
  }
  return count;
}

/** Complement `mask` in place within the key (the last word cut to `tail`). */
function complementMask(mask: Uint32Array, tail: number): void {
  complementWords(mask);
  if (mask.length > 0) mask[mask.length - 1] &= tail;
}

/** Complement every word (the loop alone: see above). */
function complementWords(mask: Uint32Array): void {
  const len = mask.length;
  for (let w = 0; w < len; w++) mask[w] = ~mask[w];
}

/** rank[w] = set bits of mask in words before w (w = 0..words). */
function wordRanks(mask: Uint32Array): Int32Array {
  const rank = new Int32Array(mask.length + 1);
  for (let w = 0; w < mask.length; w++) rank[w + 1] = rank[w] + popcount32(mask[w]);
  return rank;
}

/** Members of the subset (`rest`: its non-members) in the words before w. */
function countBefore(rank: Int32Array, w: number, rest: boolean): number {
  return rest ? 32 * w - rank[w] : rank[w];
}

/** Largest w in 0..words with countBefore(rank, w, rest) <= r (non-decreasing in w). */
function lastWordWithCountAtMost(rank: Int32Array, r: number, rest: boolean): number {
  let lo = 0;
  let hi = rank.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (countBefore(rank, mid, rest) <= r) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** XOR of src[v] & mask[v] over words v < end. */
function xorMasked(src: Uint32Array, mask: Uint32Array, end: number): number {
  let acc = 0;
  for (let v = 0; v < end; v++) acc ^= src[v] & mask[v];
  return acc;
}

/** XOR of src[v] & ~mask[v] over words v < end. */
function xorUnmasked(src: Uint32Array, mask: Uint32Array, end: number): number {
  let acc = 0;
  for (let v = 0; v < end; v++) acc ^= src[v] & ~mask[v];
  return acc;
}

/** Parity of the first r members of the subset (bits of mask; `rest`: of its non-members) in src. */
function firstParity(src: Uint32Array, mask: Uint32Array, rank: Int32Array, r: number, rest: boolean): number {
  const w = lastWordWithCountAtMost(rank, r, rest); // whole words [0, w)
  let acc = rest ? xorUnmasked(src, mask, w) : xorMasked(src, mask, w);
  const before = countBefore(rank, w, rest);
  if (w < mask.length && before < r) {
    const x = rest ? ~mask[w] : mask[w];
    acc ^= src[w] & x & ((1 << selectBit(x, r - before)) - 1); // those before the (r - before)-th
  }
  return parity32(acc);
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
