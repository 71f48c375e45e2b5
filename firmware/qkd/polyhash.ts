/**
 * Polynomial universal hashing over GF(2^61 - 1): H_k(m) = sum m_i k^(L+1-i) + L k,
 * with m read as 32-bit little-endian words. Two different messages of at most L words
 * collide with probability at most (L + 1) / 2^61 over the key. Used for Wegman-Carter
 * authentication tags and for error verification.
 *
 * Field elements are pairs (hi < 2^29, lo < 2^32) of plain numbers; the product is
 * formed from 16-bit limbs so every partial sum stays an exact double (< 2^53).
 */

const TWO32 = 4294967296;
const TWO29 = 536870912;

export interface Fe61 {
  hi: number;
  lo: number;
}

/** Reduce a random 64-bit value (hi, lo words) to a field element (a hash key). */
export function fe61FromWords(hi: number, lo: number): Fe61 {
  let h = (hi >>> 0) % TWO29;
  let l = lo >>> 0;
  if (h === TWO29 - 1 && l === TWO32 - 1) {
    h = 0;
    l = 0;
  }
  return { hi: h, lo: l };
}

/** Hash `bytes` with key k. Returns the 61-bit value as (hi, lo). */
export function polyHash61(bytes: Uint8Array, key: Fe61): Fe61 {
  const k0 = key.lo & 0xffff;
  const k1 = key.lo >>> 16;
  const k2 = key.hi & 0xffff;
  const k3 = key.hi >>> 16;
  let hi = 0;
  let lo = 0;
  const n = bytes.length;
  const words = (n + 3) >>> 2;
  for (let w = 0; w <= words; w++) {
    let m: number;
    if (w < words) {
      const i = w << 2;
      m = ((bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0);
    } else {
      m = n; // length coefficient: makes the hash prefix-free
    }
    // h = (h + m) * k mod p
    lo += m;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
      if (hi >= TWO29) {
        hi -= TWO29;
        lo += 1;
      }
    }
    const a0 = lo & 0xffff;
    const a1 = lo >>> 16;
    const a2 = hi & 0xffff;
    const a3 = hi >>> 16;
    const c0 = a0 * k0;
    const c1 = a0 * k1 + a1 * k0;
    const c2 = a0 * k2 + a1 * k1 + a2 * k0;
    const c3 = a0 * k3 + a1 * k2 + a2 * k1 + a3 * k0;
    const c4 = a1 * k3 + a2 * k2 + a3 * k1;
    const c5 = a2 * k3 + a3 * k2;
    const c6 = a3 * k3;
    // 2^64 = 8, 2^80 = 2^19, 2^96 = 2^35 (mod 2^61 - 1)
    const A = c0 + c1 * 65536 + c4 * 8 + c5 * 524288;
    let B = c2 + c3 * 65536 + c6 * 8;
    const Ah = Math.floor(A / TWO32);
    const Al = A - Ah * TWO32;
    B += Ah;
    const Bh = Math.floor(B / TWO29);
    hi = B - Bh * TWO29;
    lo = Al + Bh;
    while (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    if (hi >= TWO29) {
      hi -= TWO29;
      lo += 1;
    }
  }
  if (hi === TWO29 - 1 && lo === TWO32 - 1) return { hi: 0, lo: 0 };
  return { hi, lo };
}

/** Collision bound of one polynomial hash of a message of `bytes` bytes. */
export function polyHashCollisionBound(bytes: number): number {
  return (Math.ceil(bytes / 4) + 1) / 2 ** 61;
}
