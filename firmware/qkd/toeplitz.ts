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
  // Stage h = 1: twiddle 1.
  for (let a = 0; a < N; a += 2) {
    const br = re[a + 1];
    const bi = im[a + 1];
    re[a + 1] = re[a] - br;
    im[a + 1] = im[a] - bi;
    re[a] += br;
    im[a] += bi;
  }
  // Stage h = 2: twiddles 1 and -sign*i.
  if (N >= 4) {
    for (let a = 0; a < N; a += 4) {
      let br = re[a + 2];
      let bi = im[a + 2];
      re[a + 2] = re[a] - br;
      im[a + 2] = im[a] - bi;
      re[a] += br;
      im[a] += bi;
      // w = (0, sign): x = b * w = (-sign*bi, sign*br)
      br = re[a + 3];
      bi = im[a + 3];
      const xr = -sign * bi;
      const xi = sign * br;
      re[a + 3] = re[a + 1] - xr;
      im[a + 3] = im[a + 1] - xi;
      re[a + 1] += xr;
      im[a + 1] += xi;
    }
  }
  // Remaining stages two at a time (radix-4 grouping: each element is loaded and
  // stored once per two stages), a last radix-2 stage if the count is odd.
  let h = 4;
  for (; 4 * h <= N; h *= 4) {
    const size = 4 * h;
    for (let start = 0; start < N; start += size) {
      for (let k = 0; k < h; k++) {
        const w1r = cos[h + k];
        const w1i = sign * sin[h + k];
        const w2r = cos[2 * h + k];
        const w2i = sign * sin[2 * h + k];
        const i0 = start + k;
        const i1 = i0 + h;
        const i2 = i1 + h;
        const i3 = i2 + h;
        const x0r = re[i0];
        const x0i = im[i0];
        const x1r = re[i1];
        const x1i = im[i1];
        const x2r = re[i2];
        const x2i = im[i2];
        const x3r = re[i3];
        const x3i = im[i3];
        // stage h: (x0, x1) and (x2, x3) with twiddle w1
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
        // stage 2h: (y0, y2) with w2, (y1, y3) with w2 * (sign i)
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
  if (h < N) {
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
        const ar = re[a];
        const ai = im[a];
        re[b] = ar - xr;
        im[b] = ai - xi;
        re[a] = ar + xr;
        im[a] = ai + xi;
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

/** FFT cost of the chunked product with transform size M (chunks + one inverse). */
function chunkedCost(n: number, l: number, M: number): number {
  const B = M - l + 1;
  return (Math.ceil(n / B) + 1) * M * Math.log2(M);
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
  const re = new Float64Array(M);
  const im = new Float64Array(M);
  const pr = new Float64Array(M);
  const pi = new Float64Array(M);
  for (let c = 0; c < chunks; c++) {
    const j0 = c * B;
    re.fill(0);
    im.fill(0);
    // x_c[j'] = x[j0 + j'], zero past n.
    const xEnd = Math.min(B, n - j0);
    for (let j = 0; j < xEnd; j++) re[j] = x[j0 + j];
    // s_c[u] = seed[n - j0 - B + u], zero where that index is negative.
    const base = n - j0 - B;
    const uStart = Math.max(0, -base);
    const uEnd = B + l - 1;
    for (let u = uStart; u < uEnd; u++) im[u] = seed[base + u];
    fft(re, im, -1);
    // Z = X + iS  =>  X S = (Z_k^2 - conj(Z_{M-k})^2) / (4i); accumulate.
    for (let k = 0; k < M; k++) {
      const m = (M - k) & (M - 1);
      const ar = re[k];
      const ai = im[k];
      const br = re[m];
      const bi = -im[m];
      const dr = ar * ar - ai * ai - (br * br - bi * bi);
      const di = 2 * ar * ai - 2 * br * bi;
      pr[k] += di / 4;
      pi[k] -= dr / 4;
    }
  }
  fft(pr, pi, 1);
  const out = new Uint8Array(l);
  let worst = 0;
  for (let i = 0; i < l; i++) {
    const v = pr[B - 1 + i] / M;
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
