/** Bit-packed keys: bit i lives in word i >>> 5 at position i & 31 (LSB first). */

/** 0/1 bytes packed LSB first into 32-bit words (four bytes per multiply on aligned input). */
export function packBits(bits: Uint8Array): Uint32Array {
  const n = bits.length;
  const words = (n + 31) >>> 5;
  const out = new Uint32Array(words);
  // Word by word from `first` on first (the unaligned case, or the partial last word):
  // code after the hot loop below would run without type feedback (see cascade.ts).
  const aligned = (bits.byteOffset & 3) === 0;
  const first = aligned ? n >>> 5 : 0;
  for (let w = first; w < words; w++) {
    const i = w << 5;
    const count = Math.min(32, n - i);
    let acc = 0;
    for (let b = 0; b < count; b++) acc |= bits[i + b] << b;
    out[w] = acc;
  }
  if (aligned) {
    // Four bytes b0..b3 (each 0 or 1) read as one little-endian word v: v * 0x204081
    // puts b_i at bit 21 + i with no carries (terms land at 8i + 7j, all distinct).
    const v = new Uint32Array(bits.buffer, bits.byteOffset, n >>> 2);
    for (let w = 0; w < first; w++) {
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
  return out;
}

export function unpackBits(words: Uint32Array, length: number): Uint8Array {
  const bits = new Uint8Array(length);
  for (let i = 0; i < length; i++) bits[i] = (words[i >>> 5] >>> (i & 31)) & 1;
  return bits;
}

export function getBit(words: Uint32Array, i: number): number {
  return (words[i >>> 5] >>> (i & 31)) & 1;
}

/** Copy bits [start, start + length) of `words` into a fresh packed array. */
export function sliceBits(words: Uint32Array, start: number, length: number): Uint32Array {
  const out = new Uint32Array((length + 31) >>> 5);
  const shift = start & 31;
  const w0 = start >>> 5;
  for (let k = 0; k < out.length; k++) {
    const lo = words[w0 + k] ?? 0;
    const hi = words[w0 + k + 1] ?? 0;
    out[k] = shift === 0 ? lo : (lo >>> shift) | (hi << (32 - shift));
  }
  const tail = length & 31;
  if (tail) out[out.length - 1] &= (1 << tail) - 1 || 0xffffffff;
  return out;
}

/** Little-endian bytes of packed words (for hashing and the wire). */
export function wordsToBytes(words: Uint32Array, lengthBits: number): Uint8Array {
  const nBytes = (lengthBits + 7) >>> 3;
  const out = new Uint8Array(nBytes);
  for (let i = 0; i < nBytes; i++) out[i] = (words[i >>> 2] >>> ((i & 3) * 8)) & 0xff;
  return out;
}

export function bytesToWords(bytes: Uint8Array, lengthBits: number): Uint32Array {
  const words = new Uint32Array((lengthBits + 31) >>> 5);
  const nBytes = (lengthBits + 7) >>> 3;
  for (let i = 0; i < nBytes; i++) words[i >>> 2] |= (bytes[i] ?? 0) << ((i & 3) * 8);
  const tail = lengthBits & 31;
  if (tail && words.length) words[words.length - 1] &= (1 << tail) - 1;
  return words;
}

export function equalBits(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Parity of 32 bits. */
export function parity32(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}
