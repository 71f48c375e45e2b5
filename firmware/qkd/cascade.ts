/**
 * Cascade error correction (Brassard-Salvail) with tuned block sizes, batched so
 * that all binary searches of one pass run in parallel: one round trip per search
 * level, not per error. Bob corrects his key towards Alice's; Alice is a parity
 * oracle and every parity bit she discloses counts as leakage.
 *
 * Bob's side is a generator: it yields requests and is resumed with Alice's parity
 * bits, so it can run over any message channel (see alice.ts / bob.ts).
 */
import { binaryEntropy } from './entropy.ts';
import { Rng } from './random.ts';

export type CascadeRequest =
  | { kind: 'top'; pass: number; blockSize: number; permSeed: number }
  | { kind: 'ranges'; pass: number; starts: Int32Array; ends: Int32Array };

export interface CascadeOptions {
  /** Block sizes of the passes (first one near 0.73/QBER and growing). */
  blockSizes: number[];
  /** Public seed of the per-pass permutations (pass 0 is unpermuted). */
  seed: number;
}

export interface CascadeOutcome {
  /** Parity bits disclosed by Alice. */
  leakedBits: number;
  /** Bits Bob flipped. */
  corrected: number;
  /** Positions Bob flipped (original order), ascending. */
  flipped: Int32Array;
  roundTrips: number;
}

/**
 * Tuned block sizes for an expected QBER (tuned with the benchmark on 1e6-bit keys):
 * a first block of about alpha/Q bits, then doubling, then a few large passes that
 * mop up the rare survivors cheaply (two parities each).
 */
export function cascadeBlockSizes(qber: number, n: number): number[] {
  const q = Math.min(Math.max(qber, 0.002), 0.25);
  const k1 = Math.max(4, Math.round(0.73 / q));
  const sizes = [k1, 2 * k1, 4 * k1, 8 * k1];
  const big = Math.max(8 * k1, Math.ceil(n / 4));
  for (let i = 0; i < 6; i++) sizes.push(big);
  return sizes.map((k) => Math.min(k, Math.max(1, n)));
}

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
}

/** Alice's side: parities of any block or range of a pass, from prefix parities. */
export class CascadeOracle {
  private readonly prefix: Uint8Array[] = [];
  private readonly sizes: number[] = [];
  leakedBits = 0;

  constructor(private readonly bits: Uint8Array) {}

  answer(req: CascadeRequest): Uint8Array {
    if (req.kind === 'top') {
      const n = this.bits.length;
      const pbits = new PassMap(n, req.permSeed, req.pass).gather(this.bits);
      const pre = new Uint8Array(n + 1);
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc ^= pbits[i];
        pre[i + 1] = acc;
      }
      this.prefix[req.pass] = pre;
      this.sizes[req.pass] = req.blockSize;
      const blocks = Math.ceil(n / req.blockSize);
      const out = new Uint8Array(blocks);
      for (let b = 0; b < blocks; b++) {
        out[b] = pre[Math.min(n, (b + 1) * req.blockSize)] ^ pre[b * req.blockSize];
      }
      this.leakedBits += blocks;
      return out;
    }
    const pre = this.prefix[req.pass];
    if (!pre) throw new Error(`cascade: pass ${req.pass} not started`);
    const out = new Uint8Array(req.starts.length);
    for (let i = 0; i < out.length; i++) {
      const s = req.starts[i];
      const e = req.ends[i];
      if (!(s >= 0 && e > s && e < pre.length)) throw new Error(`cascade: bad range [${s}, ${e})`);
      out[i] = pre[e] ^ pre[s];
    }
    this.leakedBits += out.length;
    return out;
  }
}

interface PassState {
  k: number;
  map: PassMap;
  bits: Uint8Array;
  aliceTop: Uint8Array;
  bobTop: Uint8Array;
}

/**
 * Bob's side. Yields requests, receives Alice's parities (one byte 0/1 each), and
 * corrects `bits` in place. Returns the outcome when all passes are done.
 */
export function* cascadeBob(bits: Uint8Array, opts: CascadeOptions): Generator<CascadeRequest, CascadeOutcome, Uint8Array> {
  const n = bits.length;
  const passes: PassState[] = [];
  let leaked = 0;
  let roundTrips = 0;
  const flips: number[] = [];

  const flip = (j: number, searchingPass: number, pending: Set<number>[]) => {
    bits[j] ^= 1;
    flips.push(j);
    for (let q = 0; q < passes.length; q++) {
      const ps = passes[q];
      const pos = ps.map.pos(j);
      ps.bits[pos] ^= 1;
      const b = Math.floor(pos / ps.k);
      ps.bobTop[b] ^= 1;
      if (q !== searchingPass) {
        if (ps.bobTop[b] !== ps.aliceTop[b]) pending[q].add(b);
        else pending[q].delete(b);
      }
    }
  };

  // Parallel binary search over odd blocks of one pass; returns nothing, flips bits.
  function* search(p: number, blocks: number[], pending: Set<number>[]): Generator<CascadeRequest, void, Uint8Array> {
    const ps = passes[p];
    let lo = new Int32Array(blocks.length);
    let hi = new Int32Array(blocks.length);
    for (let i = 0; i < blocks.length; i++) {
      lo[i] = blocks[i] * ps.k;
      hi[i] = Math.min(n, (blocks[i] + 1) * ps.k);
    }
    let active = blocks.length;
    while (active > 0) {
      const starts = new Int32Array(active);
      const ends = new Int32Array(active);
      for (let i = 0; i < active; i++) {
        starts[i] = lo[i];
        ends[i] = (lo[i] + hi[i]) >>> 1;
      }
      const reply: Uint8Array = yield { kind: 'ranges', pass: p, starts, ends };
      roundTrips++;
      leaked += active;
      const nlo = new Int32Array(active);
      const nhi = new Int32Array(active);
      let next = 0;
      for (let i = 0; i < active; i++) {
        const s = starts[i];
        const m = ends[i];
        let par = 0;
        for (let x = s; x < m; x++) par ^= ps.bits[x];
        let a = lo[i];
        let b = hi[i];
        if (par !== reply[i]) b = m;
        else a = m;
        if (b - a === 1) flip(ps.map.at(a), p, pending);
        else {
          nlo[next] = a;
          nhi[next] = b;
          next++;
        }
      }
      lo = nlo;
      hi = nhi;
      active = next;
    }
  }

  const pending: Set<number>[] = [];
  for (let p = 0; p < opts.blockSizes.length; p++) {
    const k = opts.blockSizes[p];
    const map = new PassMap(n, opts.seed, p);
    const pbits = map.gather(bits);
    const blocks = Math.ceil(n / k);
    const bobTop = new Uint8Array(blocks);
    for (let b = 0, i = 0; b < blocks; b++) {
      const end = Math.min(n, i + k);
      let par = 0;
      for (; i < end; i++) par ^= pbits[i];
      bobTop[b] = par;
    }
    const aliceTop: Uint8Array = yield { kind: 'top', pass: p, blockSize: k, permSeed: opts.seed };
    roundTrips++;
    leaked += blocks;
    passes.push({ k, map, bits: pbits, aliceTop, bobTop });
    pending.push(new Set());
    const odd: number[] = [];
    for (let b = 0; b < blocks; b++) if (bobTop[b] !== aliceTop[b]) odd.push(b);
    yield* search(p, odd, pending);
    // Cascade: re-open blocks of earlier passes made odd by the flips, smallest blocks first.
    for (;;) {
      let q = -1;
      for (let r = 0; r < passes.length; r++) {
        if (pending[r].size > 0 && (q < 0 || passes[r].k < passes[q].k)) q = r;
      }
      if (q < 0) break;
      const list = [...pending[q]];
      pending[q].clear();
      yield* search(q, list, pending);
    }
  }
  const flipped = Int32Array.from(new Set(flips)).sort();
  // A position flipped twice is back to its original value: report net flips only.
  const count = new Map<number, number>();
  for (const j of flips) count.set(j, (count.get(j) ?? 0) + 1);
  const net = Int32Array.from([...flipped].filter((j) => (count.get(j)! & 1) === 1));
  return { leakedBits: leaked, corrected: net.length, flipped: net, roundTrips };
}

/** Run Cascade in process against a local oracle (benchmarks, tests). */
export function cascadeLocal(alice: Uint8Array, bob: Uint8Array, opts: CascadeOptions): CascadeOutcome & { oracleLeak: number } {
  const oracle = new CascadeOracle(alice);
  const gen = cascadeBob(bob, opts);
  let step = gen.next();
  while (!step.done) step = gen.next(oracle.answer(step.value));
  return { ...step.value, oracleLeak: oracle.leakedBits };
}

/** Efficiency f = leaked / (n h(Q)) for the actual error rate Q. */
export function ecEfficiency(leakedBits: number, n: number, errors: number): number {
  const h = binaryEntropy(errors / n);
  return h > 0 ? leakedBits / (n * h) : Infinity;
}
