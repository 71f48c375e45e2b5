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

/** Result registers of mulMod (no allocation in the hot loops). */
let R_HI = 0;
let R_LO = 0;

/** (hi, lo) * k mod p with k in 16-bit limbs; (hi < 2^29, lo < 2^32) in and out. */
function mulMod(hi: number, lo: number, k0: number, k1: number, k2: number, k3: number): void {
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
  R_HI = hi;
  R_LO = lo;
}

/** Words hashed per chunk by the fast path (see polyHash61). */
const CHUNK = 32;

/** Per key: k^CHUNK and the 16-bit limbs of k^CHUNK .. k^1 (4 per power). */
interface KeyPowers {
  kcHi: number;
  kcLo: number;
  limbs: Float64Array;
}
const powersCache = new WeakMap<Fe61, KeyPowers>();

function keyPowers(key: Fe61): KeyPowers {
  let p = powersCache.get(key);
  if (p) return p;
  const k0 = key.lo & 0xffff;
  const k1 = key.lo >>> 16;
  const k2 = key.hi & 0xffff;
  const k3 = key.hi >>> 16;
  const limbs = new Float64Array(4 * CHUNK);
  let hi = key.hi;
  let lo = key.lo;
  // limbs[4 j ..] = k^(CHUNK - j): fill from j = CHUNK - 1 (k^1) down to 0 (k^CHUNK).
  for (let j = CHUNK - 1; j >= 0; j--) {
    limbs[4 * j] = lo & 0xffff;
    limbs[4 * j + 1] = lo >>> 16;
    limbs[4 * j + 2] = hi & 0xffff;
    limbs[4 * j + 3] = hi >>> 16;
    if (j > 0) {
      mulMod(hi, lo, k0, k1, k2, k3);
      hi = R_HI;
      lo = R_LO;
    }
  }
  p = { kcHi: hi, kcLo: lo, limbs };
  powersCache.set(key, p);
  return p;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Hash `bytes` with key k. Returns the 61-bit value as (hi, lo).
 *
 * Long messages go CHUNK words at a time: h <- h k^C + sum m_j k^(C - j). The sum
 * needs only 32-by-61-bit products (8 limb products per word, accumulated exactly
 * below 2^39 and reduced once per chunk) instead of a full field multiplication per
 * word; the result is the same polynomial, bit for bit.
 */
export function polyHash61(bytes: Uint8Array, key: Fe61): Fe61 {
  const k0 = key.lo & 0xffff;
  const k1 = key.lo >>> 16;
  const k2 = key.hi & 0xffff;
  const k3 = key.hi >>> 16;
  let hi = 0;
  let lo = 0;
  const n = bytes.length;
  const words = (n + 3) >>> 2;
  const fullWords = n >>> 2;
  let w = 0;
  if (fullWords >= 4 * CHUNK) {
    const pw = keyPowers(key);
    const L = pw.limbs;
    const q0 = pw.kcLo & 0xffff;
    const q1 = pw.kcLo >>> 16;
    const q2 = pw.kcHi & 0xffff;
    const q3 = pw.kcHi >>> 16;
    const view = LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, fullWords) : null;
    const chunks = Math.floor(fullWords / CHUNK);
    for (let c = 0; c < chunks; c++, w += CHUNK) {
      let W0 = 0;
      let W1 = 0;
      let W2 = 0;
      let W3 = 0;
      let W4 = 0;
      for (let j = 0; j < CHUNK; j++) {
        let m: number;
        if (view) m = view[w + j];
        else {
          const i = (w + j) << 2;
          m = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
        }
        const mL = m & 0xffff;
        const mH = m >>> 16;
        const K0 = L[4 * j];
        const K1 = L[4 * j + 1];
        const K2 = L[4 * j + 2];
        const K3 = L[4 * j + 3];
        W0 += mL * K0;
        W1 += mL * K1 + mH * K0;
        W2 += mL * K2 + mH * K1;
        W3 += mL * K3 + mH * K2;
        W4 += mH * K3;
      }
      // S = W0 + W1 2^16 + W2 2^32 + W3 2^48 + W4 2^64, and 2^64 = 8 (mod p).
      let x = W0 + 8 * W4;
      let carry = Math.floor(x / 65536);
      const d0 = x - carry * 65536;
      x = W1 + carry;
      carry = Math.floor(x / 65536);
      const d1 = x - carry * 65536;
      x = W2 + carry;
      carry = Math.floor(x / 65536);
      const d2 = x - carry * 65536;
      x = W3 + carry;
      carry = Math.floor(x / 65536);
      const d3 = x - carry * 65536;
      // value = d0 + d1 2^16 + (d2 + d3 2^16) 2^32 + 8 carry, bits 61.. fold down once.
      const high = d2 + d3 * 65536;
      const top = Math.floor(high / TWO29);
      let sHi = high - top * TWO29;
      let sLo = d0 + d1 * 65536 + 8 * carry + top;
      while (sLo >= TWO32) {
        sLo -= TWO32;
        sHi += 1;
      }
      // h k^C + S
      mulMod(hi, lo, q0, q1, q2, q3);
      lo = R_LO + sLo;
      hi = R_HI + sHi;
      while (lo >= TWO32) {
        lo -= TWO32;
        hi += 1;
      }
      while (hi >= TWO29) {
        hi -= TWO29;
        lo += 1;
        if (lo >= TWO32) {
          lo -= TWO32;
          hi += 1;
        }
      }
    }
  }
  for (; w <= words; w++) {
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
    mulMod(hi, lo, k0, k1, k2, k3);
    hi = R_HI;
    lo = R_LO;
  }
  if (hi === TWO29 - 1 && lo === TWO32 - 1) return { hi: 0, lo: 0 };
  return { hi, lo };
}

/** Collision bound of one polynomial hash of a message of `bytes` bytes. */
export function polyHashCollisionBound(bytes: number): number {
  return (Math.ceil(bytes / 4) + 1) / 2 ** 61;
}
