/**
 * Cascade error correction (Brassard-Salvail) with tuned block sizes, batched so
 * that all binary searches of one pass run in parallel: one round trip per search
 * level, not per error. Bob corrects his key towards Alice's; Alice is a parity
 * oracle and every parity bit she discloses counts as leakage.
 *
 * Bob's side is a generator: it yields requests and is resumed with Alice's parity
 * bits, so it can run over any message channel (see alice.ts / bob.ts).
 */
import { getBit, packBits, parity32 } from './bits.ts';
import { binaryEntropy } from './entropy.ts';
import { SubsetMap, passOrder, type PassOrder } from './pass-order.ts';

export type CascadeRequest =
  | { kind: 'top'; pass: number; blockSize: number; permSeed: number }
  /**
   * Parities of ranges [start, end) of the given passes (one pass per range). Bob's
   * generator reuses the arrays' buffers: encode or answer them before resuming it.
   */
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

/**
 * Top parities of a pass with at most two blocks (the late passes over halves of the
 * key): one strided read of the first block, the second from the parity of all bits
 * (`all`, kept by the caller). Such passes rarely find an error, so their gathered
 * copy is only made if one does.
 */
function fewBlockParities(map: PassOrder, src: Uint32Array, n: number, k: number, all: number): Uint8Array {
  const first = map.parityOf(src, 0, Math.min(k, n));
  if (k >= n) return Uint8Array.of(first);
  return Uint8Array.of(first, first ^ all);
}

/** Parity of all packed bits. */
function parityOfAll(words: Uint32Array): number {
  return parity32(xorAll(words));
}

/** XOR of all words (the loop alone: code after a long loop would deoptimise on every call). */
function xorAll(words: Uint32Array): number {
  let all = 0;
  for (let w = 0; w < words.length; w++) all ^= words[w];
  return all;
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

/** Alice's side: parities of any block or range of a pass, from prefix parities. */
export class CascadeOracle {
  /** Per pass: bit i = parity of pass-order bits [0, i) (packed), made on first use. */
  private readonly prefix: (Uint32Array | undefined)[] = [];
  private readonly maps: PassOrder[] = [];
  private readonly n: number;
  private readonly packed: Uint32Array;
  private readonly parityAll: number;
  leakedBits = 0;

  constructor(bits: Uint8Array) {
    this.n = bits.length;
    this.packed = packBits(bits);
    this.parityAll = parityOfAll(this.packed);
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
    if (blocks <= 2) return fewBlockParities(map, this.packed, n, k, this.parityAll);
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
    const out = this.rangeParities(passes, starts, ends);
    this.leakedBits += out.length;
    return out;
  }

  /**
   * The hot loop alone, nothing after it but the return: V8 compiles a long loop on
   * the stack (OSR) and caches that code, so code after the loop would run without
   * type feedback and deoptimise on every call.
   */
  private rangeParities(passes: Uint8Array, starts: Int32Array, ends: Int32Array): Uint8Array {
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
   * Made when the pass is first searched (the late passes seldom are).
   */
  known: Uint32Array | null;
  /** G(x) at the known points. */
  g: Uint32Array | null;
  /** Blocks judged odd and not yet searched: a flag per block, a list of candidates (may hold stale entries). */
  pendingFlag: Uint8Array;
  pendingList: number[];
  pendingCount: number;
}

/** Index of the lowest set bit of a non-zero 32-bit word. */
function lowestBit(w: number): number {
  return 31 - Math.clz32(w & -w);
}

/**
 * Bob's Cascade state. The per-round work lives in methods, not in the generator or
 * in closures: a closure made afresh for every block would hand the optimiser a new
 * call target each time and throw its code away. Searches live in typed arrays that
 * are compacted in place each round; pending blocks in per-pass flags and lists.
 */
class BobCascade {
  readonly n: number;
  readonly passes: PassState[] = [];
  /** Bob's current bits, packed (the permutations gather from it). */
  readonly current: Uint32Array;
  leaked = 0;
  roundTrips = 0;
  /** Per original position, packed: flipped an odd number of times. */
  readonly toggled: Uint32Array;
  /** Blocks pending over all passes. */
  pendingTotal = 0;
  /** Parity of all of Bob's current bits (every flip toggles it). */
  parityAll: number;
  /** The pass every open search belongs to (only one pass is searched at a time). */
  sPass = -1;
  /** Open searches: block and current range [lo, hi) in pass order; alive flag. */
  sCount = 0;
  sBlock = new Int32Array(0);
  sLo = new Int32Array(0);
  sHi = new Int32Array(0);
  sAlive = new Uint8Array(0);
  /** Buffers of the ranges requests. */
  reqPasses = new Uint8Array(0);
  reqStarts = new Int32Array(0);
  reqEnds = new Int32Array(0);

  constructor(readonly bits: Uint8Array) {
    this.n = bits.length;
    this.current = packBits(bits);
    this.toggled = new Uint32Array(this.current.length);
    this.parityAll = parityOfAll(this.current);
  }

  addPass(k: number, map: PassOrder, aliceTop: Uint8Array): void {
    const n = this.n;
    const few = Math.ceil(n / k) <= 2;
    const words = few ? null : map.gatherPacked(this.current);
    const bobTop = words ? blockParities(words, n, k) : fewBlockParities(map, this.current, n, k, this.parityAll);
    const blocks = bobTop.length;
    if (this.sBlock.length < blocks) {
      this.sBlock = new Int32Array(blocks);
      this.sLo = new Int32Array(blocks);
      this.sHi = new Int32Array(blocks);
      this.sAlive = new Uint8Array(blocks);
      this.reqPasses = new Uint8Array(blocks);
      this.reqStarts = new Int32Array(blocks);
      this.reqEnds = new Int32Array(blocks);
    }
    const ps: PassState = { k, map, words, aliceTop, bobTop, searching: new Int32Array(blocks).fill(-1), known: null, g: null, pendingFlag: new Uint8Array(blocks), pendingList: [], pendingCount: 0 };
    this.passes.push(ps);
    for (let b = 0; b < blocks; b++) if (bobTop[b] !== aliceTop[b]) this.setPending(ps, b, true);
  }

  /** The known points of a pass: 0 and the block edges, with G from Alice's top parities. */
  private knownOf(ps: PassState): { known: Uint32Array; g: Uint32Array } {
    if (ps.known && ps.g) return { known: ps.known, g: ps.g };
    const n = this.n;
    const known = new Uint32Array((n + 1 + 31) >>> 5);
    const g = new Uint32Array(known.length);
    known[0] = 1;
    markBlockEdges(known, g, ps.aliceTop, ps.k, n);
    ps.known = known;
    ps.g = g;
    return { known, g };
  }

  private setPending(ps: PassState, b: number, on: boolean): void {
    if (on) {
      if (ps.pendingFlag[b] === 0) {
        ps.pendingFlag[b] = 1;
        ps.pendingList.push(b);
        ps.pendingCount++;
        this.pendingTotal++;
      }
    } else if (ps.pendingFlag[b] === 1) {
      ps.pendingFlag[b] = 0; // its list entry goes stale
      ps.pendingCount--;
      this.pendingTotal--;
    }
  }

  flip(j: number): void {
    this.bits[j] ^= 1;
    this.current[j >>> 5] ^= 1 << (j & 31);
    this.toggled[j >>> 5] ^= 1 << (j & 31);
    this.parityAll ^= 1;
    const passes = this.passes;
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
          this.sAlive[s] = 0;
          ps.searching[b] = -1;
          this.setPending(ps, b, ps.bobTop[b] !== ps.aliceTop[b]);
        }
        // Otherwise the search goes on; its block is re-judged when it ends.
      } else this.setPending(ps, b, ps.bobTop[b] !== ps.aliceTop[b]);
    }
  }

  /**
   * Start the search of odd block b of pass q in the shortest odd segment between
   * the points whose Alice prefix parity is known (a fresh block: the block itself).
   */
  open(q: number, b: number): void {
    const ps = this.passes[q];
    const words = (ps.words ??= ps.map.gatherPacked(this.current));
    const { known, g } = this.knownOf(ps);
    const lo0 = b * ps.k;
    const hi0 = Math.min(this.n, lo0 + ps.k);
    let x = lo0;
    let gx = (g[x >>> 5] >>> (x & 31)) & 1;
    // No odd segment yet: bestLo -1 and a length longer than any segment (the
    // comparison below then runs from the first segment on: no rare arithmetic).
    let bestLo = -1;
    let bestHi = this.n + 1;
    let y = x + 1;
    while (y <= hi0) {
      // Next known point at or after y.
      let w = known[y >>> 5] & (0xffffffff << (y & 31));
      let wi = y >>> 5;
      while (w === 0) w = known[++wi];
      y = (wi << 5) + lowestBit(w);
      const gy = (g[y >>> 5] >>> (y & 31)) & 1;
      if ((gx ^ gy) !== rangeParity(words, x, y) && y - x < bestHi - bestLo) {
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
    const s = this.sCount++;
    this.sPass = q;
    ps.searching[b] = s;
    this.sBlock[s] = b;
    this.sLo[s] = bestLo;
    this.sHi[s] = bestHi;
    this.sAlive[s] = 1;
  }

  /**
   * Open pending blocks of one pass at a time (the one with the smallest blocks), and
   * only when no search is running: flips then never land inside another open
   * search, and cheap small-block searches clear errors before big ones.
   */
  openPending(): void {
    const passes = this.passes;
    let best = -1;
    for (let q = 0; q < passes.length; q++) if (passes[q].pendingCount > 0 && (best < 0 || passes[q].k < passes[best].k)) best = q;
    if (best < 0) return;
    const ps = passes[best];
    const list = ps.pendingList;
    ps.pendingList = [];
    for (let i = 0; i < list.length; i++) {
      const b = list[i];
      if (ps.pendingFlag[b] === 0) continue; // stale
      this.setPending(ps, b, false);
      if (ps.searching[b] < 0 && ps.bobTop[b] !== ps.aliceTop[b]) this.open(best, b);
    }
  }

  /**
   * One halving level of every open search: the left half of each range (>= 2 bits).
   * The arrays are views of buffers reused round after round (a fresh ArrayBuffer per
   * round cost more than the round's work): read them before resuming the generator.
   */
  rangesRequest(): { kind: 'ranges'; passes: Uint8Array; starts: Int32Array; ends: Int32Array } {
    const m = this.sCount;
    const { reqStarts, reqEnds } = this;
    leftHalves(this.sLo, this.sHi, reqStarts, reqEnds, m);
    return { kind: 'ranges', passes: this.reqPasses.fill(this.sPass, 0, m).subarray(0, m), starts: reqStarts.subarray(0, m), ends: reqEnds.subarray(0, m) };
  }

  applyReply(reply: Uint8Array, ends: Int32Array): void {
    const m = this.sCount;
    const ps = this.passes[this.sPass];
    this.roundTrips++;
    this.leaked += m;
    this.narrowSearches(ps, reply, ends, m);
    this.sCount = compactSearches(ps.searching, this.sBlock, this.sLo, this.sHi, this.sAlive, m);
  }

  /**
   * Halve every open search by Alice's parities of the left halves; a search down to
   * one bit flips it (flip() then re-judges the block). The loop alone: see
   * rangeParities.
   */
  private narrowSearches(ps: PassState, reply: Uint8Array, ends: Int32Array, m: number): void {
    const { sBlock, sLo, sHi, sAlive } = this;
    const { known, g } = this.knownOf(ps);
    const words = ps.words!;
    for (let i = 0; i < m; i++) {
      let a = sLo[i];
      let b = sHi[i];
      const mid = ends[i];
      // Alice's parity of [a, mid) fixes G(mid): remembered even for a dropped search.
      const gMid = ((g[a >>> 5] >>> (a & 31)) & 1) ^ reply[i];
      known[mid >>> 5] |= 1 << (mid & 31);
      g[mid >>> 5] |= gMid << (mid & 31);
      if (sAlive[i] === 0) continue;
      if (rangeParity(words, a, mid) !== reply[i]) b = mid;
      else a = mid;
      sLo[i] = a;
      sHi[i] = b;
      if (b - a === 1) {
        sAlive[i] = 0;
        ps.searching[sBlock[i]] = -1;
        this.flip(ps.map.at(a)); // with searching[b] = -1 the flip re-judges block b
      }
    }
  }

  /** Positions flipped an odd number of times (original order, ascending). */
  netFlips(): Int32Array {
    const out = new Int32Array(countSetBits(this.toggled));
    setBitPositions(this.toggled, out);
    return out;
  }
}

/**
 * The edges of the blocks of k bits as known points, with Alice's prefix parity G from
 * her top parities (the loop alone: code after a long loop would deoptimise on every call).
 */
function markBlockEdges(known: Uint32Array, g: Uint32Array, aliceTop: Uint8Array, k: number, n: number): void {
  let acc = 0;
  for (let b = 0; b < aliceTop.length; b++) {
    const x = Math.min(n, (b + 1) * k);
    acc ^= aliceTop[b];
    known[x >>> 5] |= 1 << (x & 31);
    g[x >>> 5] |= acc << (x & 31);
  }
}

/** starts/ends[i] = the left half [lo, mid) of search range i (the loop alone: see markBlockEdges). */
function leftHalves(sLo: Int32Array, sHi: Int32Array, starts: Int32Array, ends: Int32Array, m: number): void {
  for (let i = 0; i < m; i++) {
    starts[i] = sLo[i];
    ends[i] = (sLo[i] + sHi[i]) >>> 1;
  }
}

/** Move the live searches to the front, in order; returns how many. */
function compactSearches(searching: Int32Array, sBlock: Int32Array, sLo: Int32Array, sHi: Int32Array, sAlive: Uint8Array, m: number): number {
  let o = 0;
  for (let i = 0; i < m; i++) {
    if (sAlive[i] === 0) continue;
    searching[sBlock[i]] = o;
    sBlock[o] = sBlock[i];
    sLo[o] = sLo[i];
    sHi[o] = sHi[i];
    sAlive[o] = 1;
    o++;
  }
  return o;
}

/** Set bits of packed words (each loop alone in its function: see rangeParities). */
function countSetBits(t: Uint32Array): number {
  let count = 0;
  for (let w = 0; w < t.length; w++) if (t[w] !== 0) count += popcount32(t[w]);
  return count;
}

/** Positions of the set bits of packed words, ascending, into `out`. */
function setBitPositions(t: Uint32Array, out: Int32Array): void {
  let o = 0;
  for (let w = 0; w < t.length; w++) {
    for (let v = t[w]; v !== 0; v &= v - 1) out[o++] = (w << 5) + lowestBit(v);
  }
}

/** Number of set bits of a 32-bit word. */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
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
      if (st.sCount === 0 && st.pendingTotal > 0) st.openPending();
      if (st.sCount === 0) {
        if (st.pendingTotal === 0) break;
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
