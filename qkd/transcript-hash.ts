/**
 * Polynomial hash of a transcript (a sequence of frames) over GF(p), p = 2^61 - 1, one
 * frame at a time. Frame f of L = ceil(|f| / 4) words hashes to D(f) = polyHash61(f),
 * a polynomial in the key k of degree L + 1 whose coefficients are (words, |f|, 0) and
 * whose constant term is 0. The transcript hash is their concatenation
 *   H(f_1 .. f_n) = sum_i D(f_i) k^(s_i),  s_i = sum_{j > i} (L_j + 2)
 * computed by Horner as h <- h k^(L + 2) + D(f). Its coefficient sequence is the
 * frames' blocks (words, length, 0) end to end, which decodes back from its end (the
 * length sits just before each block's final 0), so two different transcripts give
 * two different polynomials of degree at most the number of coefficients, and
 * H(T) - H(T') - c is a non-zero polynomial for every c (no constant term unless
 * c != 0): Pr_k[H(T) - H(T') = c] <= coefficients / p (epsilon-Delta-universal).
 */
import { polyHash61, type Fe61 } from './polyhash.ts';

export const P61 = (1n << 61n) - 1n;

export const fe61ToBig = (x: Fe61): bigint => (BigInt(x.hi) << 32n) | BigInt(x.lo >>> 0);
export const bigToFe61 = (x: bigint): Fe61 => ({ hi: Number(x >> 32n), lo: Number(x & 0xffffffffn) });

function powMod(base: bigint, e: number): bigint {
  let r = 1n;
  let b = base;
  for (let n = e; n > 0; n = Math.floor(n / 2)) {
    if (n & 1) r = (r * b) % P61;
    b = (b * b) % P61;
  }
  return r;
}

export class TranscriptHash {
  private readonly k: bigint;
  private h = 0n;
  /** Coefficients absorbed so far (the degree bound of the collision probability). */
  coefficients = 0;
  frames = 0;

  constructor(private readonly key: Fe61) {
    this.k = fe61ToBig(key);
  }

  absorb(frame: Uint8Array): void {
    const words = (frame.length + 3) >>> 2;
    const d = fe61ToBig(polyHash61(frame, this.key));
    this.h = (this.h * powMod(this.k, words + 2) + d) % P61;
    this.coefficients += words + 2;
    this.frames++;
  }

  /** The hash of everything absorbed since the last reset, in [0, p). */
  digest(): bigint {
    return this.h;
  }

  reset(): void {
    this.h = 0n;
    this.coefficients = 0;
    this.frames = 0;
  }
}
