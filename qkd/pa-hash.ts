/**
 * Privacy amplification by multiply-add-shift (Dietzfelbinger 1996; Thorup 2015,
 * "High speed hashing for integers and strings", the strongly universal
 * multiply-shift): an n-bit key x < 2^n (bit i of the key is bit i of x) hashes to
 *
 *   h_{a,b}(x) = ((a x + b) mod 2^w) >> (w - l),   w = n + l - 1,   a, b uniform in [0, 2^w)
 *
 * i.e. bits n-1 .. n+l-2 of a x + b. The family is strongly universal (2-independent):
 * for x != y, (h(x), h(y)) is uniform on [2^l]^2, so the collision probability is
 * exactly 2^-l, the two-universality the leftover hash lemma (and the Lim et al. key
 * length) assumes; no extra bit is needed (proof sketch in docs/qkd.md).
 *
 * Speed: V8 multiplies long BigInts in O(M log M), so the product is one BigInt
 * multiply; the bits cross into and out of BigInt as hex strings made with lookup
 * tables (a nibble per 32-bit read), never bit by bit.
 */
import { hashIndexHalves, seedHalves } from './random.ts';

/** ASCII codes of the hex digits. */
const HEX_CODES = new Uint8Array([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));
/** Byte to its two hex digits as one little-endian 16-bit word (first digit in the low byte). */
const HEX_PAIRS = new Uint16Array(256);
for (let v = 0; v < 256; v++) HEX_PAIRS[v] = HEX_CODES[v >>> 4] | (HEX_CODES[v & 15] << 8);
const HEX_PREFIX = 0x30 | (0x78 << 8); // "0x"
/** Hex digit (char code, lower case as toString(16) writes them) to nibble. */
const NIBBLE_OF = new Uint8Array(128);
for (let i = 0; i < 16; i++) NIBBLE_OF[HEX_CODES[i]] = i;
/** Nibble to the little-endian word of its four bits as 0/1 bytes. */
const SPREAD = new Uint32Array(16);
for (let v = 0; v < 16; v++) SPREAD[v] = (v & 1) | (((v >>> 1) & 1) << 8) | (((v >>> 2) & 1) << 16) | (((v >>> 3) & 1) << 24);

const ascii = new TextDecoder('latin1');

/** Hash width w = n + l - 1 for an n-bit key and an l-bit output. */
export function paWidthBits(n: number, l: number): number {
  return n + l - 1;
}

/*
 * The hex loops live in leaf functions with nothing after the loop: V8 compiles a long
 * loop on the stack (OSR) and caches that code, so code after the loop would run
 * without type feedback and deoptimise on every call.
 */

/** 0/1 bytes (bit i = 2^i) as a BigInt, through a hex string: one 32-bit read per nibble. */
export function bitsToBigInt(bits: Uint8Array): bigint {
  const n = bits.length;
  if (n === 0) return 0n;
  const digits = (n + 3) >>> 2;
  const chars = new Uint8Array(2 + digits);
  chars[0] = 0x30; // "0x"
  chars[1] = 0x78;
  hexOfBits(bits, chars);
  return BigInt(ascii.decode(chars));
}

/** Nibble k of `bits` (bits 4k..4k+3) as hex digit `top - k` of `chars`, top its last index. */
function hexOfBits(bits: Uint8Array, chars: Uint8Array): void {
  const n = bits.length;
  const digits = (n + 3) >>> 2;
  const top = chars.length - 1;
  const aligned = (bits.byteOffset & 3) === 0;
  // Bit by bit from `first` on (all of it when unaligned, else a partial last nibble).
  const first = aligned ? n >>> 2 : 0;
  for (let k = first; k < digits; k++) {
    let nib = 0;
    for (let b = 0; b < 4 && 4 * k + b < n; b++) nib |= (bits[4 * k + b] & 1) << b;
    chars[top - k] = HEX_CODES[nib];
  }
  if (!aligned) return;
  // Four 0/1 bytes read as one little-endian word v: v * 0x204081 puts byte i's bit at
  // bit 21 + i with no carries (see packBits in bits.ts).
  const v = new Uint32Array(bits.buffer, bits.byteOffset, first);
  for (let k = 0; k < first; k++) chars[top - k] = HEX_CODES[(Math.imul(v[k], 0x204081) >>> 21) & 15];
}

/** The low `length` bits of a non-negative BigInt as 0/1 bytes (bit i = 2^i). */
export function bigIntToBits(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (length === 0) return out;
  bitsOfHex(BigInt.asUintN(length, value).toString(16), out);
  return out;
}

/** Hex digits (most significant first, at most ceil(length / 4) of them) into 0/1 bytes. */
function bitsOfHex(hex: string, out: Uint8Array): void {
  const length = out.length;
  const digits = hex.length;
  // Digit j from the left is nibble digits - 1 - j: bits 4 (digits - 1 - j) .. + 3.
  // Nibbles 0 .. full-1 as whole words; a shorter top nibble bit by bit, first.
  const full = Math.min(digits, length >>> 2);
  for (let k = full; k < digits; k++) {
    const nib = NIBBLE_OF[hex.charCodeAt(digits - 1 - k)];
    for (let b = 0; b < 4 && 4 * k + b < length; b++) out[4 * k + b] = (nib >>> b) & 1;
  }
  const words = new Uint32Array(out.buffer, out.byteOffset, full);
  for (let k = 0; k < full; k++) words[k] = SPREAD[NIBBLE_OF[hex.charCodeAt(digits - 1 - k)]];
}

/**
 * `count` bits of the public PA seed's stream as a BigInt (bit j of the stream = 2^j):
 * word i of the stream is hashIndex(seed, i), LSB first, the derivation the Toeplitz
 * seed used. Built straight into hex, two digits per table read, no per-bit arrays.
 */
export function paSeedStream(seed: number, count: number): bigint {
  if (count <= 0) return 0n;
  const words = (count + 31) >>> 5;
  if (words > 2 ** 31) throw new RangeError('pa-hash: seed stream too long');
  const { lo, hi } = seedHalves(seed);
  // Little-endian pairs of ASCII codes: "0x", then pairs[1 + k] = the two hex digits of
  // byte k from the most significant end.
  const pairs = new Uint16Array(1 + 4 * words);
  pairs[0] = HEX_PREFIX;
  seedHex(lo, hi ^ 0x70e9, pairs);
  return BigInt.asUintN(count, BigInt(ascii.decode(pairs)));
}

/** Words hashIndex(lo, hs, i) as hex pairs, most significant word first after pairs[0]. */
function seedHex(lo: number, hs: number, pairs: Uint16Array): void {
  const words = (pairs.length - 1) >>> 2;
  for (let i = 0; i < words; i++) {
    const h = hashIndexHalves(lo, hs, i, 0); // i < 2^31: the index's high half is 0
    const o = 1 + 4 * (words - 1 - i);
    pairs[o] = HEX_PAIRS[h >>> 24];
    pairs[o + 1] = HEX_PAIRS[(h >>> 16) & 255];
    pairs[o + 2] = HEX_PAIRS[(h >>> 8) & 255];
    pairs[o + 3] = HEX_PAIRS[h & 255];
  }
}

/** The hash's multiplier and offset for an n-bit key and l-bit output: the first w and next w stream bits. */
export function paHashKey(seed: number, n: number, l: number): { a: bigint; b: bigint; w: number } {
  const w = paWidthBits(n, l);
  const s = paSeedStream(seed, 2 * w);
  return { a: BigInt.asUintN(w, s), b: s >> BigInt(w), w };
}

/** h_{a,b}(x) = ((a x + b) mod 2^w) >> (n - 1) as l bits (0/1 bytes), x the n key bits. */
export function multiplyAddShift(x: Uint8Array, a: bigint, b: bigint, l: number): Uint8Array {
  const n = x.length;
  if (l <= 0) return new Uint8Array(0);
  if (n === 0) throw new RangeError('pa-hash: no key bits to hash');
  const w = BigInt(paWidthBits(n, l));
  if (a < 0n || b < 0n || a >> w !== 0n || b >> w !== 0n) throw new RangeError(`pa-hash: a and b must lie in [0, 2^${w})`);
  // Bits n-1 .. n+l-2 of a x + b: the low w bits shifted down, i.e. l bits from n-1.
  return bigIntToBits((a * bitsToBigInt(x) + b) >> BigInt(n - 1), l);
}

/** Privacy amplification of the n key bits to l bits under the public seed. */
export function paHash(x: Uint8Array, l: number, seed: number): Uint8Array {
  if (l <= 0) return new Uint8Array(0);
  const { a, b } = paHashKey(seed, x.length, l);
  return multiplyAddShift(x, a, b, l);
}
