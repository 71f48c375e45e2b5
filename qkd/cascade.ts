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

  /** Packed bits (see packWords) in pass order, packed. */
  gatherPacked(src: Uint32Array): Uint32Array {
    const n = this.n;
    const a = this.a;
    const c = this.c;
    if (a === 1 && c === 0) return src.slice();
    const words = (n + 31) >>> 5;
    const full = n >>> 5;
    const out = new Uint32Array(words);
    // The partial last word first: code after a hot loop would run without type
    // feedback and throw the loop's optimised code away on every call.
    if (full < words) {
      let x = (c + ((a * 32 * full) % n)) % n; // a * 32 * full < 2^52: exact
      let acc = 0;
      for (let b = 0; b < (n & 31); b++) {
        acc |= ((src[x >>> 5] >>> (x & 31)) & 1) << b;
        x += a;
        x -= ((n - 1 - x) >> 31) & n;
      }
      out[full] = acc;
    }
    // Whole words as four interleaved streams of 8 bits (x, x + 8a, x + 16a, x + 24a)
    // for instruction-level parallelism; the wrap mod n is branch-free (a coin flip).
    const a8 = (8 * a) % n;
    let x0 = c;
    for (let w = 0; w < full; w++) {
      let x1 = x0 + a8;
      x1 -= ((n - 1 - x1) >> 31) & n;
      let x2 = x1 + a8;
      x2 -= ((n - 1 - x2) >> 31) & n;
      let x3 = x2 + a8;
      x3 -= ((n - 1 - x3) >> 31) & n;
      let acc = 0;
      for (let b = 0; b < 8; b++) {
        acc |=
          (((src[x0 >>> 5] >>> (x0 & 31)) & 1) << b) |
          (((src[x1 >>> 5] >>> (x1 & 31)) & 1) << (b + 8)) |
          (((src[x2 >>> 5] >>> (x2 & 31)) & 1) << (b + 16)) |
          (((src[x3 >>> 5] >>> (x3 & 31)) & 1) << (b + 24));
        x0 += a;
        x0 -= ((n - 1 - x0) >> 31) & n;
        x1 += a;
        x1 -= ((n - 1 - x1) >> 31) & n;
        x2 += a;
        x2 -= ((n - 1 - x2) >> 31) & n;
        x3 += a;
        x3 -= ((n - 1 - x3) >> 31) & n;
      }
      out[w] = acc;
      x0 = x3; // x3 has reached the next word's first position, x + 32a
    }
    return out;
  }
}

/** 0/1 bytes packed LSB first into 32-bit words. */
export function packWords(bits: Uint8Array): Uint32Array {
  const n = bits.length;
  const words = (n + 31) >>> 5;
  const out = new Uint32Array(words);
  for (let w = 0; w < words; w++) {
    const i = w << 5;
    const count = Math.min(32, n - i);
    let acc = 0;
    for (let b = 0; b < count; b++) acc |= bits[i + b] << b;
    out[w] = acc;
  }
  return out;
}

/** Parity of 32 bits. */
function parity32(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}

/** Parity of packed bits [s, e). */
export function rangeParity(words: Uint32Array, s: number, e: number): number {
  if (e <= s) return 0;
  const ws = s >>> 5;
  const we = (e - 1) >>> 5;
  const headMask = (0xffffffff << (s & 31)) >>> 0;
  const tailMask = 0xffffffff >>> (31 - ((e - 1) & 31));
  if (ws === we) return parity32(words[ws] & headMask & tailMask);
  let acc = (words[ws] & headMask) ^ (words[we] & tailMask);
  for (let w = ws + 1; w < we; w++) acc ^= words[w];
  return parity32(acc);
}

/**
 * Prefix parities of packed bits: bit i of the result (i = 0..n) is the parity of
 * bits [0, i), so a range parity is two bit reads.
 */
function prefixParities(words: Uint32Array, n: number): Uint32Array {
  const out = new Uint32Array((n + 1 + 31) >>> 5);
  // Inclusive prefix within each word, shifted by one position into `out`.
  let carry = 0; // parity of everything before the current word
  for (let w = 0; w < words.length; w++) {
    let p = words[w];
    p ^= p << 1;
    p ^= p << 2;
    p ^= p << 4;
    p ^= p << 8;
    p ^= p << 16;
    if (carry) p = ~p;
    // bit b of p = parity of bits [0, 32 w + b]  =>  prefix index 32 w + b + 1.
    out[w] |= (p << 1) >>> 0;
    out[w + 1] = p >>> 31;
    carry = p >>> 31;
  }
  // Bits past n in the last word are garbage only above index n (never read).
  return out;
}

function getBit(words: Uint32Array, i: number): number {
  return (words[i >>> 5] >>> (i & 31)) & 1;
}

/** Alice's side: parities of any block or range of a pass, from prefix parities. */
export class CascadeOracle {
  /** Per pass: bit i = parity of pass-order bits [0, i) (packed). */
  private readonly prefix: Uint32Array[] = [];
  private readonly sizes: number[] = [];
  private readonly n: number;
  private readonly packed: Uint32Array;
  leakedBits = 0;

  constructor(bits: Uint8Array) {
    this.n = bits.length;
    this.packed = packWords(bits);
  }

  answer(req: CascadeRequest): Uint8Array {
    return req.kind === 'top' ? this.answerTop(req.pass, req.blockSize, req.permSeed) : this.answerRanges(req.passes, req.starts, req.ends);
  }

  private answerTop(pass: number, k: number, permSeed: number): Uint8Array {
    const n = this.n;
    const pbits = new PassMap(n, permSeed, pass).gatherPacked(this.packed);
    const pre = prefixParities(pbits, n);
    this.prefix[pass] = pre;
    this.sizes[pass] = k;
    const blocks = Math.ceil(n / k);
    // Book-keeping before the loop: code after a hot loop runs without type feedback.
    this.leakedBits += blocks;
    return topParities(pre, n, k, blocks);
  }

  private answerRanges(passes: Uint8Array, starts: Int32Array, ends: Int32Array): Uint8Array {
    const n = this.n;
    const count = starts.length;
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const pre = this.prefix[passes[i]];
      if (!pre) throw new Error(`cascade: pass ${passes[i]} not started`);
      const s = starts[i];
      const e = ends[i];
      if (!(s >= 0 && e > s && e <= n)) throw new Error(`cascade: bad range [${s}, ${e})`);
      out[i] = getBit(pre, e) ^ getBit(pre, s);
    }
    this.leakedBits += count;
    return out;
  }
}

interface PassState {
  k: number;
  map: PassMap;
  /** Bob's current bits in pass order, packed. */
  words: Uint32Array;
  aliceTop: Uint8Array;
  bobTop: Uint8Array;
  /** Active search per block (index into the search table), -1 when none. */
  searching: Int32Array;
}

const KEY = 1 << 26; // pending key = pass * 2^26 + block

/**
 * Bob's Cascade state. The per-round work lives in methods, not in the generator or
 * in closures: a closure made afresh for every block would hand the optimiser a new
 * call target each time and throw its code away.
 */
class BobCascade {
  readonly n: number;
  readonly passes: PassState[] = [];
  /** Bob's current bits, packed (the permutations gather from it). */
  readonly current: Uint32Array;
  leaked = 0;
  roundTrips = 0;
  readonly flipCount = new Map<number, number>();
  // Open searches: pass, block, current range [lo, hi) in pass order; alive flag.
  sPass: number[] = [];
  sBlock: number[] = [];
  sLo: number[] = [];
  sHi: number[] = [];
  sAlive: boolean[] = [];
  readonly pending = new Set<number>();

  constructor(readonly bits: Uint8Array) {
    this.n = bits.length;
    this.current = packWords(bits);
  }

  odd(q: number, b: number): boolean {
    return this.passes[q].bobTop[b] !== this.passes[q].aliceTop[b];
  }

  flip(j: number): void {
    this.bits[j] ^= 1;
    this.current[j >>> 5] ^= 1 << (j & 31);
    this.flipCount.set(j, (this.flipCount.get(j) ?? 0) + 1);
    const passes = this.passes;
    const pending = this.pending;
    for (let q = 0; q < passes.length; q++) {
      const ps = passes[q];
      const pos = ps.map.pos(j);
      ps.words[pos >>> 5] ^= 1 << (pos & 31);
      const b = Math.floor(pos / ps.k);
      ps.bobTop[b] ^= 1;
      const s = ps.searching[b];
      if (s >= 0) {
        if (pos >= this.sLo[s] && pos < this.sHi[s]) {
          // Invariant broken: drop the search, judge the block afresh.
          this.sAlive[s] = false;
          ps.searching[b] = -1;
          if (this.odd(q, b)) pending.add(q * KEY + b);
          else pending.delete(q * KEY + b);
        }
        // Otherwise the search goes on; its block is re-judged when it ends.
      } else if (this.odd(q, b)) pending.add(q * KEY + b);
      else pending.delete(q * KEY + b);
    }
  }

  open(q: number, b: number): void {
    const ps = this.passes[q];
    const lo = b * ps.k;
    const hi = Math.min(this.n, lo + ps.k);
    if (hi - lo === 1) {
      this.flip(ps.map.at(lo)); // a one-bit block with odd parity is its own error
      return;
    }
    ps.searching[b] = this.sPass.length;
    this.sPass.push(q);
    this.sBlock.push(b);
    this.sLo.push(lo);
    this.sHi.push(hi);
    this.sAlive.push(true);
  }

  /**
   * Open pending blocks of one pass at a time (the one with the smallest blocks), and
   * only when no search is running: flips then never land inside another open
   * search, and cheap small-block searches clear errors before big ones.
   */
  openPending(): void {
    const passes = this.passes;
    let best = -1;
    for (const key of this.pending) {
      const q = Math.floor(key / KEY);
      if (best < 0 || passes[q].k < passes[best].k) best = q;
    }
    for (const key of [...this.pending]) {
      const q = Math.floor(key / KEY);
      if (q !== best) continue;
      const b = key - q * KEY;
      this.pending.delete(key);
      if (passes[q].searching[b] < 0 && this.odd(q, b)) this.open(q, b);
    }
  }

  addOddBlocks(p: number, bobTop: Uint8Array, aliceTop: Uint8Array): void {
    for (let b = 0; b < bobTop.length; b++) if (bobTop[b] !== aliceTop[b]) this.pending.add(p * KEY + b);
  }

  /** One halving level of every open search: the left half of each range (>= 2 bits). */
  rangesRequest(): { kind: 'ranges'; passes: Uint8Array; starts: Int32Array; ends: Int32Array } {
    const m = this.sPass.length;
    const passesArr = new Uint8Array(m);
    const starts = new Int32Array(m);
    const ends = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      passesArr[i] = this.sPass[i];
      starts[i] = this.sLo[i];
      ends[i] = (this.sLo[i] + this.sHi[i]) >>> 1;
    }
    return { kind: 'ranges', passes: passesArr, starts, ends };
  }

  applyReply(reply: Uint8Array, ends: Int32Array): void {
    const m = this.sPass.length;
    const passes = this.passes;
    const { sPass, sBlock, sLo, sHi, sAlive } = this;
    this.roundTrips++;
    this.leaked += m;
    const ended: number[] = [];
    for (let i = 0; i < m; i++) {
      if (!sAlive[i]) continue;
      const ps = passes[sPass[i]];
      let a = sLo[i];
      let b = sHi[i];
      const mid = ends[i];
      const left = rangeParity(ps.words, a, mid) !== reply[i];
      if (left) b = mid;
      else a = mid;
      sLo[i] = a;
      sHi[i] = b;
      if (b - a === 1) {
        sAlive[i] = false;
        ps.searching[sBlock[i]] = -1;
        ended.push(i);
        this.flip(ps.map.at(a));
      }
    }
    for (const i of ended) {
      const q = sPass[i];
      const b = sBlock[i];
      if (passes[q].searching[b] < 0 && this.odd(q, b)) this.pending.add(q * KEY + b);
    }
    const nextP: number[] = [];
    const nextB: number[] = [];
    const nextLo: number[] = [];
    const nextHi: number[] = [];
    for (let i = 0; i < m; i++) {
      if (!sAlive[i]) continue;
      passes[sPass[i]].searching[sBlock[i]] = nextP.length;
      nextP.push(sPass[i]);
      nextB.push(sBlock[i]);
      nextLo.push(sLo[i]);
      nextHi.push(sHi[i]);
    }
    this.sPass = nextP;
    this.sBlock = nextB;
    this.sLo = nextLo;
    this.sHi = nextHi;
    this.sAlive = new Array<boolean>(nextP.length).fill(true);
  }
}

/**
 * Bob's side. Yields requests, receives Alice's parities (one byte 0/1 each), and
 * corrects `bits` in place. All odd blocks of one pass are searched in parallel (one
 * round trip per halving level); blocks of earlier passes re-opened by the flips are
 * then searched the same way, the pass with the smallest blocks first. Only one pass is
 * searched at a time, so a flip never lands inside another open search's range.
 * Bits are kept packed per pass, so a range parity costs a word XOR per 32 bits.
 */
export function* cascadeBob(bits: Uint8Array, opts: CascadeOptions): Generator<CascadeRequest, CascadeOutcome, Uint8Array> {
  const n = bits.length;
  const st = new BobCascade(bits);
  for (let p = 0; p < opts.blockSizes.length; p++) {
    const k = opts.blockSizes[p];
    const map = new PassMap(n, opts.seed, p);
    const words = map.gatherPacked(st.current);
    const blocks = Math.ceil(n / k);
    const bobTop = blockParities(words, n, k);
    const aliceTop: Uint8Array = yield { kind: 'top', pass: p, blockSize: k, permSeed: opts.seed };
    st.roundTrips++;
    st.leaked += blocks;
    st.passes.push({ k, map, words, aliceTop, bobTop, searching: new Int32Array(blocks).fill(-1) });
    st.addOddBlocks(p, bobTop, aliceTop);
    // Search until no block of any pass is odd.
    for (;;) {
      if (st.sPass.length === 0 && st.pending.size > 0) st.openPending();
      if (st.sPass.length === 0) {
        if (st.pending.size === 0) break;
        continue;
      }
      const req = st.rangesRequest();
      const reply: Uint8Array = yield req;
      st.applyReply(reply, req.ends);
    }
  }
  // A position flipped twice is back to its original value: report net flips only.
  const net = Int32Array.from([...st.flipCount].filter(([, c]) => (c & 1) === 1).map(([j]) => j)).sort();
  return { leakedBits: st.leaked, corrected: net.length, flipped: net, roundTrips: st.roundTrips };
}

/** Block parities of a pass from its prefix parities. */
function topParities(pre: Uint32Array, n: number, k: number, blocks: number): Uint8Array {
  const out = new Uint8Array(blocks);
  let prev = 0;
  for (let b = 0; b < blocks; b++) {
    const cur = getBit(pre, Math.min(n, (b + 1) * k));
    out[b] = cur ^ prev;
    prev = cur;
  }
  return out;
}

/** Parities of consecutive blocks of k bits (the last one shorter) of packed bits. */
function blockParities(words: Uint32Array, n: number, k: number): Uint8Array {
  const blocks = Math.ceil(n / k);
  const out = new Uint8Array(blocks);
  for (let b = 0; b < blocks; b++) out[b] = rangeParity(words, b * k, Math.min(n, (b + 1) * k));
  return out;
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
