/**
 * Privacy amplification by Toeplitz hashing: y = T x over GF(2), T an l-by-n Toeplitz
 * matrix with T[i][j] = seed[i - j + n - 1] (n + l - 1 seed bits). The product is a
 * window of the integer convolution seed * x, taken mod 2, so one float64 FFT of size
 * N >= n + l - 1 computes it in O(N log N).
 *
 * Exactness: every convolution value is an integer at most n < 2^26 and the float64
 * round-off of a size-2^23 FFT on 0/1 inputs is below 1e-6, far from 0.5; a guard still
 * checks the distance to the nearest integer and throws rather than return a wrong bit.
 */
import { hashIndex, seedHalves } from './random.ts';

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Int32Array }>();

/**
 * Twiddles laid out per stage: the stage of half-size h reads cos/sin[h .. 2h) in
 * order, so the butterflies stream through memory instead of striding.
 */
function tables(N: number) {
  let t = twiddleCache.get(N);
  if (t) return t;
  const cos = new Float64Array(N);
  const sin = new Float64Array(N);
  for (let h = 1; h < N; h <<= 1) {
    for (let k = 0; k < h; k++) {
      cos[h + k] = Math.cos((Math.PI * k) / h);
      sin[h + k] = Math.sin((Math.PI * k) / h);
    }
  }
  const bitsN = Math.log2(N);
  const rev = new Int32Array(N);
  for (let i = 1; i < N; i++) rev[i] = (rev[i >>> 1] >>> 1) | ((i & 1) << (bitsN - 1));
  t = { cos, sin, rev };
  if (twiddleCache.size > 4) twiddleCache.clear();
  twiddleCache.set(N, t);
  return t;
}

/** In-place iterative radix-2 FFT; sign -1 forward, +1 inverse (unscaled). */
export function fft(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
  const N = re.length;
  const { cos, sin, rev } = tables(N);
  for (let i = 0; i < N; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (let h = 1; h < N; h <<= 1) {
    const size = h << 1;
    for (let start = 0; start < N; start += size) {
      for (let k = 0; k < h; k++) {
        const wr = cos[h + k];
        const wi = sign * sin[h + k];
        const a = start + k;
        const b = a + h;
        const br = re[b];
        const bi = im[b];
        const xr = br * wr - bi * wi;
        const xi = br * wi + bi * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/** Seed bits of a Toeplitz matrix, expanded from a public 53-bit seed by the counter hash. */
export function toeplitzSeedBits(seed: number, count: number): Uint8Array {
  const { lo, hi } = seedHalves(seed);
  const out = new Uint8Array(count);
  for (let w = 0; w * 32 < count; w++) {
    const h = hashIndex(lo, hi ^ 0x70e9, w);
    const end = Math.min(32, count - w * 32);
    for (let b = 0; b < end; b++) out[w * 32 + b] = (h >>> b) & 1;
  }
  return out;
}

/** y = T x mod 2 via FFT. `x` has n bits (0/1 bytes), `seed` n + l - 1 bits. */
export function toeplitzHash(x: Uint8Array, seed: Uint8Array, l: number): Uint8Array {
  const n = x.length;
  if (l <= 0 || n === 0) return new Uint8Array(0);
  if (seed.length !== n + l - 1) throw new RangeError(`toeplitz: seed must have n + l - 1 = ${n + l - 1} bits`);
  let N = 2;
  while (N < n + l - 1) N <<= 1;
  const re = new Float64Array(N);
  const im = new Float64Array(N);
  for (let i = 0; i < n; i++) re[i] = x[i];
  for (let i = 0; i < seed.length; i++) im[i] = seed[i];
  fft(re, im, -1);
  // Z = X + iS  =>  X S = (Z_k^2 - conj(Z_{N-k})^2) / (4i)
  const pr = new Float64Array(N);
  const pi = new Float64Array(N);
  for (let k = 0; k < N; k++) {
    const m = (N - k) & (N - 1);
    const ar = re[k];
    const ai = im[k];
    const br = re[m];
    const bi = -im[m];
    const dr = ar * ar - ai * ai - (br * br - bi * bi);
    const di = 2 * ar * ai - 2 * br * bi;
    // divide by 4i: (dr + i di) / (4i) = (di - i dr) / 4
    pr[k] = di / 4;
    pi[k] = -dr / 4;
  }
  fft(pr, pi, 1);
  const out = new Uint8Array(l);
  let worst = 0;
  for (let i = 0; i < l; i++) {
    const v = pr[n - 1 + i] / N;
    const r = Math.round(v);
    const d = Math.abs(v - r);
    if (d > worst) worst = d;
    out[i] = r & 1;
  }
  if (worst > 0.25) throw new Error(`toeplitz: FFT round-off ${worst} too large for an exact result`);
  return out;
}

/** Reference O(n l) product, for tests. */
export function toeplitzNaive(x: Uint8Array, seed: Uint8Array, l: number): Uint8Array {
  const n = x.length;
  const out = new Uint8Array(l);
  for (let i = 0; i < l; i++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc ^= seed[i - j + n - 1] & x[j];
    out[i] = acc;
  }
  return out;
}
