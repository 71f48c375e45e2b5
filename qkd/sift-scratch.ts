/**
 * The compaction buffers of a sifting loop (Alice's and Bob's), kept between batches:
 * each batch writes every entry at the next free slot and copies the sifted lists out
 * with slice, so the buffers themselves never leave the loop (a pass sifts millions of
 * detections; fresh buffers per batch were a good part of its garbage).
 */
export class SiftScratch {
  keyIntensity = new Uint8Array(0);
  keyBit = new Uint8Array(0);
  testIntensity = new Uint8Array(0);
  testBit = new Uint8Array(0);
  /** One more array for a caller's per-entry scratch (Alice's packed settings). */
  extra = new Uint8Array(0);

  /** Grows the buffers to at least n + 1 entries (the branch-free compaction writes one past the last kept entry). */
  ensure(n: number): this {
    if (this.keyBit.length < n + 1) {
      const size = Math.max(n + 1, 2 * this.keyBit.length);
      this.keyIntensity = new Uint8Array(size);
      this.keyBit = new Uint8Array(size);
      this.testIntensity = new Uint8Array(size);
      this.testBit = new Uint8Array(size);
      this.extra = new Uint8Array(size);
    }
    return this;
  }
}
