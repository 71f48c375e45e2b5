/**
 * Key pool of one station pair: delivered key blocks with ids and lengths, consumed
 * first-in first-out, every consumption recorded. Pure data + serialise/deserialise
 * (JSON text or its UTF-8 bytes); storing it in a file is the caller's business.
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

export class KeyPool {
  readonly blocks: PoolBlock[] = [];
  readonly records: ConsumptionRecord[] = [];

  constructor(readonly station: string) {}

  add(keyId: string, words: Uint32Array, lengthBits: number, source: string): void {
    if (this.blocks.some((b) => b.keyId === keyId)) throw new Error(`pool ${this.station}: key id ${keyId} already present`);
    this.blocks.push({ keyId, lengthBits, consumedBits: 0, source, words: words.slice() });
  }

  /** Withdraw an untouched block (a delivery the peer could not confirm). */
  remove(keyId: string): boolean {
    const i = this.blocks.findIndex((b) => b.keyId === keyId && b.consumedBits === 0);
    if (i < 0) return false;
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

  /** Take `n` bits (oldest first); throws PoolExhaustedError and takes nothing if short. */
  consume(n: number, purpose: string, ref: string): Uint32Array {
    if (n > this.availableBits()) {
      throw new PoolExhaustedError(`pool ${this.station}: ${n} bits wanted, ${this.availableBits()} available`);
    }
    const out = new Uint32Array((n + 31) >>> 5);
    let filled = 0;
    for (const b of this.blocks) {
      if (filled === n) break;
      const take = Math.min(b.lengthBits - b.consumedBits, n - filled);
      if (take <= 0) continue;
      const piece = sliceBits(b.words, b.consumedBits, take);
      for (let i = 0; i < take; i++) {
        if ((piece[i >>> 5] >>> (i & 31)) & 1) out[(filled + i) >>> 5] |= 1 << ((filled + i) & 31);
      }
      this.records.push({ keyId: b.keyId, offsetBits: b.consumedBits, lengthBits: take, purpose, ref });
      b.consumedBits += take;
      filled += take;
    }
    return out;
  }

  /** Stable JSON: words as base64 of little-endian bytes. */
  toJSON(): object {
    return {
      station: this.station,
      blocks: this.blocks.map((b) => ({
        keyId: b.keyId,
        lengthBits: b.lengthBits,
        consumedBits: b.consumedBits,
        source: b.source,
        words: Buffer.from(b.words.buffer, b.words.byteOffset, b.words.byteLength).toString('base64'),
      })),
      records: this.records,
    };
  }

  serialise(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.toJSON()));
  }

  static fromJSON(v: unknown): KeyPool {
    const o = v as { station?: unknown; blocks?: unknown; records?: unknown };
    if (typeof o?.station !== 'string' || !Array.isArray(o.blocks) || !Array.isArray(o.records)) {
      throw new Error('key pool: expected { station, blocks[], records[] }');
    }
    const pool = new KeyPool(o.station);
    for (const [i, b] of (o.blocks as Record<string, unknown>[]).entries()) {
      const { keyId, lengthBits, consumedBits, source, words } = b;
      if (typeof keyId !== 'string' || typeof source !== 'string' || typeof words !== 'string') {
        throw new Error(`key pool: blocks[${i}] malformed`);
      }
      if (!Number.isInteger(lengthBits) || !Number.isInteger(consumedBits) || (consumedBits as number) > (lengthBits as number)) {
        throw new Error(`key pool: blocks[${i}].lengthBits/consumedBits invalid`);
      }
      const raw = Buffer.from(words, 'base64');
      if (raw.length !== ((lengthBits as number) + 31 >>> 5) * 4) throw new Error(`key pool: blocks[${i}].words length mismatch`);
      const w = new Uint32Array(raw.length / 4);
      for (let k = 0; k < w.length; k++) w[k] = raw.readUInt32LE(k * 4);
      pool.blocks.push({ keyId, lengthBits: lengthBits as number, consumedBits: consumedBits as number, source, words: w });
    }
    for (const r of o.records as ConsumptionRecord[]) pool.records.push({ ...r });
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
