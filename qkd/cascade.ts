/**
 * Cascade error correction (Brassard-Salvail) with tuned block sizes, batched so
 * that all binary searches of one pass run in parallel: one round trip per search
 * level, not per error. Bob corrects his key towards Alice's; Alice is a parity
 * oracle and every parity bit she discloses counts as leakage.
 *
 * Bob's side is a generator: it yields requests and is resumed with Alice's parity
 * bits, so it can run over any message channel (see alice.ts / bob.ts).
 */
import { parity32 } from './bits.ts';
import { binaryEntropy } from './entropy.ts';
import { SubsetMap, passOrder, type PassOrder } from './pass-order.ts';

export type CascadeRequest =
  | { kind: 'top'; pass: number; blockSize: number; permSeed: number }
  /** Parities of ranges [start, end) of the given passes (one pass per range). */
  | { kind: 'ranges'; passes: Uint8Array; starts: Int32Array; ends: Int32Array };

export interface CascadeOptions {
  /** Block sizes of the passes (see cascadeBlockSizes). */
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
 * Block sizes for an expected QBER Q (tuned with `npm run bench -- qkd` on 1e6-bit keys,
 * see docs/qkd.md): powers of two (a binary search then asks exactly log2 k parities),
 * k1 the power of two nearest 0.8/Q, k2 the one nearest 4.5/Q, k3 = 64 k1, then nine
 * passes over halves of the key (Martinez-Mateo et al. 2015: large blocks late cost two
 * parities each when they find nothing, and catch the rare pairs of errors the small
 * blocks could not split). Those are subset passes (SubsetMap): with three of them 1.2 %
 * of 2e4-bit keys at 1-3 % kept errors, with nine none of 900 (the old schedule: 1 in
 * 900). Larger first blocks lower the leakage a little further but lengthen the
 * cascades' round trips several-fold.
 */
export function cascadeBlockSizes(qber: number, n: number): number[] {
  const q = Math.min(Math.max(qber, 0.002), 0.25);
  const pow2 = (x: number) => 2 ** Math.max(2, Math.round(Math.log2(x)));
  const k1 = pow2(0.8 / q);
  const k2 = Math.max(2 * k1, pow2(4.5 / q));
  // Never a block as large as the key: a pass with one block cannot see an even
  // number of residual errors.
  const half = Math.max(1, Math.ceil(n / 2));
  return [k1, k2, 64 * k1, ...new Array<number>(9).fill(half)].map((k) => Math.min(k, half));
}

/** 0/1 bytes packed LSB first into 32-bit words. */
export function packWords(bits: Uint8Array): Uint32Array {
  const n = bits.length;
  const words = (n + 31) >>> 5;
  const out = new Uint32Array(words);
  let w = 0;
  if ((bits.byteOffset & 3) === 0) {
    // Four bytes b0..b3 (each 0 or 1) read as one little-endian word v: v * 0x204081
    // puts b_i at bit 21 + i with no carries (terms land at 8i + 7j, all distinct).
    const v = new Uint32Array(bits.buffer, bits.byteOffset, n >>> 2);
    for (; w < n >>> 5; w++) {
      const o = w << 3;
      out[w] =
        ((Math.imul(v[o], 0x204081) >>> 21) & 15) |
        (((Math.imul(v[o + 1], 0x204081) >>> 21) & 15) << 4) |
        (((Math.imul(v[o + 2], 0x204081) >>> 21) & 15) << 8) |
        (((Math.imul(v[o + 3], 0x204081) >>> 21) & 15) << 12) |
        (((Math.imul(v[o + 4], 0x204081) >>> 21) & 15) << 16) |
        (((Math.imul(v[o + 5], 0x204081) >>> 21) & 15) << 20) |
        (((Math.imul(v[o + 6], 0x204081) >>> 21) & 15) << 24) |
        (((Math.imul(v[o + 7], 0x204081) >>> 21) & 15) << 28);
    }
  }
  for (; w < words; w++) {
    const i = w << 5;
    const count = Math.min(32, n - i);
    let acc = 0;
    for (let b = 0; b < count; b++) acc |= bits[i + b] << b;
    out[w] = acc;
  }
  return out;
}

/**
 * Top parities of a pass with at most two blocks (the late passes over halves of the
 * key): one strided read of the first block, the second from the parity of all bits.
 * Such passes rarely find an error, so their gathered copy is only made if one does.
 */
function fewBlockParities(map: PassOrder, src: Uint32Array, n: number, k: number): Uint8Array {
  const first = map.parityOf(src, 0, Math.min(k, n));
  if (k >= n) return Uint8Array.of(first);
  let all = 0;
  for (let w = 0; w < src.length; w++) all ^= src[w];
  return Uint8Array.of(first, first ^ parity32(all));
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
  /** Per pass: bit i = parity of pass-order bits [0, i) (packed), made on first use. */
  private readonly prefix: (Uint32Array | undefined)[] = [];
  private readonly maps: PassOrder[] = [];
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
    const map = passOrder(n, permSeed, pass, k);
    if (map instanceof SubsetMap && k !== map.m) throw new Error(`cascade: pass ${pass} is a subset pass with a first block of ${map.m} bits, not ${k}`);
    this.maps[pass] = map;
    this.prefix[pass] = undefined;
    const blocks = Math.ceil(n / k);
    // Book-keeping before the loop: code after a hot loop runs without type feedback.
    this.leakedBits += blocks;
    if (blocks <= 2) return fewBlockParities(map, this.packed, n, k);
    const pre = this.prefixOf(pass);
    return topParities(pre, n, k, blocks);
  }

  private prefixOf(pass: number): Uint32Array {
    let pre = this.prefix[pass];
    if (!pre) {
      const map = this.maps[pass];
      if (!map) throw new Error(`cascade: pass ${pass} not started`);
      pre = prefixParities(map.gatherPacked(this.packed), this.n);
      this.prefix[pass] = pre;
    }
    return pre;
  }

  private answerRanges(passes: Uint8Array, starts: Int32Array, ends: Int32Array): Uint8Array {
    const n = this.n;
    const count = starts.length;
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const pre = this.prefix[passes[i]] ?? this.prefixOf(passes[i]);
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
  map: PassOrder;
  /** Bob's current bits in pass order, packed; made when a block of the pass is first searched. */
  words: Uint32Array | null;
  aliceTop: Uint8Array;
  bobTop: Uint8Array;
  /** Active search per block (index into the search table), -1 when none. */
  searching: Int32Array;
  /**
   * Points x (0..n) where Bob knows Alice's prefix parity G(x) of the pass order (bit
   * x set): the block edges from her top parities and every point a search asked
   * about. Any range between two known points has a known parity, so a block searched
   * again is first split at its known points for free and nothing is asked twice.
   */
  known: Uint32Array;
  /** G(x) at the known points. */
  g: Uint32Array;
}

const KEY = 1 << 26; // pending key = pass * 2^26 + block

/** Index of the lowest set bit of a non-zero 32-bit word. */
function lowestBit(w: number): number {
  return 31 - Math.clz32(w & -w);
}

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
  /** Per original position: flipped an odd number of times. */
  readonly toggled: Uint8Array;
  /** Every flip, in order (a position may repeat). */
  readonly flipLog: number[] = [];
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
    this.toggled = new Uint8Array(this.n);
  }

  addPass(k: number, map: PassOrder, aliceTop: Uint8Array): void {
    const n = this.n;
    const few = Math.ceil(n / k) <= 2;
    const words = few ? null : map.gatherPacked(this.current);
    const bobTop = words ? blockParities(words, n, k) : fewBlockParities(map, this.current, n, k);
    const blocks = bobTop.length;
    const known = new Uint32Array((n + 1 + 31) >>> 5);
    const g = new Uint32Array(known.length);
    known[0] = 1;
    let acc = 0;
    for (let b = 0; b < blocks; b++) {
      const x = Math.min(n, (b + 1) * k);
      acc ^= aliceTop[b];
      known[x >>> 5] |= 1 << (x & 31);
      g[x >>> 5] |= acc << (x & 31);
    }
    const p = this.passes.length;
    this.passes.push({ k, map, words, aliceTop, bobTop, searching: new Int32Array(blocks).fill(-1), known, g });
    for (let b = 0; b < blocks; b++) if (bobTop[b] !== aliceTop[b]) this.pending.add(p * KEY + b);
  }

  odd(q: number, b: number): boolean {
    return this.passes[q].bobTop[b] !== this.passes[q].aliceTop[b];
  }

  flip(j: number): void {
    this.bits[j] ^= 1;
    this.current[j >>> 5] ^= 1 << (j & 31);
    this.toggled[j] ^= 1;
    this.flipLog.push(j);
    const passes = this.passes;
    const pending = this.pending;
    for (let q = 0; q < passes.length; q++) {
      const ps = passes[q];
      const pos = ps.map.pos(j);
      if (ps.words) ps.words[pos >>> 5] ^= 1 << (pos & 31);
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

  /**
   * Start the search of odd block b of pass q in the shortest odd segment between
   * the points whose Alice prefix parity is known (a fresh block: the block itself).
   */
  open(q: number, b: number): void {
    const ps = this.passes[q];
    const words = (ps.words ??= ps.map.gatherPacked(this.current));
    const { known, g } = ps;
    const lo0 = b * ps.k;
    const hi0 = Math.min(this.n, lo0 + ps.k);
    let x = lo0;
    let gx = (g[x >>> 5] >>> (x & 31)) & 1;
    let bestLo = -1;
    let bestHi = -1;
    let y = x + 1;
    while (y <= hi0) {
      // Next known point at or after y.
      let w = known[y >>> 5] & (0xffffffff << (y & 31));
      let wi = y >>> 5;
      while (w === 0) w = known[++wi];
      y = (wi << 5) + lowestBit(w);
      const gy = (g[y >>> 5] >>> (y & 31)) & 1;
      if ((gx ^ gy) !== rangeParity(words, x, y) && (bestLo < 0 || y - x < bestHi - bestLo)) {
        bestLo = x;
        bestHi = y;
      }
      x = y;
      gx = gy;
      y = x + 1;
    }
    if (bestLo < 0) throw new Error(`cascade: block ${b} of pass ${q} judged odd but no odd segment`);
    if (bestHi - bestLo === 1) {
      this.flip(ps.map.at(bestLo)); // a one-bit segment with odd parity is its own error
      return;
    }
    ps.searching[b] = this.sPass.length;
    this.sPass.push(q);
    this.sBlock.push(b);
    this.sLo.push(bestLo);
    this.sHi.push(bestHi);
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
      const ps = passes[sPass[i]];
      let a = sLo[i];
      let b = sHi[i];
      const mid = ends[i];
      // Alice's parity of [a, mid) fixes G(mid): remembered even for a dropped search.
      const gMid = ((ps.g[a >>> 5] >>> (a & 31)) & 1) ^ reply[i];
      ps.known[mid >>> 5] |= 1 << (mid & 31);
      ps.g[mid >>> 5] |= gMid << (mid & 31);
      if (!sAlive[i]) continue;
      const left = rangeParity(ps.words!, a, mid) !== reply[i];
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

  /** Positions flipped an odd number of times (original order, ascending). */
  netFlips(): Int32Array {
    const net = Int32Array.from(this.flipLog.filter((j) => this.toggled[j] === 1)).sort();
    // A position flipped three times is logged three times: keep one.
    let o = 0;
    for (let i = 0; i < net.length; i++) if (i === 0 || net[i] !== net[i - 1]) net[o++] = net[i];
    return net.slice(0, o);
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
    const map = passOrder(n, opts.seed, p, opts.blockSizes[p]);
    const k = map instanceof SubsetMap ? map.m : opts.blockSizes[p];
    const aliceTop: Uint8Array = yield { kind: 'top', pass: p, blockSize: k, permSeed: opts.seed };
    st.roundTrips++;
    st.leaked += aliceTop.length;
    st.addPass(k, map, aliceTop);
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
  const net = st.netFlips();
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
