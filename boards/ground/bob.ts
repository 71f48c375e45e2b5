/**
 * Bob: the ground station's half of key distillation. He knows his own detections
 * (pulse index, his basis, his bit) and only what crosses the authenticated classical
 * channel: never the source seed, never a setting of a pulse he did not detect.
 * He reports detections, sifts with Alice's answer, estimates errors, drives Cascade,
 * sends the verification hash and applies privacy amplification.
 *
 * Authentication is by transcript (qkd/auth.ts, docs/qkd.md): Alice's messages are used
 * provisionally; he tags his transcript when Alice asks (checkpoint, once per detection
 * report at most) and with each verify, and files a block's key only when her tagged
 * blockResult verified, then tells her with a tagged confirm.
 */
import type { ProtocolError } from '../../protocols/errors.ts';
import type { AbortReason, QkdMessage } from '../../protocols/qkd-messages.ts';
import { AuthenticatedChannel, type Delivery } from '../../qkd/auth.ts';
import { packBits } from '../../qkd/bits.ts';
import {
  assessBlock,
  predictedLeak,
  privacyAmplify,
  verificationHash,
  verifyHashBits,
} from '../../qkd/block.ts';
import { cascadeBlockSizes, cascadeBob, ecEfficiency, type CascadeOutcome, type CascadeRequest } from '../../qkd/cascade.ts';
import type { ClassicalChannel } from '../../qkd/channel.ts';
import { checkDistillConfig, type DistillConfig } from '../../qkd/config.ts';
import type { Triple } from '../../qkd/keyrate.ts';
import type { KeyPool } from '../../qkd/pool.ts';
import { Rng } from '../../qkd/random.ts';
import { SiftStore, siftEntry } from '../../qkd/sift-store.ts';
import { keyIdOf, newRecord, type BlockRecord } from '../../qkd/records.ts';

export interface BobOptions {
  config: DistillConfig;
  channel: ClassicalChannel;
  pool: KeyPool;
  sessionId: string;
  /** Seed of Bob's public random choices (permutation and hash seeds). */
  rngSeed: number;
  clock?: () => number;
}

/**
 * A batch of Bob's own detections (time tags resolved to pulse indices). submitDetections
 * reads pulseIndex only during the call (it may be a view of the time sync's buffer) and
 * keeps basis and bit until Alice's sift answer.
 */
export interface DetectionBatch {
  pulseIndex: Float64Array;
  /** Bob's basis (0 or 1) and bit (0 or 1) per detection. */
  basis: Uint8Array;
  bit: Uint8Array;
}

interface BobBlock {
  record: BlockRecord;
  keyBits: Uint8Array;
  /** Key entries (qkd/sift-store.ts): the intensity class of each key bit. */
  keyEntries: Uint8Array;
  gen: Generator<CascadeRequest, CascadeOutcome, Uint8Array> | null;
  pass: number;
  outcome: CascadeOutcome | null;
}

export class BobDistiller {
  readonly auth: AuthenticatedChannel;
  readonly blocks: BlockRecord[] = [];
  readonly rejected: ProtocolError[] = [];
  private readonly rng: Rng;
  /** Reports awaiting Alice's sift answer: his bases and bits. */
  private readonly pending = new Map<number, { basis: Uint8Array; bit: Uint8Array }>();
  /** Sifted batches not yet in a block. */
  private readonly sifted = new SiftStore();
  private readonly active = new Map<number, BobBlock>();
  private nextBatchId = 0;
  private authFailedSinceBlock = false;
  /** A detection report went out since our last tag: a checkpoint asked by Alice is worth a pad. */
  private reportsSinceTag = false;

  constructor(private readonly opts: BobOptions) {
    checkDistillConfig(opts.config);
    this.rng = new Rng(opts.rngSeed, 0xb0b);
    this.auth = new AuthenticatedChannel(opts.channel, { pool: opts.pool, sessionId: opts.sessionId, direction: 1, lendArrays: true }); // onSift copies what it keeps
    this.auth.listen(
      (m, d) => this.onMessage(m, d),
      (e) => this.onReject(e),
    );
  }

  private now(): number | null {
    return this.opts.clock ? this.opts.clock() : null;
  }

  /** Report a batch of detections (ascending pulse indices) to Alice. */
  submitDetections(batch: DetectionBatch): void {
    if (batch.pulseIndex.length === 0) return;
    const batchId = this.nextBatchId++;
    this.pending.set(batchId, { basis: batch.basis, bit: batch.bit });
    this.auth.send({ type: 'detections', batchId, pulseIndex: batch.pulseIndex, basis: batch.basis });
    this.reportsSinceTag = true;
  }

  /** Send with a tag over our transcript since the last one. */
  private sendTagged(m: QkdMessage): void {
    this.auth.send(m, { tag: true });
    this.reportsSinceTag = false;
  }

  /**
   * Everything taken from Alice since her last good tag is suspect: open blocks go, and
   * sifted batches not yet in a block are dropped (she is told, so she leaves them out).
   */
  private onReject(e: ProtocolError): void {
    this.rejected.push(e);
    this.authFailedSinceBlock = true;
    for (const b of this.active.values()) this.abort(b, 'AUTH_FAILED');
    for (let i = 0; i < this.sifted.batches; i++) this.auth.send({ type: 'abort', blockId: this.sifted.batchId(i), batch: true, reason: 'AUTH_FAILED' });
    this.sifted.truncate(0);
  }

  private onMessage(m: QkdMessage, d: Delivery): void {
    switch (m.type) {
      case 'checkpoint':
        // Only a report since our last tag is worth a pad: a forged request cannot drain the pool.
        if (this.reportsSinceTag) this.sendTagged({ type: 'checkpoint', round: m.round });
        return;
      case 'sift':
        return this.onSift(m);
      case 'blockStart':
        return this.onBlockStart(m);
      case 'ecParities':
        return this.onParities(m);
      case 'blockResult':
        return this.onBlockResult(m, d);
      case 'abort': {
        if (m.batch) {
          this.pending.delete(m.blockId);
          return;
        }
        const b = this.active.get(m.blockId);
        if (b) this.settle(b, 'aborted', m.reason);
        return;
      }
      default:
        for (const b of this.active.values()) this.abort(b, 'PROTOCOL_ERROR');
    }
  }

  private onSift(m: Extract<QkdMessage, { type: 'sift' }>): void {
    const d = this.pending.get(m.batchId);
    if (!d || d.basis.length !== m.basis.length) return; // unknown batch: nothing to sift
    this.pending.delete(m.batchId);
    const keyEnd = siftAnswer(this.sifted, d.basis, d.bit, m.basis, m.intensity);
    this.sifted.commit(m.batchId, keyEnd, siftedTestEnd);
  }

  private onBlockStart(m: Extract<QkdMessage, { type: 'blockStart' }>): void {
    let cut = 0;
    while (cut < this.sifted.batches && this.sifted.batchId(cut) <= m.lastBatch) cut++;
    const joined = this.sifted.take(cut);
    const record = newRecord(m.blockId, m.lastBatch);
    this.blocks.push(record);
    const block: BobBlock = { record, keyBits: joined.keyBit, keyEntries: joined.key, gen: null, pass: 0, outcome: null };
    this.active.set(m.blockId, block);
    record.keyBits = joined.keyBit.length;
    record.keyN = joined.keyN;
    record.testN = joined.testN;
    if (joined.keyBit.length !== m.keyCount || joined.testBit.length !== m.testCount || m.testBits.length !== m.testCount) {
      // Our sifted views differ: a batch was lost (e.g. a rejected forged sift message).
      const reason = this.authFailedSinceBlock ? 'AUTH_FAILED' : 'PROTOCOL_ERROR';
      this.authFailedSinceBlock = false;
      return this.abort(block, reason);
    }
    this.authFailedSinceBlock = false;
    const testM = testErrorsByClass(joined.testBit, m.testBits, joined.test);
    record.testM = testM;
    this.auth.send({ type: 'peReport', blockId: m.blockId, testErrors: testM });
    const cfg = this.opts.config;
    const qber = (testM[0] + testM[1] + testM[2]) / Math.max(1, m.testCount);
    const a = assessBlock(cfg, record, predictedLeak(cfg, record.keyBits, qber));
    record.qberTestSignal = a.qberTestSignal;
    record.s0 = a.rate.s0;
    record.s1 = a.rate.s1;
    record.phi = a.rate.phi;
    if (a.reason !== 'NONE') return this.settle(block, 'aborted', a.reason);
    block.gen = cascadeBob(block.keyBits, {
      blockSizes: cascadeBlockSizes(a.qberTest, block.keyBits.length),
      seed: this.rng.u53(),
    });
    this.step(block, undefined);
  }

  private step(b: BobBlock, reply: Uint8Array | undefined): void {
    const it = reply === undefined ? b.gen!.next() : b.gen!.next(reply);
    if (!it.done) {
      const req = it.value;
      b.pass = req.kind === 'top' ? req.pass : 255;
      if (req.kind === 'top') {
        this.auth.send({ type: 'ecTop', blockId: b.record.blockId, pass: req.pass, blockSize: req.blockSize, permSeed: req.permSeed });
      } else {
        this.auth.send({ type: 'ecRanges', blockId: b.record.blockId, passes: req.passes, starts: req.starts, ends: req.ends });
      }
      return;
    }
    const out = it.value;
    b.outcome = out;
    const r = b.record;
    r.leakedBits = out.leakedBits;
    r.roundTrips = out.roundTrips;
    r.keyErrors = entriesByClass(out.flipped, b.keyEntries);
    r.ecEfficiency = ecEfficiency(out.leakedBits, r.keyBits, out.corrected);
    const hashSeed = this.rng.u53();
    const hash = verificationHash(b.keyBits, hashSeed, this.opts.config.verifyLanes);
    // Tagged: Alice decides on the block only if our transcript over it verifies.
    this.sendTagged({ type: 'verify', blockId: r.blockId, hashSeed, hash, leakedBits: out.leakedBits });
  }

  private onParities(m: Extract<QkdMessage, { type: 'ecParities' }>): void {
    const b = this.active.get(m.blockId);
    if (!b || !b.gen || b.outcome) return;
    if (m.pass !== b.pass) return this.abort(b, 'PROTOCOL_ERROR');
    this.step(b, m.parities);
  }

  private onBlockResult(m: Extract<QkdMessage, { type: 'blockResult' }>, d: Delivery): void {
    const b = this.active.get(m.blockId);
    if (!b || !b.outcome) return;
    // Alice's tag covers all she sent for the block: only then is anything filed.
    if (!d.verified) return this.abort(b, 'AUTH_FAILED');
    if (m.reason !== 'NONE') return this.settle(b, 'aborted', m.reason);
    const cfg = this.opts.config;
    const r = b.record;
    const a = assessBlock(cfg, r, b.outcome.leakedBits + verifyHashBits(cfg));
    if (a.rate.length !== m.lengthBits || a.reason !== 'NONE') return this.abort(b, 'PROTOCOL_ERROR');
    r.lengthBits = m.lengthBits;
    r.key = packBits(privacyAmplify(b.keyBits, r.lengthBits, m.paSeed));
    r.keyId = keyIdOf(this.opts.sessionId, r.blockId);
    this.opts.pool.add(r.keyId, r.key, r.lengthBits, `${this.opts.sessionId}/block:${r.blockId}`);
    this.settle(b, 'delivered', 'NONE');
    this.sendTagged({ type: 'confirm', blockId: r.blockId });
  }

  private abort(b: BobBlock, reason: AbortReason): void {
    this.auth.send({ type: 'abort', blockId: b.record.blockId, batch: false, reason });
    this.settle(b, 'aborted', reason);
  }

  private settle(b: BobBlock, status: 'delivered' | 'aborted', reason: AbortReason): void {
    b.record.status = status;
    b.record.reason = reason;
    b.record.settledAtS = this.now();
    this.active.delete(b.record.blockId);
  }
}

/*
 * The per-block loops, each alone in its function with nothing after it but the return:
 * V8 compiles a long loop while it runs (OSR) and keeps that code for later calls, so
 * code after the loop ran without type feedback and deoptimised (and was recompiled)
 * block after block.
 */

/** Test entries (sift entries: class in bits 2-3) whose bit differs from Alice's, per intensity class. */
function testErrorsByClass(mine: Uint8Array, theirs: Uint8Array, entries: Uint8Array): Triple {
  const errors: Triple = [0, 0, 0];
  for (let i = 0; i < theirs.length; i++) if (mine[i] !== theirs[i]) errors[entries[i] >>> 2]++;
  return errors;
}

/** The entries at `positions` per intensity class (the key errors Cascade corrected). */
function entriesByClass(positions: Int32Array, entries: Uint8Array): Triple {
  const counts: Triple = [0, 0, 0];
  for (let i = 0; i < positions.length; i++) counts[entries[positions[i]] >>> 2]++;
  return counts;
}

/** Whether a Uint32Array's bytes are in array order low byte first (then a word's byte q is entry 4w + q). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Bytes x[from, n) (at most four) as a little-endian word, padded with `pad` bytes. */
function lastWord(x: Uint8Array, from: number, n: number, pad: number): number {
  let w = 0;
  for (let q = 0; q < 4; q++) w |= (from + q < n ? x[from + q] : pad) << (8 * q);
  return w;
}

/**
 * Where siftAnswer's test entries end, set after its loop: as Alice's siftReport, only
 * a return or a plain variable store there needs no type feedback (the loop's OSR code,
 * compiled in the first long batch and entered in later calls, deoptimised batch after
 * batch on a property access or operator after it).
 */
export let siftedTestEnd = 0;

/**
 * Bob's sifting of one batch with Alice's answer into the store's tail (not committed):
 * siftEntry(his bit, her intensity class) per detection, in the key list where both
 * bases are 0, in the test list where both are 1. All arrays have the answer's length.
 * Returns where the key entries end; the test entries end at siftedTestEnd.
 */
export function siftAnswer(store: SiftStore, myBasis: Uint8Array, myBit: Uint8Array, aliceBasis: Uint8Array, aliceIntensity: Uint8Array): number {
  const n = aliceBasis.length;
  // Branch-free compaction, as on Alice's side, at the store's tail.
  const { key, test } = store.reserve(n);
  let k = store.keyLen;
  let t = store.testLen;
  if (!LITTLE_ENDIAN || ((myBasis.byteOffset | myBit.byteOffset | aliceBasis.byteOffset | aliceIntensity.byteOffset) & 3) !== 0) {
    // One by one (the arrays cannot be read a word at a time).
    for (let i = 0; i < n; i++) {
      const b = myBasis[i];
      const a = aliceBasis[i];
      const e = siftEntry(myBit[i], aliceIntensity[i]);
      key[k] = e;
      k += ((b | a) - 1) >>> 31; // 1 iff both bases are 0
      test[t] = e;
      t += b & a; // 1 iff both are 1 (bases are 0 or 1)
    }
    siftedTestEnd = t;
    return k;
  }
  // Four detections a word (a load per array per four, not per one): the four entries
  // and both masks at once, then compacted byte by byte (a Uint8Array store keeps the
  // low byte; entries stay within their bytes). The last, partial word is read before
  // the loop, padded so that none of its padding is kept (his basis 1, hers 0): one
  // loop, and nothing after it needing type feedback (see siftedTestEnd).
  const words = n >>> 2;
  const full = 4 * words;
  const lastB = lastWord(myBasis, full, n, 1);
  const lastA = lastWord(aliceBasis, full, n, 0);
  const lastE = lastWord(myBit, full, n, 0) | (lastWord(aliceIntensity, full, n, 0) << 2);
  const mb = new Uint32Array(myBasis.buffer, myBasis.byteOffset, words);
  const mt = new Uint32Array(myBit.buffer, myBit.byteOffset, words);
  const ab = new Uint32Array(aliceBasis.buffer, aliceBasis.byteOffset, words);
  const ai = new Uint32Array(aliceIntensity.buffer, aliceIntensity.byteOffset, words);
  for (let w = 0; w <= words; w++) {
    const last = w === words;
    const b = last ? lastB : mb[w];
    const a = last ? lastA : ab[w];
    const e = last ? lastE : mt[w] | (ai[w] << 2); // siftEntry of each byte
    const inKey = ~(b | a); // bit 8q set iff both bases of entry q are 0
    const inTest = b & a;
    key[k] = e;
    k += inKey & 1;
    test[t] = e;
    t += inTest & 1;
    key[k] = e >>> 8;
    k += (inKey >>> 8) & 1;
    test[t] = e >>> 8;
    t += (inTest >>> 8) & 1;
    key[k] = e >>> 16;
    k += (inKey >>> 16) & 1;
    test[t] = e >>> 16;
    t += (inTest >>> 16) & 1;
    key[k] = e >>> 24;
    k += (inKey >>> 24) & 1;
    test[t] = e >>> 24;
    t += inTest >>> 24;
  }
  siftedTestEnd = t;
  return k;
}
