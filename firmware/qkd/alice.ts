/**
 * Alice: the payload's half of key distillation. She knows the source seed (so any
 * pulse's settings) and only what arrives over the authenticated classical channel.
 * She answers Bob's detection reports with her basis and intensity for exactly those
 * pulses, cuts blocks, answers Cascade parity queries, checks verification, chooses
 * the privacy-amplification seed and files delivered keys in her pool.
 *
 * Authentication is by transcript (qkd/auth.ts, docs/qkd.md): Bob's messages are used
 * provisionally and a block's key is filed only once both transcripts over it verified
 * (Bob's tagged verify, her tagged blockResult, Bob's tagged confirm). Her settings are
 * revealed (sift) only for detection reports a verified tag of Bob's covers: a forged
 * report could otherwise ask for the bases of pulses not yet sent.
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
import { CascadeOracle } from '../../qkd/cascade.ts';
import type { ClassicalChannel } from '../../qkd/channel.ts';
import { checkDistillConfig, type DistillConfig } from '../../qkd/config.ts';
import type { KeyPool } from '../../qkd/pool.ts';
import { Rng } from '../../qkd/random.ts';
import { SiftStore, grown } from '../../qkd/sift-store.ts';
import { keyIdOf, newRecord, type BlockRecord } from '../../qkd/records.ts';
import { NOT_RECORDED, recordFrom, recordedOrHashed, settingsTable, type SettingsRecord, type SettingsTable } from '../../qkd/settings.ts';

export interface AliceOptions {
  config: DistillConfig;
  /** Seed of the source's per-pulse settings. */
  sourceSeed: number;
  channel: ClassicalChannel;
  pool: KeyPool;
  sessionId: string;
  /** Seed of Alice's public random choices (PA seeds). */
  rngSeed: number;
  /** Simulation clock for records (optional). */
  clock?: () => number;
  /**
   * The source's record of settings it already looked up (the pulses of the latest
   * detections, by pulse index): a memo of the settings hash, never anything of Bob's.
   * Pulses it lacks are hashed; the settings are the same either way.
   */
  settingsRecord?: () => SettingsRecord | null;
}

/**
 * Checkpoints (Bob's tags over his reports) asked per block's worth of key bits: a pad
 * each, but sifting flows in quarters and a failed tag loses at most a quarter block of
 * reports besides the open block.
 */
export const CHECKPOINTS_PER_BLOCK = 4;

/** No record: every pulse's settings are hashed. */
const NO_RECORD: SettingsRecord = { pulseIndex: new Float64Array(0), settings: new Uint8Array(0) };

interface AliceBlock {
  record: BlockRecord;
  keyBits: Uint8Array;
  oracle: CascadeOracle | null;
  qberTest: number;
  /** The key, held back until Bob's tagged confirm (null before blockResult). */
  pendingKey: Uint32Array | null;
}

export class AliceDistiller {
  readonly auth: AuthenticatedChannel;
  readonly blocks: BlockRecord[] = [];
  readonly rejected: ProtocolError[] = [];
  private readonly table: SettingsTable;
  private readonly rng: Rng;
  /**
   * Sifted batches: the first `released` were answered and wait for a block; the rest
   * are held, their answer not yet sent (Bob's report not yet authenticated).
   */
  private readonly sifted = new SiftStore();
  private released = 0;
  /** The held batches' answers (the sift messages' basis and intensity), one after another. */
  private heldBasis = new Uint8Array(0);
  private heldIntensity = new Uint8Array(0);
  /** Where each held batch's answer ends in heldBasis and heldIntensity. */
  private readonly heldEnds: number[] = [];
  /** A checkpoint asked of Bob and not yet answered; cut what is there once it comes (end of pass). */
  private checkpointPending = false;
  private checkpointRound = 0;
  private cutAll = false;
  private readonly active = new Map<number, AliceBlock>();
  private nextBlockId = 0;

  constructor(private readonly opts: AliceOptions) {
    const c = checkDistillConfig(opts.config);
    this.table = settingsTable(opts.sourceSeed, { p: c.p, pKeyBasis: c.pKeyBasis });
    this.rng = new Rng(opts.rngSeed, 0xa11ce);
    this.auth = new AuthenticatedChannel(opts.channel, { pool: opts.pool, sessionId: opts.sessionId, direction: 0, lendArrays: true }); // onDetections copies what it keeps
    this.auth.listen(
      (m, d) => this.onMessage(m, d),
      (e) => this.onReject(e),
    );
  }

  private now(): number | null {
    return this.opts.clock ? this.opts.clock() : null;
  }

  /** Everything taken from Bob since his last good tag is suspect: open blocks and unanswered reports go. */
  private onReject(e: ProtocolError): void {
    this.rejected.push(e);
    for (const b of this.active.values()) {
      this.settle(b, 'aborted', 'AUTH_FAILED');
      this.auth.send({ type: 'abort', blockId: b.record.blockId, batch: false, reason: 'AUTH_FAILED' });
    }
    // Reports never answered: Bob forgets them.
    for (let i = this.released; i < this.sifted.batches; i++) this.auth.send({ type: 'abort', blockId: this.sifted.batchId(i), batch: true, reason: 'AUTH_FAILED' });
    this.sifted.truncate(this.released);
    this.heldEnds.length = 0;
    this.checkpointPending = false;
  }

  private onMessage(m: QkdMessage, d: Delivery): void {
    // A verified tag vouches for every report before it: answer them, then cut if due.
    if (d.verified) this.releaseHeld();
    this.dispatch(m, d);
    if (d.verified) {
      this.checkpointPending = false;
      if (this.unusedKeyBits() >= this.opts.config.blockBits || (this.cutAll && this.released > 0)) this.cutBlock();
    }
  }

  private dispatch(m: QkdMessage, d: Delivery): void {
    switch (m.type) {
      case 'detections':
        return this.onDetections(m);
      case 'peReport':
        return this.onPeReport(m);
      case 'ecTop':
      case 'ecRanges':
        return this.onParityQuery(m);
      case 'verify':
        return this.onVerify(m, d);
      case 'confirm':
        return this.onConfirm(m, d);
      case 'checkpoint':
        // Bob's answer to askCheckpoint: all it carries is its tag.
        if (!d.verified) this.abortAll('PROTOCOL_ERROR');
        return;
      case 'abort': {
        if (m.batch) return this.dropBatch(m.blockId);
        const b = this.active.get(m.blockId);
        if (b) this.settle(b, 'aborted', m.reason);
        else this.handleLateAbort(m.blockId, m.reason);
        return;
      }
      default:
        // Messages only Bob receives: a confused or hostile peer. Abort what is open.
        this.abortAll('PROTOCOL_ERROR');
    }
  }

  private abortAll(reason: AbortReason): void {
    for (const b of this.active.values()) this.abort(b, reason);
  }

  /** Key entries of the answered batches (a block is cut from them). */
  private unusedKeyBits(): number {
    return this.sifted.keyEnd(this.released);
  }

  /** Key entries of the held batches. */
  private heldKeyBits(): number {
    return this.sifted.keyLen - this.sifted.keyEnd(this.released);
  }

  private onDetections(m: Extract<QkdMessage, { type: 'detections' }>): void {
    const n = m.pulseIndex.length;
    // The answer goes at the end of the held answers, the sifted entries at the store's tail.
    const h = this.heldEnds.length === 0 ? 0 : this.heldEnds[this.heldEnds.length - 1];
    this.heldBasis = grown(this.heldBasis, h, h + n);
    this.heldIntensity = grown(this.heldIntensity, h, h + n);
    const record = this.opts.settingsRecord?.() ?? NO_RECORD;
    const keyEnd = siftReport(this.sifted, this.table, record, m.pulseIndex, m.basis, this.heldBasis.subarray(h, h + n), this.heldIntensity.subarray(h, h + n));
    this.sifted.commit(m.batchId, keyEnd, siftedTestEnd);
    this.heldEnds.push(h + n);
    if (this.heldKeyBits() >= this.opts.config.blockBits / CHECKPOINTS_PER_BLOCK || this.sifted.keyLen >= this.opts.config.blockBits) this.askCheckpoint();
  }

  /** Ask Bob to tag his transcript: the reports it covers can then be answered and a block cut. */
  private askCheckpoint(): void {
    if (this.checkpointPending) return;
    this.checkpointPending = true;
    this.auth.send({ type: 'checkpoint', round: this.checkpointRound++ });
  }

  /** Answer the reports a verified tag covers; they join the batches a block is cut from. */
  private releaseHeld(): void {
    // The answers are views of the held buffers: send encodes them at once, so the
    // buffers are free again once all are sent.
    for (let j = 0, i = this.released; i < this.sifted.batches; i++, j++) {
      const start = j === 0 ? 0 : this.heldEnds[j - 1];
      const end = this.heldEnds[j];
      this.auth.send({ type: 'sift', batchId: this.sifted.batchId(i), basis: this.heldBasis.subarray(start, end), intensity: this.heldIntensity.subarray(start, end) });
    }
    this.released = this.sifted.batches;
    this.heldEnds.length = 0;
  }

  /** Bob could not sift a batch (its answer arrived in a transcript that failed): leave it out of blocks. */
  private dropBatch(batchId: number): void {
    for (let i = 0; i < this.released; i++) {
      if (this.sifted.batchId(i) !== batchId) continue;
      this.sifted.remove(i);
      this.released--;
      return;
    }
  }

  /** End of the pass: whatever is left becomes a last (possibly too small) block, once authenticated. */
  endOfPass(): void {
    this.cutAll = true;
    if (this.sifted.batches > this.released) this.askCheckpoint();
    else if (this.released > 0) this.cutBlock();
  }

  private cutBlock(): void {
    const joined = this.sifted.take(this.released);
    this.released = 0;
    const blockId = this.nextBlockId++;
    const record = newRecord(blockId, joined.batchId);
    record.keyBits = joined.keyBit.length;
    record.keyN = joined.keyN;
    record.testN = joined.testN;
    this.blocks.push(record);
    const block: AliceBlock = { record, keyBits: joined.keyBit, oracle: null, qberTest: 0, pendingKey: null };
    this.active.set(blockId, block);
    this.auth.send({
      type: 'blockStart',
      blockId,
      lastBatch: joined.batchId,
      keyCount: joined.keyBit.length,
      testCount: joined.testBit.length,
      testBits: joined.testBit,
    });
  }

  private onPeReport(m: Extract<QkdMessage, { type: 'peReport' }>): void {
    const b = this.active.get(m.blockId);
    if (!b) return;
    const r = b.record;
    r.testM = m.testErrors;
    for (let i = 0; i < 3; i++) {
      if (r.testM[i] > r.testN[i]) return this.abort(b, 'PROTOCOL_ERROR');
    }
    const qber = (r.testM[0] + r.testM[1] + r.testM[2]) / Math.max(1, r.testN[0] + r.testN[1] + r.testN[2]);
    const a2 = assessBlock(this.opts.config, r, predictedLeak(this.opts.config, r.keyBits, qber));
    r.qberTestSignal = a2.qberTestSignal;
    r.s0 = a2.rate.s0;
    r.s1 = a2.rate.s1;
    r.phi = a2.rate.phi;
    b.qberTest = a2.qberTest;
    // Bob reaches the same verdict from the same counts; neither needs to tell the other.
    if (a2.reason !== 'NONE') return this.settle(b, 'aborted', a2.reason);
    b.oracle = new CascadeOracle(b.keyBits);
  }

  private onParityQuery(m: Extract<QkdMessage, { type: 'ecTop' | 'ecRanges' }>): void {
    const b = this.active.get(m.blockId);
    if (!b) return;
    if (!b.oracle) return this.abort(b, 'PROTOCOL_ERROR');
    let parities: Uint8Array;
    try {
      parities =
        m.type === 'ecTop'
          ? b.oracle.answer({ kind: 'top', pass: m.pass, blockSize: m.blockSize, permSeed: m.permSeed })
          : b.oracle.answer({ kind: 'ranges', passes: m.passes, starts: m.starts, ends: m.ends });
    } catch {
      return this.abort(b, 'PROTOCOL_ERROR');
    }
    b.record.roundTrips++;
    b.record.leakedBits = b.oracle.leakedBits;
    this.auth.send({ type: 'ecParities', blockId: m.blockId, pass: m.type === 'ecTop' ? m.pass : 255, parities });
  }

  private onVerify(m: Extract<QkdMessage, { type: 'verify' }>, d: Delivery): void {
    const b = this.active.get(m.blockId);
    if (!b || !b.oracle || b.pendingKey) return;
    // Bob's tag here covers all he sent for the block; without it nothing is decided.
    if (!d.verified) return this.abort(b, 'AUTH_FAILED');
    const cfg = this.opts.config;
    const r = b.record;
    if (m.leakedBits !== b.oracle.leakedBits) return this.abort(b, 'PROTOCOL_ERROR');
    const mine = verificationHash(b.keyBits, m.hashSeed, cfg.verifyLanes);
    const same = mine.length === m.hash.length && mine.every((x, i) => x === m.hash[i]);
    if (!same) return this.finishWith(b, 'VERIFY_FAILED');
    const a = assessBlock(cfg, r, b.oracle.leakedBits + verifyHashBits(cfg));
    r.lengthBits = a.rate.length;
    if (a.reason !== 'NONE') return this.finishWith(b, a.reason);
    const paSeed = this.rng.u53();
    b.pendingKey = packBits(privacyAmplify(b.keyBits, r.lengthBits, paSeed));
    // Tagged: Bob files the key only if our transcript over the block verifies.
    this.auth.send({ type: 'blockResult', blockId: r.blockId, reason: 'NONE', keyId: r.blockId, lengthBits: r.lengthBits, paSeed }, { tag: true });
  }

  /** Bob verified our transcript and filed the key (his tag vouches for it): file ours. */
  private onConfirm(m: Extract<QkdMessage, { type: 'confirm' }>, d: Delivery): void {
    const b = this.active.get(m.blockId);
    if (!b || !b.pendingKey) return;
    if (!d.verified) return this.abort(b, 'AUTH_FAILED');
    const r = b.record;
    r.key = b.pendingKey;
    r.keyId = keyIdOf(this.opts.sessionId, r.blockId);
    this.opts.pool.add(r.keyId, r.key, r.lengthBits, `${this.opts.sessionId}/block:${r.blockId}`);
    this.settle(b, 'delivered', 'NONE');
  }

  /** A verdict other than NONE, tagged too, so a block attacked anywhere ends as AUTH_FAILED at Bob. */
  private finishWith(b: AliceBlock, reason: AbortReason): void {
    this.auth.send({ type: 'blockResult', blockId: b.record.blockId, reason, keyId: 0, lengthBits: 0, paSeed: 0 }, { tag: true });
    this.settle(b, 'aborted', reason);
  }

  private abort(b: AliceBlock, reason: AbortReason): void {
    this.auth.send({ type: 'abort', blockId: b.record.blockId, batch: false, reason });
    this.settle(b, 'aborted', reason);
  }

  private settle(b: AliceBlock, status: 'delivered' | 'aborted', reason: AbortReason): void {
    b.record.status = status;
    b.record.reason = reason;
    b.record.settledAtS = this.now();
    // Nothing to take back: a key reaches the pool only with the delivery itself (onConfirm).
    this.active.delete(b.record.blockId);
  }

  /**
   * An abort for a block already settled. Aborted, and Bob found our transcript over it
   * forged: authentication is the cause. Delivered: ignored, a filed key is never taken
   * back on an (untagged) abort; Bob filed it before his tagged confirm.
   */
  private handleLateAbort(blockId: number, reason: AbortReason): void {
    const r = this.blocks.find((x) => x.blockId === blockId);
    if (r && r.status === 'aborted' && reason === 'AUTH_FAILED') r.reason = reason;
  }
}

/**
 * Where siftReport's test entries end. Set after its loop, where a plain variable store
 * or a return is all that needs no type feedback: V8 compiles the loop on the stack
 * (OSR) in the first long batch and enters that code in later calls, and code after
 * the loop compiled without feedback (a property access, an operator) deoptimised
 * batch after batch.
 */
export let siftedTestEnd = 0;

/**
 * Alice's sifting of Bob's report (his pulses, ascending, and bases) into the store's
 * tail, not committed: each pulse's packed settings, from the source's record where it
 * holds them, else hashed (packedSettingsFrom's output, in the same loop: a pass over
 * the batch less); her basis and intensity class into `basis` and `intensity` (her
 * answer, one per pulse); the settings as sift entries in the key list where both
 * bases are 0, in the test list where both are 1. The record must hold packedSettings
 * values. Returns where the key entries end; the test entries end at siftedTestEnd.
 */
export function siftReport(
  store: SiftStore,
  table: SettingsTable,
  record: SettingsRecord,
  pulseIndex: Float64Array,
  bobBasis: Uint8Array,
  basis: Uint8Array,
  intensity: Uint8Array,
): number {
  const n = pulseIndex.length;
  const rp = record.pulseIndex;
  const rs = record.settings;
  const rn = Math.min(rp.length, rs.length);
  const { key, test } = store.reserve(n);
  // Sifted entries are compacted without branches (basis agreement is a coin flip):
  // every entry is written at the next free slot, which advances only on a match.
  // A packed setting is already a sift entry (bit 0 the bit, bits 2-3 the class).
  let k = store.keyLen;
  let t = store.testLen;
  // Nearly always the record's next entry is the next pulse's. The merge step
  // (recordFrom, recordedOrHashed) runs outside the inner loop, for a batch's first
  // pulse and the ~2 % the record lacks, skips or holds no settings for: the inner loop
  // has no call (one there, even never taken, costs register saves every iteration).
  let i = 0;
  let j = 0;
  while (i < n) {
    const pos = pulseIndex[i];
    j = recordFrom(rp, rn, j, pos);
    let s = recordedOrHashed(table, rp, rs, rn, j, pos);
    if (j < rn && rp[j] === pos) j++;
    // i and j advance together: j stays within the record.
    const end = Math.min(n, i + 1 + rn - j);
    for (;;) {
      const a = (s >>> 1) & 1;
      basis[i] = a;
      intensity[i] = s >>> 2;
      const b = bobBasis[i];
      key[k] = s;
      k += ((a | b) - 1) >>> 31; // 1 iff both bases are 0
      test[t] = s;
      t += a & b; // 1 iff both are 1 (bases are 0 or 1)
      if (++i === end) break;
      s = rs[j];
      if (rp[j] !== pulseIndex[i] || s === NOT_RECORDED) break;
      j++;
    }
  }
  siftedTestEnd = t;
  return k;
}
