/**
 * Counter-based pseudo-random numbers for emulators: value = hash(seed, stream, counter).
 * No Math.random anywhere in simulation, so a seed reproduces a run bit for bit.
 */
function mix32(x: number): number {
  // lowbias32 integer hash (public-domain constants by C. Wellons).
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export function hash32(seed: number, stream: number, counter: number): number {
  return mix32(mix32(mix32(seed >>> 0) ^ Math.imul(stream + 1, 0x9e3779b9)) ^ (counter >>> 0) ^ Math.imul(Math.floor(counter / 0x100000000), 0x85ebca6b));
}

/** A sequential stream over the counter-based hash. */
export class Prng {
  private n = 0;
  constructor(
    readonly seed: number,
    readonly stream: number,
  ) {}
  /** Uniform in [0, 1). */
  next(): number {
    return hash32(this.seed, this.stream, this.n++) / 0x100000000;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Poisson-distributed count with mean `lambda` (normal approximation above 30). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }
}

/** Stable small integer for a name (emulator stream ids). */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
