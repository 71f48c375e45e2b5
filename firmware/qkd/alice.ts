/**
 * Alice: the payload's half of key distillation. She knows the source seed (so any
 * pulse's settings) and only what arrives over the authenticated classical channel.
 * She answers Bob's detection reports with her basis and intensity for exactly those
 * pulses, cuts blocks, answers Cascade parity queries, checks verification, chooses
 * the privacy-amplification seed and files delivered keys in her pool.
 */
import type { ProtocolError } from '../../protocols/errors.ts';
import type { AbortReason, QkdMessage } from '../../protocols/qkd-messages.ts';
import { AuthenticatedChannel } from '../../qkd/auth.ts';
import { packBits } from '../../qkd/bits.ts';
import {
  assessBlock,
  countByIntensity,
  joinBatches,
  predictedLeak,
  privacyAmplify,
  verificationHash,
  verifyHashBits,
  type SiftedBatch,
} from '../../qkd/block.ts';
import { CascadeOracle } from '../../qkd/cascade.ts';
import type { ClassicalChannel } from '../../qkd/channel.ts';
import { checkDistillConfig, type DistillConfig } from '../../qkd/config.ts';
import type { KeyPool } from '../../qkd/pool.ts';
import { Rng } from '../../qkd/random.ts';
import { keyIdOf, newRecord, type BlockRecord } from '../../qkd/records.ts';
import { packedSettingsInto, settingsTable, type SettingsTable } from '../../qkd/settings.ts';

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
}

interface AliceBlock {
  record: BlockRecord;
  keyBits: Uint8Array;
  oracle: CascadeOracle | null;
  qberTest: number;
}

export class AliceDistiller {
  readonly auth: AuthenticatedChannel;
  readonly blocks: BlockRecord[] = [];
  readonly rejected: ProtocolError[] = [];
  private readonly table: SettingsTable;
  private readonly rng: Rng;
  private readonly unused: SiftedBatch[] = [];
  private unusedKeyBits = 0;
  private readonly active = new Map<number, AliceBlock>();
  private nextBlockId = 0;

  constructor(private readonly opts: AliceOptions) {
    const c = checkDistillConfig(opts.config);
    this.table = settingsTable(opts.sourceSeed, { p: c.p, pKeyBasis: c.pKeyBasis });
    this.rng = new Rng(opts.rngSeed, 0xa11ce);
    this.auth = new AuthenticatedChannel(opts.channel, { pool: opts.pool, sessionId: opts.sessionId, direction: 0 });
    this.auth.listen(
      (m) => this.onMessage(m),
      (e) => this.onReject(e),
    );
  }

  private now(): number | null {
    return this.opts.clock ? this.opts.clock() : null;
  }

  private onReject(e: ProtocolError): void {
    this.rejected.push(e);
    for (const b of this.active.values()) {
      this.settle(b, 'aborted', 'AUTH_FAILED');
      this.auth.send({ type: 'abort', blockId: b.record.blockId, batch: false, reason: 'AUTH_FAILED' });
    }
  }

  private onMessage(m: QkdMessage): void {
    switch (m.type) {
      case 'detections':
        return this.onDetections(m);
      case 'peReport':
        return this.onPeReport(m);
      case 'ecTop':
      case 'ecRanges':
        return this.onParityQuery(m);
      case 'verify':
        return this.onVerify(m);
      case 'abort': {
        const b = this.active.get(m.blockId);
        if (m.batch) return;
        if (b) this.settle(b, 'aborted', m.reason);
        else this.handleLateAbort(m.blockId, m.reason);
        return;
      }
      default:
        // Messages only Bob receives: a confused or hostile peer. Abort what is open.
        for (const b of this.active.values()) this.abort(b, 'PROTOCOL_ERROR');
    }
  }

  private onDetections(m: Extract<QkdMessage, { type: 'detections' }>): void {
    const n = m.pulseIndex.length;
    const bobBasis = m.basis;
    const settings = new Uint8Array(n);
    packedSettingsInto(this.table, m.pulseIndex, settings);
    const basis = new Uint8Array(n);
    const intensity = new Uint8Array(n);
    // Sifted entries are compacted without branches (basis agreement is a coin flip):
    // every entry is written at the next free slot, which advances only on a match.
    const keyIntensity = new Uint8Array(n + 1);
    const keyBit = new Uint8Array(n + 1);
    const testIntensity = new Uint8Array(n + 1);
    const testBit = new Uint8Array(n + 1);
    let k = 0;
    let t = 0;
    for (let i = 0; i < n; i++) {
      const s = settings[i];
      const a = (s >>> 1) & 1;
      const c = s >>> 2;
      const bit = s & 1;
      basis[i] = a;
      intensity[i] = c;
      const same = ((a ^ bobBasis[i]) - 1) >>> 31; // 1 iff the bases agree
      const isKey = same & ((a - 1) >>> 31); // agree on basis 0
      keyIntensity[k] = c;
      keyBit[k] = bit;
      k += isKey;
      testIntensity[t] = c;
      testBit[t] = bit;
      t += same ^ isKey;
    }
    const batch: SiftedBatch = {
      batchId: m.batchId,
      keyIntensity: keyIntensity.slice(0, k),
      keyBit: keyBit.slice(0, k),
      testIntensity: testIntensity.slice(0, t),
      testBit: testBit.slice(0, t),
    };
    this.auth.send({ type: 'sift', batchId: m.batchId, basis, intensity });
    this.unused.push(batch);
    this.unusedKeyBits += k;
    if (this.unusedKeyBits >= this.opts.config.blockBits) this.cutBlock();
  }

  /** End of the pass: whatever is left becomes a last (possibly too small) block. */
  endOfPass(): void {
    if (this.unused.length > 0) this.cutBlock();
  }

  private cutBlock(): void {
    const joined = joinBatches(this.unused.splice(0));
    this.unusedKeyBits = 0;
    const blockId = this.nextBlockId++;
    const record = newRecord(blockId, joined.batchId);
    record.keyBits = joined.keyBit.length;
    record.keyN = countByIntensity(joined.keyIntensity);
    record.testN = countByIntensity(joined.testIntensity);
    this.blocks.push(record);
    const block: AliceBlock = { record, keyBits: joined.keyBit, oracle: null, qberTest: 0 };
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

  private onVerify(m: Extract<QkdMessage, { type: 'verify' }>): void {
    const b = this.active.get(m.blockId);
    if (!b || !b.oracle) return;
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
    const key = packBits(privacyAmplify(b.keyBits, r.lengthBits, paSeed));
    r.key = key;
    r.keyId = keyIdOf(this.opts.sessionId, r.blockId);
    this.opts.pool.add(r.keyId, key, r.lengthBits, `${this.opts.sessionId}/block:${r.blockId}`);
    this.auth.send({ type: 'blockResult', blockId: r.blockId, reason: 'NONE', keyId: r.blockId, lengthBits: r.lengthBits, paSeed });
    this.settle(b, 'delivered', 'NONE');
  }

  private finishWith(b: AliceBlock, reason: AbortReason): void {
    this.auth.send({ type: 'blockResult', blockId: b.record.blockId, reason, keyId: 0, lengthBits: 0, paSeed: 0 });
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
    if (status === 'aborted' && b.record.keyId) {
      this.opts.pool.remove(b.record.keyId);
      b.record.keyId = null;
      b.record.key = null;
    }
    this.active.delete(b.record.blockId);
  }

  /** An abort for a block already delivered (Bob could not file it): take it back. */
  handleLateAbort(blockId: number, reason: AbortReason): void {
    const r = this.blocks.find((x) => x.blockId === blockId);
    if (r && r.status === 'delivered' && r.keyId) {
      this.opts.pool.remove(r.keyId);
      r.status = 'aborted';
      r.reason = reason;
      r.keyId = null;
      r.key = null;
    }
  }
}
