/**
 * Seeded 32-bit PRNG (mulberry32 recurrence) for the link model: small, fast and
 * reproducible bit for bit from its seed. Not for cryptography.
 */
export class SeededRandom {
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in (0, 1]: safe to take the logarithm of. */
  nextUnit(): number {
    return (this.nextU32() + 1) / 4294967296;
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(this.nextUnit()) * mean;
  }

  /** Derives an independent stream (for a second direction or component). */
  fork(salt: number): SeededRandom {
    return new SeededRandom((this.nextU32() ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0);
  }
}
