/**
 * Key pool of one station pair: delivered key blocks with ids and lengths, consumed
 * first-in first-out, every consumption recorded. Pure data + serialise/deserialise
 * (JSON text or its UTF-8 bytes); storing it in a file is the caller's business.
 *
 * A pool may carry a journal port: every change (key reserved, block added, block
 * withdrawn) is handed to it before it takes effect, so a store that makes the entry
 * durable before returning gets a write-ahead log: no bit is handed out that a crash
 * could hand out again, and no delivered block is forgotten.
 */
import { sliceBits } from './bits.ts';

export interface PoolBlock {
  keyId: string;
  lengthBits: number;
  consumedBits: number;
  /** Where it came from: 'psk', 'pass:<id>/block:<n>', ... */
  source: string;
  words: Uint32Array;
}

export interface ConsumptionRecord {
  keyId: string;
  offsetBits: number;
  lengthBits: number;
  purpose: string;
  ref: string;
}

export class PoolExhaustedError extends Error {
  override readonly name = 'PoolExhaustedError';
}

/** One change to a pool, as its journal records it. */
export type PoolJournalEntry =
  | { op: 'reserve'; records: ConsumptionRecord[] }
  | { op: 'add'; block: PoolBlock }
  | { op: 'remove'; keyId: string };

/**
 * Where a pool writes its changes ahead of making them. `write` must return only once
 * the entry would survive a crash; if it throws, the change is not made.
 */
export interface PoolJournal {
  write(entry: PoolJournalEntry): void;
}

/** A journal entry or pool file that cannot be read back. */
export class PoolFormatError extends Error {
  override readonly name = 'PoolFormatError';
}

interface BlockJson {
  keyId: string;
  lengthBits: number;
  consumedBits: number;
  source: string;
  /** Base64 of the little-endian words. */
  words: string;
}

function blockToJSON(b: PoolBlock): BlockJson {
  return {
    keyId: b.keyId,
    lengthBits: b.lengthBits,
    consumedBits: b.consumedBits,
    source: b.source,
    words: Buffer.from(b.words.buffer, b.words.byteOffset, b.words.byteLength).toString('base64'),
  };
}

function blockFromJSON(b: Record<string, unknown>, where: string): PoolBlock {
  const { keyId, lengthBits, consumedBits, source, words } = b ?? {};
  if (typeof keyId !== 'string' || typeof source !== 'string' || typeof words !== 'string') {
    throw new PoolFormatError(`key pool: ${where} malformed`);
  }
  if (!Number.isInteger(lengthBits) || !Number.isInteger(consumedBits) || (consumedBits as number) > (lengthBits as number)) {
    throw new PoolFormatError(`key pool: ${where}.lengthBits/consumedBits invalid`);
  }
  const raw = Buffer.from(words, 'base64');
  if (raw.length !== ((lengthBits as number) + 31 >>> 5) * 4) throw new PoolFormatError(`key pool: ${where}.words length mismatch`);
  const w = new Uint32Array(raw.length / 4);
  for (let k = 0; k < w.length; k++) w[k] = raw.readUInt32LE(k * 4);
  return { keyId, lengthBits: lengthBits as number, consumedBits: consumedBits as number, source, words: w };
}

function recordFromJSON(r: Record<string, unknown>, where: string): ConsumptionRecord {
  const { keyId, offsetBits, lengthBits, purpose, ref } = r ?? {};
  if (typeof keyId !== 'string' || typeof purpose !== 'string' || typeof ref !== 'string' || !Number.isInteger(offsetBits) || !Number.isInteger(lengthBits)) {
    throw new PoolFormatError(`key pool: ${where} malformed`);
  }
  return { keyId, offsetBits: offsetBits as number, lengthBits: lengthBits as number, purpose, ref };
}

/** One journal line (JSON, no newline). */
export function encodeJournalEntry(e: PoolJournalEntry): string {
  return JSON.stringify(e.op === 'add' ? { op: 'add', block: blockToJSON(e.block) } : e);
}

export function decodeJournalEntry(line: string): PoolJournalEntry {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new PoolFormatError(`key pool journal: entry is not JSON: ${line.slice(0, 60)}`);
  }
  if (v?.op === 'reserve' && Array.isArray(v.records)) {
    return { op: 'reserve', records: (v.records as Record<string, unknown>[]).map((r, i) => recordFromJSON(r, `journal reserve.records[${i}]`)) };
  }
  if (v?.op === 'add') return { op: 'add', block: blockFromJSON(v.block as Record<string, unknown>, 'journal add.block') };
  if (v?.op === 'remove' && typeof v.keyId === 'string') return { op: 'remove', keyId: v.keyId };
  throw new PoolFormatError(`key pool journal: unknown entry op ${JSON.stringify(v?.op)}`);
}

export class KeyPool {
  readonly blocks: PoolBlock[] = [];
  readonly records: ConsumptionRecord[] = [];
  /** Written ahead of every change (null: changes live in memory only). */
  journal: PoolJournal | null = null;

  constructor(readonly station: string) {}

  block(keyId: string): PoolBlock | undefined {
    return this.blocks.find((b) => b.keyId === keyId);
  }

  add(keyId: string, words: Uint32Array, lengthBits: number, source: string): void {
    if (this.block(keyId)) throw new Error(`pool ${this.station}: key id ${keyId} already present`);
    const block = { keyId, lengthBits, consumedBits: 0, source, words: words.slice() };
    this.journal?.write({ op: 'add', block });
    this.blocks.push(block);
  }

  /** Withdraw an untouched block (a delivery the peer could not confirm). */
  remove(keyId: string): boolean {
    const i = this.blocks.findIndex((b) => b.keyId === keyId && b.consumedBits === 0);
    if (i < 0) return false;
    this.journal?.write({ op: 'remove', keyId });
    this.blocks.splice(i, 1);
    return true;
  }

  availableBits(): number {
    let n = 0;
    for (const b of this.blocks) n += b.lengthBits - b.consumedBits;
    return n;
  }

  totalConsumedBits(): number {
    let n = 0;
    for (const r of this.records) n += r.lengthBits;
    return n;
  }

  /**
   * Take `n` bits (oldest first); throws PoolExhaustedError and takes nothing if short.
   * The ranges are journalled (reserved) before a single bit is copied out.
   */
  consume(n: number, purpose: string, ref: string): Uint32Array {
    if (n > this.availableBits()) {
      throw new PoolExhaustedError(`pool ${this.station}: ${n} bits wanted, ${this.availableBits()} available`);
    }
    const plan: ConsumptionRecord[] = [];
    let left = n;
    for (const b of this.blocks) {
      if (left === 0) break;
      const take = Math.min(b.lengthBits - b.consumedBits, left);
      if (take <= 0) continue;
      plan.push({ keyId: b.keyId, offsetBits: b.consumedBits, lengthBits: take, purpose, ref });
      left -= take;
    }
    this.reserve(plan);
    const out = new Uint32Array((n + 31) >>> 5);
    let filled = 0;
    for (const r of plan) {
      const piece = sliceBits(this.block(r.keyId)!.words, r.offsetBits, r.lengthBits);
      for (let i = 0; i < r.lengthBits; i++) {
        if ((piece[i >>> 5] >>> (i & 31)) & 1) out[(filled + i) >>> 5] |= 1 << ((filled + i) & 31);
      }
      filled += r.lengthBits;
    }
    return out;
  }

  /** Mark block `keyId` used up to bit `toBits` without handing the bits out (a burn). */
  burnTo(keyId: string, toBits: number, ref: string): number {
    const b = this.block(keyId);
    if (!b || toBits <= b.consumedBits) return 0;
    const n = Math.min(toBits, b.lengthBits) - b.consumedBits;
    this.reserve([{ keyId, offsetBits: b.consumedBits, lengthBits: n, purpose: 'burn', ref }]);
    return n;
  }

  private reserve(plan: ConsumptionRecord[]): void {
    if (plan.length === 0) return;
    this.journal?.write({ op: 'reserve', records: plan });
    for (const r of plan) this.applyRecord(r);
  }

  private applyRecord(r: ConsumptionRecord): void {
    this.records.push({ ...r });
    this.block(r.keyId)!.consumedBits += r.lengthBits;
  }

  /**
   * Apply a journal entry read back after a restart, without journalling it again.
   * Idempotent: an entry the pool already reflects (a snapshot written after it) is
   * skipped, so a crash between writing a snapshot and clearing the journal is harmless.
   */
  replay(e: PoolJournalEntry): void {
    if (e.op === 'add') {
      if (!this.block(e.block.keyId)) this.blocks.push({ ...e.block, consumedBits: 0, words: e.block.words.slice() });
    } else if (e.op === 'remove') {
      const i = this.blocks.findIndex((b) => b.keyId === e.keyId);
      if (i >= 0 && this.blocks[i].consumedBits > 0) throw new PoolFormatError(`pool ${this.station}: journal withdraws ${e.keyId}, already in use`);
      if (i >= 0) this.blocks.splice(i, 1);
    } else {
      for (const r of e.records) {
        const b = this.block(r.keyId);
        if (!b) throw new PoolFormatError(`pool ${this.station}: journal reserves unknown block ${r.keyId}`);
        if (r.offsetBits + r.lengthBits <= b.consumedBits) continue; // already in the snapshot
        if (r.offsetBits !== b.consumedBits || r.offsetBits + r.lengthBits > b.lengthBits) {
          throw new PoolFormatError(`pool ${this.station}: journal reserves ${r.keyId} at ${r.offsetBits}, block used up to ${b.consumedBits}`);
        }
        this.applyRecord(r);
      }
    }
  }

  /** Stable JSON: words as base64 of little-endian bytes. */
  toJSON(): object {
    return { station: this.station, blocks: this.blocks.map(blockToJSON), records: this.records };
  }

  serialise(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.toJSON()));
  }

  static fromJSON(v: unknown): KeyPool {
    const o = v as { station?: unknown; blocks?: unknown; records?: unknown };
    if (typeof o?.station !== 'string' || !Array.isArray(o.blocks) || !Array.isArray(o.records)) {
      throw new PoolFormatError('key pool: expected { station, blocks[], records[] }');
    }
    const pool = new KeyPool(o.station);
    for (const [i, b] of (o.blocks as Record<string, unknown>[]).entries()) pool.blocks.push(blockFromJSON(b, `blocks[${i}]`));
    for (const [i, r] of (o.records as Record<string, unknown>[]).entries()) pool.records.push(recordFromJSON(r, `records[${i}]`));
    return pool;
  }

  static deserialise(bytes: Uint8Array): KeyPool {
    return KeyPool.fromJSON(JSON.parse(new TextDecoder().decode(bytes)));
  }

  /** Fingerprint of the unconsumed material (equal pools have equal fingerprints). */
  fingerprint(): string {
    let h = 0x811c9dc5;
    for (const b of this.blocks) {
      const rest = sliceBits(b.words, b.consumedBits, b.lengthBits - b.consumedBits);
      for (const w of rest) h = Math.imul(h ^ w, 0x01000193) >>> 0;
      h = Math.imul(h ^ (b.lengthBits - b.consumedBits), 0x01000193) >>> 0;
    }
    return `${this.availableBits()}:${h.toString(16)}`;
  }
}

/**
 * Bring the two ends of one link (pools that must hold the same key, consumed in the same
 * order) back into step after a crash stopped one end's change before the other's: a
 * block only one end holds is withdrawn (untouched) or burnt; a block both hold is used up
 * to the further of the two ends. Only ever advances, so no bit becomes usable again.
 * Returns the bits burnt in each pool and the number of blocks withdrawn.
 */
export function alignPools(a: KeyPool, b: KeyPool, ref: string): { burnt: [number, number]; withdrawn: number } {
  const burnt: [number, number] = [0, 0];
  let withdrawn = 0;
  const ids = [...new Set([...a.blocks, ...b.blocks].map((x) => x.keyId))];
  for (const id of ids) {
    const [x, y] = [a.block(id), b.block(id)];
    if (x && y) {
      const to = Math.max(x.consumedBits, y.consumedBits);
      burnt[0] += a.burnTo(id, to, ref);
      burnt[1] += b.burnTo(id, to, ref);
    } else {
      const [pool, blk, i] = x ? [a, x, 0] : [b, y!, 1];
      if (pool.remove(id)) withdrawn++;
      else burnt[i] += pool.burnTo(id, blk.lengthBits, ref);
    }
  }
  return { burnt, withdrawn };
}
