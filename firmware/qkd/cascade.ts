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
  /** Parities of ranges [start, end) of the given passes (one pass per range). */
  | { kind: 'ranges'; passes: Uint8Array; starts: Int32Array; ends: Int32Array };

/** Searches open at most this many use multi-level queries. */
const TAIL_SEARCHES = 0;
const TAIL_DEPTH = 3;

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
 * Tuned block sizes for an expected QBER (tuned with `npm run bench -- qkd` on 1e6-bit
 * keys): a first block of about 1/Q bits, growing fourfold for three passes, then four
 * passes over quarters of the key that mop up rare survivors for a handful of parities.
 */
export function cascadeBlockSizes(qber: number, n: number): number[] {
  const q = Math.min(Math.max(qber, 0.002), 0.25);
  const k1 = Math.max(4, Math.round(1.0 / q));
  // Never a block as large as the key: a pass with one block cannot see an even
  // number of residual errors. The large passes use quarters of the key.
  const cap = Math.max(1, Math.ceil(n / 4));
  const big = Math.max(64 * k1, cap);
  return [k1, 4 * k1, 16 * k1, 64 * k1, big, big, big, big].map((k) => Math.min(k, cap));
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
    const out = new Uint8Array(req.starts.length);
    for (let i = 0; i < out.length; i++) {
      const pre = this.prefix[req.passes[i]];
      if (!pre) throw new Error(`cascade: pass ${req.passes[i]} not started`);
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
  /** Active search per block (index into the search table), -1 when none. */
  searching: Int32Array;
}

/**
 * Bob's side. Yields requests, receives Alice's parities (one byte 0/1 each), and
 * corrects `bits` in place. All odd blocks of one pass are searched in parallel (one
 * round trip per halving level); blocks of earlier passes re-opened by the flips are
 * then searched the same way, the pass with the smallest blocks first. Only one pass is
 * searched at a time, so a flip never lands inside another open search's range.
 */
export function* cascadeBob(bits: Uint8Array, opts: CascadeOptions): Generator<CascadeRequest, CascadeOutcome, Uint8Array> {
  const n = bits.length;
  const passes: PassState[] = [];
  let leaked = 0;
  let roundTrips = 0;
  const flipCount = new Map<number, number>();
  // Open searches: pass, block, current range [lo, hi) in pass order; alive flag.
  let sPass: number[] = [];
  let sBlock: number[] = [];
  let sLo: number[] = [];
  let sHi: number[] = [];
  let sAlive: boolean[] = [];
  const pending = new Set<number>(); // pass * 2^26 + block
  const KEY = 1 << 26;

  const odd = (q: number, b: number) => passes[q].bobTop[b] !== passes[q].aliceTop[b];

  const flip = (j: number) => {
    bits[j] ^= 1;
    flipCount.set(j, (flipCount.get(j) ?? 0) + 1);
    for (let q = 0; q < passes.length; q++) {
      const ps = passes[q];
      const pos = ps.map.pos(j);
      ps.bits[pos] ^= 1;
      const b = Math.floor(pos / ps.k);
      ps.bobTop[b] ^= 1;
      const s = ps.searching[b];
      if (s >= 0) {
        if (pos >= sLo[s] && pos < sHi[s]) {
          // Invariant broken: drop the search, judge the block afresh.
          sAlive[s] = false;
          ps.searching[b] = -1;
          if (odd(q, b)) pending.add(q * KEY + b);
          else pending.delete(q * KEY + b);
        }
        // Otherwise the search goes on; its block is re-judged when it ends.
      } else if (odd(q, b)) pending.add(q * KEY + b);
      else pending.delete(q * KEY + b);
    }
  };

  const open = (q: number, b: number) => {
    const ps = passes[q];
    const lo = b * ps.k;
    const hi = Math.min(n, lo + ps.k);
    if (hi - lo === 1) {
      flip(ps.map.at(lo)); // a one-bit block with odd parity is its own error
      return;
    }
    ps.searching[b] = sPass.length;
    sPass.push(q);
    sBlock.push(b);
    sLo.push(lo);
    sHi.push(hi);
    sAlive.push(true);
  };

  function* searchAll(): Generator<CascadeRequest, void, Uint8Array> {
    for (;;) {
      // Open pending blocks of one pass at a time (the one with the smallest blocks),
      // and only when no search is running: flips then never land inside another
      // open search, and cheap small-block searches clear errors before big ones.
      if (sPass.length === 0 && pending.size > 0) {
        let best = -1;
        for (const key of pending) {
          const q = Math.floor(key / KEY);
          if (best < 0 || passes[q].k < passes[best].k) best = q;
        }
        for (const key of [...pending]) {
          const q = Math.floor(key / KEY);
          if (q !== best) continue;
          const b = key - q * KEY;
          pending.delete(key);
          if (passes[q].searching[b] < 0 && odd(q, b)) open(q, b);
        }
      }
      if (sPass.length === 0) {
        if (pending.size === 0) return;
        continue;
      }
      const m = sPass.length;
      // Few searches left (the cascade's tail): ask `depth` levels of each search at
      // once (2^depth - 1 parities) to save round trips at a small cost in leakage.
      const depth = m <= TAIL_SEARCHES ? TAIL_DEPTH : 1;
      const per = (1 << depth) - 1;
      const passesArr = new Uint8Array(m * per);
      const starts = new Int32Array(m * per);
      const ends = new Int32Array(m * per);
      const counts = new Int32Array(m);
      let q = 0;
      for (let i = 0; i < m; i++) {
        // Breadth-first dyadic nodes: for each node [lo, hi) with hi - lo > 1, its left half.
        const lo0 = sLo[i];
        const hi0 = sHi[i];
        let level: [number, number][] = [[lo0, hi0]];
        const start = q;
        for (let d = 0; d < depth && level.length > 0; d++) {
          const nextLevel: [number, number][] = [];
          for (const [lo, hi] of level) {
            if (hi - lo < 2) continue;
            const mid = (lo + hi) >>> 1;
            passesArr[q] = sPass[i];
            starts[q] = lo;
            ends[q] = mid;
            q++;
            nextLevel.push([lo, mid], [mid, hi]);
          }
          level = nextLevel;
        }
        counts[i] = q - start;
      }
      const reply: Uint8Array = yield { kind: 'ranges', passes: passesArr.subarray(0, q), starts: starts.subarray(0, q), ends: ends.subarray(0, q) };
      roundTrips++;
      leaked += q;
      const next = { p: [] as number[], b: [] as number[], lo: [] as number[], hi: [] as number[] };
      const ended: number[] = [];
      for (let i = 0, base = 0; i < m; base += counts[i], i++) {
        if (!sAlive[i]) continue;
        const ps = passes[sPass[i]];
        // Walk down the answered levels: node index in breadth-first order.
        let a = sLo[i];
        let b = sHi[i];
        let node = 0; // index among answered nodes of this search
        let levelStart = 0;
        let levelWidth = 1;
        let posInLevel = 0;
        for (let d = 0; d < depth && b - a > 1; d++) {
          const idx = base + levelStart + posInLevel;
          if (idx >= base + counts[i] || starts[idx] !== a) break;
          const mid = ends[idx];
          let par = 0;
          for (let x = a; x < mid; x++) par ^= ps.bits[x];
          const left = par !== reply[idx];
          if (left) b = mid;
          else a = mid;
          levelStart += levelWidth;
          posInLevel = posInLevel * 2 + (left ? 0 : 1);
          levelWidth *= 2;
          node++;
        }
        void node;
        sLo[i] = a;
        sHi[i] = b;
        if (b - a === 1) {
          sAlive[i] = false;
          ps.searching[sBlock[i]] = -1;
          ended.push(i);
          flip(ps.map.at(a));
        }
      }
      for (const i of ended) {
        const q = sPass[i];
        const b = sBlock[i];
        if (passes[q].searching[b] < 0 && odd(q, b)) pending.add(q * KEY + b);
      }
      for (let i = 0; i < m; i++) {
        if (!sAlive[i]) continue;
        passes[sPass[i]].searching[sBlock[i]] = next.p.length;
        next.p.push(sPass[i]);
        next.b.push(sBlock[i]);
        next.lo.push(sLo[i]);
        next.hi.push(sHi[i]);
      }
      sPass = next.p;
      sBlock = next.b;
      sLo = next.lo;
      sHi = next.hi;
      sAlive = next.p.map(() => true);
    }
  }

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
    passes.push({ k, map, bits: pbits, aliceTop, bobTop, searching: new Int32Array(blocks).fill(-1) });
    for (let b = 0; b < blocks; b++) if (bobTop[b] !== aliceTop[b]) pending.add(p * KEY + b);
    yield* searchAll();
  }
  // A position flipped twice is back to its original value: report net flips only.
  const net = Int32Array.from([...flipCount].filter(([, c]) => (c & 1) === 1).map(([j]) => j)).sort();
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
