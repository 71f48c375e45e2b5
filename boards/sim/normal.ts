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
 * zigguratPoint, zigguratInner and zigguratOuter are the sampler; normals runs it (the
 * tagger's batches inline the first two, reading EDGE and STEP).
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
export const EDGE = new Float64Array(LAYERS + 1);
const F = new Float64Array(LAYERS + 1);
/** STEP[t & 511]: the signed width of one of the 2^23 places along layer t & 255. */
export const STEP = new Float64Array(2 * LAYERS);
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

/**
 * The deviate for draw t: its point when zigguratInner takes it (no further draw),
 * else the wedge test, the tail, or a new draw, with further draws of `rng`.
 */
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

/**
 * out[0..n) = the next n standard normal deviates: one draw of `rng` each, and for the
 * 1.5 % that zigguratInner leaves, further draws of `slow`. The plain loop: the tagger's
 * batches inline it (time-tagger.ts, held to this by a test).
 */
export function normals(rng: Rng, slow: Rng, out: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = zigguratOuter(rng.nextU32(), slow);
}
