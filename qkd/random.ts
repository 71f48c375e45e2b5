/**
 * Deterministic randomness for the QKD model: a 32-bit finaliser hash (counter-based,
 * O(1) for any index) and a small seeded generator (sfc32). Never Math.random.
 */

const TWO32 = 4294967296;

/** Murmur3-style 32-bit finaliser: a bijective avalanche mix. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Split a non-negative integer below 2^53 (a pulse index) into 32-bit halves. */
export function splitIndex(index: number): { hi: number; lo: number } {
  const hi = Math.floor(index / TWO32);
  return { hi, lo: index - hi * TWO32 };
}

/**
 * Counter-based hash of (seed, index): 32 uniform bits, O(1), no state.
 * `seedLo`/`seedHi` are the two 32-bit halves of a 64-bit-ish seed.
 */
export function hashIndex(seedLo: number, seedHi: number, index: number): number {
  const hi = Math.floor(index / TWO32);
  return hashIndexHalves(seedLo, seedHi, index - hi * TWO32, hi);
}

/** hashIndex with the index given as its 32-bit halves: hot loops that step the high half themselves call hashLowHalf with highHalfKey hoisted. */
export function hashIndexHalves(seedLo: number, seedHi: number, lo: number, hi: number): number {
  return hashLowHalf(seedLo, lo, highHalfKey(seedHi, hi));
}

/** The high half's part of hashIndex: it changes once every 2^32 indices, so hot loops compute it once per high half. */
export function highHalfKey(seedHi: number, hi: number): number {
  return mix32(Math.imul(hi ^ seedHi, 0x9e3779b9));
}

/** hashIndex from the low half and highHalfKey: two finaliser rounds, a bijection of the low half for each key. */
export function hashLowHalf(seedLo: number, lo: number, key: number): number {
  return mix32(mix32((lo ^ seedLo) + 0x632be5ab) ^ key);
}

/** The halves of a seed given as a number (< 2^53) or bigint. */
export function seedHalves(seed: number | bigint): { lo: number; hi: number } {
  const s = typeof seed === 'bigint' ? seed : BigInt(Math.floor(seed));
  const lo = Number(s & 0xffffffffn);
  const hi = Number((s >> 32n) & 0xffffffffn);
  return { lo: mix32(lo ^ 0x5bd1e995), hi: mix32(hi + 0x1b873593) };
}

/** sfc32 seeded generator: fast, 128-bit state, good enough for a simulation. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | bigint, stream = 0) {
    const { lo, hi } = seedHalves(seed);
    this.a = mix32(lo ^ stream);
    this.b = mix32(hi + 0x6a09e667 + stream);
    this.c = mix32(lo + 0xbb67ae85 + Math.imul(stream, 0x3c6ef372));
    this.d = 1;
    for (let i = 0; i < 16; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** The generator state, for hot loops that inline the step (see setState). */
  state(): [number, number, number, number] {
    return [this.a, this.b, this.c, this.d];
  }

  setState(a: number, b: number, c: number, d: number): void {
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / TWO32;
  }

  /** Uniform in (0, 1]: safe for Math.log. */
  nextOpen(): number {
    return (this.nextU32() + 1) / TWO32;
  }

  /** Uniform integer in [0, n), n <= 2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A 53-bit-safe random integer (used for public seeds). */
  u53(): number {
    return (this.nextU32() & 0x1fffff) * TWO32 + this.nextU32();
  }
}
