/**
 * One end's sifted entries (Alice's and Bob's), batch after batch, in buffers kept for
 * the whole pass: a batch is sifted straight into the tail and a block takes a run of
 * whole batches from the front. A pass sifts millions of detections; an array per list
 * per batch, joined again per block, was a good part of its garbage.
 *
 * An entry is one byte laid out as packedSettings (qkd/settings.ts): bit 0 the bit,
 * bits 2-3 the intensity class, bit 1 ignored. The sifting loops compact one byte per
 * list, not a bit and a class apart (a compacting store, at an index that depends on
 * the entries before, costs about a nanosecond), and a block splits its entries four
 * to a word.
 */
import type { Triple } from './keyrate.ts';

/** An entry of a sifted list (see above). */
export function siftEntry(bit: number, intensity: number): number {
  return bit | (intensity << 2);
}

/** The sifted entries of a block (one side's view), in sifting order. */
export interface SiftedBlock {
  /** The last batch in the block (-1 if none). */
  batchId: number;
  /** Key-basis entries and their bits. */
  key: Uint8Array;
  keyBit: Uint8Array;
  /** Key-basis entries per intensity class. */
  keyN: Triple;
  test: Uint8Array;
  testBit: Uint8Array;
  testN: Triple;
}

/** `buf` with room for at least `need` entries, its first `used` kept (doubling, so appends cost O(1) each). */
export function grown(buf: Uint8Array<ArrayBuffer>, used: number, need: number): Uint8Array<ArrayBuffer> {
  if (buf.length >= need) return buf;
  const out = new Uint8Array(Math.max(need, 2 * buf.length));
  out.set(buf.subarray(0, used));
  return out;
}

/** Sum of the four bytes of a word whose bytes are 0 or 1. */
function byteSum(x: number): number {
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * The bits of `entries` (bit 0 of each) and the entries of each intensity class 0..2
 * (a class 3 is not counted). `entries` must start on a word boundary of its buffer.
 */
export function splitEntries(entries: Uint8Array): { bit: Uint8Array; counts: Triple } {
  const n = entries.length;
  const bit = new Uint8Array(n);
  // Four entries a word: each byte's bits 0, 2 and 3 masked in place. The masks are the
  // same in every byte, so byte order does not matter.
  const words = n >>> 2;
  const src = new Uint32Array(entries.buffer, entries.byteOffset, words);
  const out = new Uint32Array(bit.buffer, 0, words);
  let lo = 0;
  let hi = 0;
  let both = 0;
  for (let w = 0; w < words; w++) {
    const x = src[w];
    const l = (x >>> 2) & 0x01010101;
    const h = (x >>> 3) & 0x01010101;
    out[w] = x & 0x01010101;
    lo += byteSum(l);
    hi += byteSum(h);
    both += byteSum(l & h);
  }
  for (let i = 4 * words; i < n; i++) {
    const e = entries[i];
    const l = (e >>> 2) & 1;
    const h = (e >>> 3) & 1;
    bit[i] = e & 1;
    lo += l;
    hi += h;
    both += l & h;
  }
  return { bit, counts: [n - lo - hi + both, lo - both, hi - both] };
}

export class SiftStore {
  /** Key-basis entries, then test-basis entries, of the batches held. */
  key = new Uint8Array(0);
  test = new Uint8Array(0);
  /** Entries of the committed batches (the sifting loop appends from here). */
  keyLen = 0;
  testLen = 0;
  private readonly ids: number[] = [];
  /** Key (test) entries up to the end of each batch. */
  private readonly keyEnds: number[] = [];
  private readonly testEnds: number[] = [];

  /** Batches held. */
  get batches(): number {
    return this.ids.length;
  }

  batchId(i: number): number {
    return this.ids[i];
  }

  /** Key entries in the batches before batch i. */
  keyEnd(i: number): number {
    return i === 0 ? 0 : this.keyEnds[i - 1];
  }

  /** Test entries in the batches before batch i. */
  private testEnd(i: number): number {
    return i === 0 ? 0 : this.testEnds[i - 1];
  }

  /**
   * Room to sift n more detections into the tail; the buffers may be replaced, so a
   * loop takes them after this call. One more than n: the branch-free compaction writes
   * one past the last kept entry.
   */
  reserve(n: number): this {
    this.key = grown(this.key, this.keyLen, this.keyLen + n + 1);
    this.test = grown(this.test, this.testLen, this.testLen + n + 1);
    return this;
  }

  /** A batch was sifted into the tail: the lists now end at keyLen and testLen. */
  commit(batchId: number, keyLen: number, testLen: number): void {
    this.ids.push(batchId);
    this.keyEnds.push(keyLen);
    this.testEnds.push(testLen);
    this.keyLen = keyLen;
    this.testLen = testLen;
  }

  /** The first `count` batches as a block (arrays of its own); the later batches move to the front. */
  take(count: number): SiftedBlock {
    const k = this.keyEnd(count);
    const t = this.testEnd(count);
    // Copies from offset 0: splitEntries reads them a word at a time.
    const keyEntries = this.key.slice(0, k);
    const testEntries = this.test.slice(0, t);
    const key = splitEntries(keyEntries);
    const test = splitEntries(testEntries);
    const batchId = count === 0 ? -1 : this.ids[count - 1];
    this.cut(0, count, k, t);
    return {
      batchId,
      key: keyEntries,
      keyBit: key.bit,
      keyN: key.counts,
      test: testEntries,
      testBit: test.bit,
      testN: test.counts,
    };
  }

  /** Forget batch i: the later batches' entries move down over it. */
  remove(i: number): void {
    this.cut(i, 1, this.keyEnd(i + 1) - this.keyEnd(i), this.testEnd(i + 1) - this.testEnd(i));
  }

  /** Keep only the first `count` batches. */
  truncate(count: number): void {
    this.keyLen = this.keyEnd(count);
    this.testLen = this.testEnd(count);
    this.ids.length = count;
    this.keyEnds.length = count;
    this.testEnds.length = count;
  }

  /** Drop batches [i, i + count), which hold k key and t test entries. */
  private cut(i: number, count: number, k: number, t: number): void {
    const k0 = this.keyEnd(i);
    const t0 = this.testEnd(i);
    this.key.copyWithin(k0, k0 + k, this.keyLen);
    this.test.copyWithin(t0, t0 + t, this.testLen);
    this.ids.splice(i, count);
    this.keyEnds.splice(i, count);
    this.testEnds.splice(i, count);
    for (let j = i; j < this.ids.length; j++) {
      this.keyEnds[j] -= k;
      this.testEnds[j] -= t;
    }
    this.keyLen -= k;
    this.testLen -= t;
  }
}
