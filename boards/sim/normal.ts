/**
 * Standard normal deviates by the ziggurat method (Marsaglia & Tsang 2000): 256 layers
 * of equal area under exp(-x^2/2); a point drawn uniformly in a random layer lies under
 * the curve outright 98.5 % of the time, and then costs one 32-bit draw, a table lookup
 * and a multiply (no log, sqrt or division as in the polar method). The rest (the
 * wedges, the tail beyond R) is decided exactly, so the deviates are exactly normal up
 * to the draws' 23-bit resolution along a layer.
 *
 * One draw t's 32 bits: the layer (bits 0-7), the sign (bit 8) and the point's place
 * along the layer (bits 9-31), independent bits (the original reused the layer bits).
 * zigguratPoint, zigguratInner and zigguratOuter are the sampler; normals runs it fast.
 */
import type { Rng } from '../../qkd/random.ts';

// R and V are Marsaglia & Tsang's for 256 layers: built up from R, the top layer's area
// comes out V to 1e-9 (its top, f = 1, taken exactly).
const LAYERS = 256;
/** Where the base layer's rectangle ends and the tail begins. */
const R = 3.6541528853610088;
/** Each layer's area (the base: its rectangle plus the tail beyond R). */
const V = 0.00492867323399;

const f = (x: number): number => Math.exp(-0.5 * x * x);

/**
 * EDGE[i]: layer i spans x in [0, EDGE[i]) and f from F[i] to F[i + 1]; EDGE[0] is the
 * base's width V / f(R) (its part beyond R stands for the tail), EDGE[1] = R, each next
 * edge where the layer above has area V, EDGE[256] = 0. Below EDGE[i + 1] a point of
 * layer i is under the curve.
 */
const EDGE = new Float64Array(LAYERS + 1);
const F = new Float64Array(LAYERS + 1);
/** STEP[t & 511]: the signed width of one of the 2^23 places along layer t & 255. */
const STEP = new Float64Array(2 * LAYERS);
EDGE[0] = V / f(R);
EDGE[1] = R;
for (let i = 1; i < LAYERS - 1; i++) EDGE[i + 1] = Math.sqrt(-2 * Math.log(f(EDGE[i]) + V / EDGE[i]));
EDGE[LAYERS] = 0;
for (let i = 1; i < LAYERS; i++) F[i] = f(EDGE[i]);
F[0] = 0;
F[LAYERS] = 1;
for (let i = 0; i < LAYERS; i++) {
  STEP[i] = EDGE[i] / 2 ** 23;
  STEP[i + LAYERS] = -EDGE[i] / 2 ** 23;
}

/** The point draw `t` picks: signed, in its layer (the midpoint of one of 2^23 places, never 0). */
export function zigguratPoint(t: number): number {
  return ((t >>> 9) + 0.5) * STEP[t & 511];
}

/** Whether zigguratPoint(t) is under the curve without a further test (inside the layer above's width). */
export function zigguratInner(t: number, x: number): boolean {
  return Math.abs(x) < EDGE[(t & 255) + 1];
}

/** The deviate for a draw t that zigguratInner rejected: the wedge test, the tail, or a new draw, with further draws of `rng`. */
export function zigguratOuter(t: number, rng: Rng): number {
  for (;;) {
    const x = zigguratPoint(t);
    if (zigguratInner(t, x)) return x;
    const layer = t & 255;
    if (layer === 0) {
      // Beyond R: Marsaglia's exact tail sampler.
      let a: number;
      let b: number;
      do {
        a = -Math.log(rng.nextOpen()) / R;
        b = -Math.log(rng.nextOpen());
      } while (b + b < a * a);
      return x < 0 ? -(R + a) : R + a;
    }
    // A wedge: under the curve with probability (f(x) - F[layer]) / (F[layer + 1] - F[layer]).
    if (F[layer] + rng.next() * (F[layer + 1] - F[layer]) < f(x)) return x;
    t = rng.nextU32();
  }
}

/** normals' record of the draws its loop left to zigguratOuter: where, and the draw (grown to n at entry). */
let slowAt = new Int32Array(0);
let slowT = new Int32Array(0);

/**
 * out[0..n) = the next n standard normal deviates: one draw of `rng` each (its sfc32 step
 * inlined: the detections' jitter, millions a pass), and for the 1.5 % that the fast test
 * leaves, further draws of `slow` (zigguratOuter). The deviates are the plain loop's
 * (t = rng.nextU32(), then zigguratPoint / zigguratInner / zigguratOuter(t, slow)) in any
 * chunks: `slow` is drawn in the order of the deviates too.
 *
 * The slow cases are done after the loop, so the loop makes no calls: a rare call site in
 * it had V8 deoptimise and re-enter its on-stack-replaced code again and again (2x slower).
 */
export function normals(rng: Rng, slow: Rng, out: Float64Array, n: number): void {
  if (slowAt.length < n) {
    slowAt = new Int32Array(n);
    slowT = new Int32Array(n);
  }
  const at = slowAt;
  const words = slowT;
  let m = 0;
  // The state as int32 locals (`| 0`: whatever the array's element kind, V8 keeps them
  // untagged in registers; indexed loads, as destructuring deopts here).
  const st = rng.state();
  let a = st[0] | 0;
  let b = st[1] | 0;
  let c = st[2] | 0;
  let d = st[3] | 0;
  for (let i = 0; i < n; i++) {
    // sfc32's step, as Rng.nextU32 (a test holds them equal).
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    // zigguratPoint and zigguratInner, written out (no calls in this loop; a test holds them equal).
    const x = ((t >>> 9) + 0.5) * STEP[t & 511];
    out[i] = x;
    if (!(Math.abs(x) < EDGE[(t & 255) + 1])) {
      at[m] = i;
      words[m++] = t;
    }
  }
  rng.setState(a, b, c, d);
  for (let j = 0; j < m; j++) out[at[j]] = zigguratOuter(words[j], slow);
}
