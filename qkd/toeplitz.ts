/**
 * Privacy amplification by Toeplitz hashing: y = T x over GF(2), T an l-by-n Toeplitz
 * matrix with T[i][j] = seed[i - j + n - 1] (n + l - 1 seed bits). The product is a
 * window of the integer convolution seed * x, taken mod 2, so float64 FFTs of size
 * M >= n + l - 1 (or chunked, see toeplitzHash) compute it in O(M log M).
 *
 * Exactness: every convolution value is an integer at most n < 2^26 and the float64
 * round-off of a size-2^23 FFT on 0/1 inputs is below 1e-6, far from 0.5; a guard still
 * checks the distance to the nearest integer and throws rather than return a wrong bit.
 *
 * Speed: the convolution never needs the spectrum in natural order, so the forward
 * transform is decimation in frequency (natural in, bit-reversed out) and the inverse
 * decimation in time (bit-reversed in, natural out): no permutation passes. Stages
 * run two at a time (radix 4) and, once a stage's span fits in cache, block by block.
 */
import { hashIndex, seedHalves } from './random.ts';

interface Plan {
  /** Per-stage twiddles: the stage of half-size h reads cos/sin(pi k / h) at [h + k]. */
  cos: Float64Array;
  sin: Float64Array;
}

const planCache = new Map<number, Plan>();

function plan(M: number): Plan {
  let t = planCache.get(M);
  if (t) return t;
  const cos = new Float64Array(Math.max(2, M));
  const sin = new Float64Array(Math.max(2, M));
  const H = M >>> 1;
  if (H >= 8) {
    // Largest stage: one octant by Math.cos/sin, the rest by exact symmetries.
    const q = H >>> 2;
    for (let k = 0; k <= q; k++) {
      const a = (Math.PI * k) / H;
      const c = Math.cos(a);
      const s = Math.sin(a);
      cos[H + k] = c; // theta
      sin[H + k] = s;
      cos[H + 2 * q - k] = s; // pi/2 - theta
      sin[H + 2 * q - k] = c;
      if (k > 0) {
        cos[H + 2 * q + k] = -s; // pi/2 + theta
        sin[H + 2 * q + k] = c;
        if (k < q) {
          cos[H + 4 * q - k] = -c; // pi - theta
          sin[H + 4 * q - k] = s;
        }
      }
    }
    // Smaller stages: cos(pi k / h) = cos(pi 2k / 2h), a subsample of the next stage.
    for (let h = H >>> 1; h >= 1; h >>>= 1) {
      for (let k = 0; k < h; k++) {
        cos[h + k] = cos[2 * h + 2 * k];
        sin[h + k] = sin[2 * h + 2 * k];
      }
    }
  } else {
    for (let h = 1; h < M; h <<= 1) {
      for (let k = 0; k < h; k++) {
        cos[h + k] = Math.cos((Math.PI * k) / h);
        sin[h + k] = Math.sin((Math.PI * k) / h);
      }
    }
  }
  t = { cos, sin };
  if (planCache.size > 4) planCache.clear();
  planCache.set(M, t);
  return t;
}

/** Stages whose span is at most this many points run block by block (cache sized). */
const BLOCK = 1 << 12;

/** One radix-2 DIF stage of half-size h over [lo, hi). */
function dif2(re: Float64Array, im: Float64Array, lo: number, hi: number, h: number, cos: Float64Array, sin: Float64Array, sign: number): void {
  for (let start = lo; start < hi; start += 2 * h) {
    for (let k = 0; k < h; k++) {
      const wr = cos[h + k];
      const wi = sign * sin[h + k];
      const a = start + k;
      const b = a + h;
      const ar = re[a];
      const ai = im[a];
      const dr = ar - re[b];
      const di = ai - im[b];
      re[a] = ar + re[b];
      im[a] = ai + im[b];
      re[b] = dr * wr - di * wi;
      im[b] = dr * wi + di * wr;
    }
  }
}

/** Two DIF stages (half-sizes 2q then q) over [lo, hi) in one sweep. */
function dif4(re: Float64Array, im: Float64Array, lo: number, hi: number, q: number, cos: Float64Array, sin: Float64Array, sign: number): void {
  const h = 2 * q;
  for (let start = lo; start < hi; start += 4 * q) {
    for (let k = 0; k < q; k++) {
      const w1r = cos[h + k];
      const w1i = sign * sin[h + k];
      const w2r = cos[q + k];
      const w2i = sign * sin[q + k];
      const i0 = start + k;
      const i1 = i0 + q;
      const i2 = i1 + q;
      const i3 = i2 + q;
      const x0r = re[i0];
      const x0i = im[i0];
      const x1r = re[i1];
      const x1i = im[i1];
      const x2r = re[i2];
      const x2i = im[i2];
      const x3r = re[i3];
      const x3i = im[i3];
      // Stage 2q: (x0, x2) with w1, (x1, x3) with w1 * w^q = w1 * (sign i).
      const y0r = x0r + x2r;
      const y0i = x0i + x2i;
      const d2r = x0r - x2r;
      const d2i = x0i - x2i;
      const y1r = x1r + x3r;
      const y1i = x1i + x3i;
      const d3r = x1r - x3r;
      const d3i = x1i - x3i;
      // (sign i) * d3 = (-sign d3i, sign d3r)
      const e3r = -sign * d3i;
      const e3i = sign * d3r;
      const y2r = d2r * w1r - d2i * w1i;
      const y2i = d2r * w1i + d2i * w1r;
      const y3r = e3r * w1r - e3i * w1i;
      const y3i = e3r * w1i + e3i * w1r;
      // Stage q: (y0, y1) and (y2, y3) with w2.
      re[i0] = y0r + y1r;
      im[i0] = y0i + y1i;
      const f1r = y0r - y1r;
      const f1i = y0i - y1i;
      re[i1] = f1r * w2r - f1i * w2i;
      im[i1] = f1r * w2i + f1i * w2r;
      re[i2] = y2r + y3r;
      im[i2] = y2i + y3i;
      const f3r = y2r - y3r;
      const f3i = y2i - y3i;
      re[i3] = f3r * w2r - f3i * w2i;
      im[i3] = f3r * w2i + f3i * w2r;
    }
  }
}

/** One radix-2 DIT stage of half-size h over [lo, hi). */
function dit2(re: Float64Array, im: Float64Array, lo: number, hi: number, h: number, cos: Float64Array, sin: Float64Array, sign: number): void {
  for (let start = lo; start < hi; start += 2 * h) {
    for (let k = 0; k < h; k++) {
      const wr = cos[h + k];
      const wi = sign * sin[h + k];
      const a = start + k;
      const b = a + h;
      const br = re[b];
      const bi = im[b];
      const xr = br * wr - bi * wi;
      const xi = br * wi + bi * wr;
      const ar = re[a];
      const ai = im[a];
      re[b] = ar - xr;
      im[b] = ai - xi;
      re[a] = ar + xr;
      im[a] = ai + xi;
    }
  }
}

/** Two DIT stages (half-sizes q then 2q) over [lo, hi) in one sweep. */
function dit4(re: Float64Array, im: Float64Array, lo: number, hi: number, q: number, cos: Float64Array, sin: Float64Array, sign: number): void {
  const h = 2 * q;
  for (let start = lo; start < hi; start += 4 * q) {
    for (let k = 0; k < q; k++) {
      const w1r = cos[q + k];
      const w1i = sign * sin[q + k];
      const w2r = cos[h + k];
      const w2i = sign * sin[h + k];
      const i0 = start + k;
      const i1 = i0 + q;
      const i2 = i1 + q;
      const i3 = i2 + q;
      const x0r = re[i0];
      const x0i = im[i0];
      const x1r = re[i1];
      const x1i = im[i1];
      const x2r = re[i2];
      const x2i = im[i2];
      const x3r = re[i3];
      const x3i = im[i3];
      // Stage q: (x0, x1) and (x2, x3) with w1.
      const t1r = x1r * w1r - x1i * w1i;
      const t1i = x1r * w1i + x1i * w1r;
      const t3r = x3r * w1r - x3i * w1i;
      const t3i = x3r * w1i + x3i * w1r;
      const y0r = x0r + t1r;
      const y0i = x0i + t1i;
      const y1r = x0r - t1r;
      const y1i = x0i - t1i;
      const y2r = x2r + t3r;
      const y2i = x2i + t3i;
      const y3r = x2r - t3r;
      const y3i = x2i - t3i;
      // Stage 2q: (y0, y2) with w2, (y1, y3) with w2 * (sign i).
      const u2r = y2r * w2r - y2i * w2i;
      const u2i = y2r * w2i + y2i * w2r;
      const v3r = y3r * w2r - y3i * w2i;
      const v3i = y3r * w2i + y3i * w2r;
      const u3r = -sign * v3i;
      const u3i = sign * v3r;
      re[i0] = y0r + u2r;
      im[i0] = y0i + u2i;
      re[i2] = y0r - u2r;
      im[i2] = y0i - u2i;
      re[i1] = y1r + u3r;
      im[i1] = y1i + u3i;
      re[i3] = y1r - u3r;
      im[i3] = y1i - u3i;
    }
  }
}

/** Remaining DIF stages h, h/2, ..., 1 (an even count, or h = M/2 handled by caller) on [lo, hi). */
function difFrom(re: Float64Array, im: Float64Array, lo: number, hi: number, h: number, p: Plan, sign: number): void {
  // h here is the half-size of the next stage; stages h..1 count log2(h) + 1 (even).
  while (h >= 2) {
    const span = 2 * h;
    if (span <= BLOCK && hi - lo > BLOCK) {
      for (let b = lo; b < hi; b += BLOCK) difFrom(re, im, b, Math.min(hi, b + BLOCK), h, p, sign);
      return;
    }
    dif4(re, im, lo, hi, h >>> 1, p.cos, p.sin, sign);
    h >>>= 2;
  }
}

/**
 * Forward DIF transform, natural order in, bit-reversed order out. `sign` -1 for the
 * usual forward DFT.
 */
export function fftDif(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
  const M = re.length;
  if (M < 2) return;
  const p = plan(M);
  let h = M >>> 1;
  if ((31 - Math.clz32(M)) & 1) {
    dif2(re, im, 0, M, h, p.cos, p.sin, sign);
    h >>>= 1;
  }
  if (h >= 1) difFrom(re, im, 0, M, h, p, sign);
}

/** DIT stages 1, 2, ..., up to half-size hTop (an even count) on [lo, hi), small spans block by block. */
function ditUpTo(re: Float64Array, im: Float64Array, lo: number, hi: number, hTop: number, p: Plan, sign: number): void {
  let q = 1;
  if (hi - lo > BLOCK) {
    // All stages whose span fits a block, block by block.
    let qb = 1;
    while (qb * 4 <= BLOCK && qb * 2 <= hTop) qb *= 4;
    for (let b = lo; b < hi; b += BLOCK) {
      for (let qq = 1; qq < qb; qq *= 4) dit4(re, im, b, Math.min(hi, b + BLOCK), qq, p.cos, p.sin, sign);
    }
    q = qb;
  }
  for (; q * 2 <= hTop; q *= 4) dit4(re, im, lo, hi, q, p.cos, p.sin, sign);
}

/**
 * Inverse-direction DIT transform, bit-reversed order in, natural order out
 * (unscaled). `sign` +1 for the usual inverse DFT.
 */
export function fftDit(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
  ditWith(re, im, sign, plan(re.length));
}

/** fftDit with the twiddles of any plan of at least this size (stage tables nest). */
function ditWith(re: Float64Array, im: Float64Array, sign: -1 | 1, p: Plan): void {
  const M = re.length;
  if (M < 2) return;
  const odd = ((31 - Math.clz32(M)) & 1) === 1;
  const hTop = odd ? M >>> 2 : M >>> 1;
  if (hTop >= 1 && !(odd && M === 2)) ditUpTo(re, im, 0, M, hTop, p, sign);
  if (odd) dit2(re, im, 0, M, M >>> 1, p.cos, p.sin, sign);
}

/** Bit-reversal permutation in place. */
function bitReverse(re: Float64Array, im: Float64Array): void {
  const N = re.length;
  for (let i = 1, j = 0; i < N; i++) {
    let bit = N >>> 1;
    for (; j & bit; bit >>>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
}

/** In-place FFT in natural order; sign -1 forward, +1 inverse (unscaled). */
export function fft(re: Float64Array, im: Float64Array, sign: -1 | 1): void {
  fftDif(re, im, sign);
  bitReverse(re, im);
}

/** Seed bits of a Toeplitz matrix, expanded from a public 53-bit seed by the counter hash. */
export function toeplitzSeedBits(seed: number, count: number): Uint8Array {
  const { lo, hi } = seedHalves(seed);
  const out = new Uint8Array(count);
  const hs = hi ^ 0x70e9;
  const full = count >>> 5;
  for (let w = 0; w < full; w++) {
    const h = hashIndex(lo, hs, w);
    const o = w << 5;
    for (let b = 0; b < 32; b++) out[o + b] = (h >>> b) & 1;
  }
  if (count & 31) {
    const h = hashIndex(lo, hs, full);
    for (let b = 0; b < (count & 31); b++) out[(full << 5) + b] = (h >>> b) & 1;
  }
  return out;
}

/** FFT cost of the chunked product with transform size M (chunks + one inverse). */
function chunkedCost(n: number, l: number, M: number): number {
  const B = M - l + 1;
  return (Math.ceil(n / B) + 1) * M * Math.log2(M);
}

/** Scratch arrays reused across calls (the product is synchronous, never re-entered). */
let scratch: Float64Array[] = [];
function scratchOf(M: number): Float64Array[] {
  if (scratch.length === 0 || scratch[0].length !== M) scratch = [0, 1, 2, 3].map(() => new Float64Array(M));
  return scratch;
}

/**
 * y = T x mod 2 via FFT. `x` has n bits (0/1 bytes), `seed` n + l - 1 bits.
 *
 * x is cut into chunks of B bits; chunk c needs only the B + l - 1 seed bits its
 * columns touch, so its product is a Toeplitz product of the same shape with n = B.
 * The chunks' spectra are summed and one inverse transform gives the integer sums
 * (each still at most n), so the result is exactly the full product. The transform
 * size M >= B + l - 1 is chosen to minimise total work.
 */
export function toeplitzHash(x: Uint8Array, seed: Uint8Array, l: number): Uint8Array {
  const n = x.length;
  if (l <= 0 || n === 0) return new Uint8Array(0);
  if (seed.length !== n + l - 1) throw new RangeError(`toeplitz: seed must have n + l - 1 = ${n + l - 1} bits`);
  let full = 2;
  while (full < n + l - 1) full <<= 1;
  let M = full;
  for (let m = full >>> 1; m > l; m >>>= 1) {
    if (chunkedCost(n, l, m) < chunkedCost(n, l, M)) M = m;
  }
  const B = M - l + 1;
  const chunks = Math.ceil(n / B);
  const [re, im, pr, pi] = scratchOf(M);
  pr.fill(0);
  pi.fill(0);
  for (let c = 0; c < chunks; c++) {
    const j0 = c * B;
    // x_c[j'] = x[j0 + j'], zero past n; s_c[u] = seed[n - j0 - B + u], zero where that
    // index is negative.
    // (`set` converts the 0/1 bytes to doubles natively.)
    const xEnd = Math.min(B, n - j0);
    re.set(x.subarray(j0, j0 + xEnd));
    re.fill(0, xEnd);
    const base = n - j0 - B;
    const uStart = Math.max(0, -base);
    const uEnd = B + l - 1;
    im.fill(0, 0, uStart);
    im.set(seed.subarray(base + uStart, base + uEnd), uStart);
    im.fill(0, uEnd);
    fftDif(re, im, -1);
    // Z = X + iS (bit-reversed order) => 4i X S = Z_k^2 - conj(Z_{M-k})^2. In
    // bit-reversed order the partner of position r in [2^j, 2^(j+1)) is 3 * 2^j - 1 - r
    // (0 and 1 are their own). The factor 1/4 is applied with 1/M at the end (exact).
    accumulatePair(re, im, pr, pi, 0, 0);
    if (M > 1) accumulatePair(re, im, pr, pi, 1, 1);
    accumulateBlocks(re, im, pr, pi, M);
  }
  // The product is real: fold P into half-size Z_t = (P_k + P_k') + i w^k (P_k - P_k')
  // with k' = k + M/2 (adjacent in bit-reversed order) and w = e^(2 pi i / M); the
  // half-size inverse of Z is p_2j + i p_2j+1.
  const H = M >>> 1;
  const { cos, sin } = plan(M);
  for (let t = 0, k = 0; t < H; t++) {
    const ar = pr[2 * t];
    const ai = pi[2 * t];
    const br = pr[2 * t + 1];
    const bi = pi[2 * t + 1];
    const dr = ar - br;
    const di = ai - bi;
    const wr = cos[H + k];
    const wi = sin[H + k];
    pr[t] = ar + br - (wr * di + wi * dr);
    pi[t] = ai + bi + (wr * dr - wi * di);
    // k = bit reversal of t over log2(H) bits, advanced in place.
    let bit = H >>> 1;
    while (k & bit) {
      k ^= bit;
      bit >>>= 1;
    }
    k |= bit;
  }
  ditWith(pr.subarray(0, H), pi.subarray(0, H), 1, plan(M));
  const out = new Uint8Array(l);
  const scale = 1 / (4 * M);
  let worst = 0;
  for (let i = 0; i < l; i++) {
    const m = B - 1 + i;
    const v = ((m & 1) === 0 ? pr[m >>> 1] : pi[m >>> 1]) * scale;
    const r = Math.round(v);
    const d = Math.abs(v - r);
    if (d > worst) worst = d;
    out[i] = r & 1;
  }
  if (worst > 0.25) throw new Error(`toeplitz: FFT round-off ${worst} too large for an exact result`);
  return out;
}

/** accumulatePair over every partner pair of the blocks [2^j, 2^(j+1)), j >= 1, inlined. */
function accumulateBlocks(re: Float64Array, im: Float64Array, pr: Float64Array, pi: Float64Array, M: number): void {
  for (let lo = 2; lo < M; lo <<= 1) {
    for (let k = lo, m = 2 * lo - 1; k < m; k++, m--) {
      const ar = re[k];
      const ai = im[k];
      const br = re[m];
      const bi = im[m];
      const sq = ar * ar - ai * ai - (br * br - bi * bi);
      const dk = 2 * ar * ai + 2 * br * bi;
      pr[k] += dk;
      pi[k] -= sq;
      pr[m] += dk;
      pi[m] += sq;
    }
  }
}

/** P_k += 4i X_k S_k and P_m += 4i X_m S_m for partners k, m (k may equal m); P scaled by -i: see caller. */
function accumulatePair(re: Float64Array, im: Float64Array, pr: Float64Array, pi: Float64Array, k: number, m: number): void {
  const ar = re[k];
  const ai = im[k];
  const br = re[m];
  const bi = im[m];
  // For k: Z_k^2 - conj(Z_m)^2; (a^2) = (ar^2 - ai^2, 2 ar ai), conj(b)^2 = (br^2 - bi^2, -2 br bi).
  const sq = ar * ar - ai * ai - (br * br - bi * bi);
  const dk = 2 * ar * ai + 2 * br * bi;
  // X S = (dr + i di) / (4i) = di / 4 - i dr / 4.
  pr[k] += dk;
  pi[k] -= sq;
  if (m !== k) {
    // For m: Z_m^2 - conj(Z_k)^2 = -(real part above), imag 2 br bi + 2 ar ai.
    pr[m] += dk;
    pi[m] += sq;
  }
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
