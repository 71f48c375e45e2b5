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

/**
 * Result registers of mulMod and the hash steps: R[HI], R[LO] (no allocation in the
 * hot loops). A typed array, not module variables: lo is often above V8's small-integer
 * range, and a module variable holds such a number boxed, a fresh heap number at every
 * store (tens of MB a pass, hashing the transcripts).
 */
const R = new Float64Array(2);
const HI = 0;
const LO = 1;

/*
 * Why the code below is cut into small functions with no rare branches: V8 optimises
 * a long loop while it runs (OSR) with the type feedback gathered so far. A branch
 * that had not yet been taken (a carry, the word loop after the chunk loop) then has
 * none, and taking it throws the optimised code away: the first four or five 1e6-bit
 * hashes each ran mostly in the interpreter (2-30 ms instead of 0.5 ms). Carries are
 * therefore taken with Math.floor on every step, and each long loop sits alone in its
 * function with nothing after it and nothing before it that needs type feedback (on a
 * function's first call V8 may start gathering feedback only inside the loop).
 */

/**
 * Normalise hi < 2^29, lo < 2^33 - 1 (the value hi 2^32 + lo) to hi < 2^29, lo < 2^32
 * mod p = 2^61 - 1 (2^61 = 1), branch-free.
 */
function carryOnce(hi: number, lo: number): void {
  const c = Math.floor(lo / TWO32); // 0 or 1
  lo -= c * TWO32;
  hi += c;
  const t = Math.floor(hi / TWO29); // 1 only if hi was 2^29 - 1 and c 1: lo is then < 2^32 - 1
  R[HI] = hi - t * TWO29;
  R[LO] = lo + t;
}

/** The same for hi < 2^31, lo < 2^52 (a sum of field elements and small carries). */
function carryTwice(hi: number, lo: number): void {
  const c = Math.floor(lo / TWO32);
  lo -= c * TWO32;
  hi += c;
  const t = Math.floor(hi / TWO29);
  carryOnce(hi - t * TWO29, lo + t);
}

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
  const A = c0 + c1 * 65536 + c4 * 8 + c5 * 524288; // < 2^50
  let B = c2 + c3 * 65536 + c6 * 8; // < 2^48
  const Ah = Math.floor(A / TWO32);
  const Al = A - Ah * TWO32;
  B += Ah;
  const Bh = Math.floor(B / TWO29); // < 2^19
  carryOnce(B - Bh * TWO29, Al + Bh);
}

/** Words hashed per chunk by the fast path (see polyHash61). */
const CHUNK = 32;

/**
 * Per key: the 16-bit limbs of k^CHUNK .. k^1, 4 per power (limbs[4 j ..] = k^(CHUNK - j)).
 * A typed array, not an object: an object's number fields change representation (small
 * integer or not) from key to key, and that threw hashChunks' compiled code away.
 */
const powersCache = new WeakMap<Fe61, Float64Array>();

function keyPowers(key: Fe61): Float64Array {
  let limbs = powersCache.get(key);
  if (limbs) return limbs;
  const k0 = key.lo & 0xffff;
  const k1 = key.lo >>> 16;
  const k2 = key.hi & 0xffff;
  const k3 = key.hi >>> 16;
  limbs = new Float64Array(4 * CHUNK);
  let hi = key.hi;
  let lo = key.lo;
  // Fill from j = CHUNK - 1 (k^1) down to 0 (k^CHUNK).
  for (let j = CHUNK - 1; j >= 0; j--) {
    limbs[4 * j] = lo & 0xffff;
    limbs[4 * j + 1] = lo >>> 16;
    limbs[4 * j + 2] = hi & 0xffff;
    limbs[4 * j + 3] = hi >>> 16;
    if (j > 0) {
      mulMod(hi, lo, k0, k1, k2, k3);
      hi = R[HI];
      lo = R[LO];
    }
  }
  powersCache.set(key, limbs);
  return limbs;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The first `count` little-endian 32-bit words of `bytes`: a view when aligned, else a copy. */
function wordsOf(bytes: Uint8Array, count: number): Uint32Array {
  if (LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Uint32Array(count);
  for (let w = 0; w < count; w++) {
    const i = w << 2;
    out[w] = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
  }
  return out;
}

/**
 * h <- h k^C + S chunk after chunk over view[0, chunks CHUNK) from h = 0, h out in R,
 * where S = sum_j m_j k^(C - j) over the chunk (L: keyPowers, q0..q3: k^C).
 * Each 32-bit word times each 16-bit limb of its power is below 2^48, so a limb's column
 * sums CHUNK = 32 of them exactly below 2^53: 4 multiplies a word (the word is not split),
 * one reduction per chunk. Both loops in one function: V8 then compiles it during the
 * first long message (a separate per-chunk function left the outer loop interpreted for
 * two or three calls).
 */
function hashChunks(view: Uint32Array, chunks: number, L: Float64Array, q0: number, q1: number, q2: number, q3: number): void {
  let hi = 0;
  let lo = 0;
  for (let c = 0, w = 0; c < chunks; c++, w += CHUNK) {
    // Two lanes (even and odd words) halve the chains of dependent adds.
    let W0 = 0;
    let W1 = 0;
    let W2 = 0;
    let W3 = 0;
    let X0 = 0;
    let X1 = 0;
    let X2 = 0;
    let X3 = 0;
    for (let j = 0; j < CHUNK; j += 2) {
      const m = view[w + j];
      const n = view[w + j + 1];
      const b = 4 * j;
      W0 += m * L[b];
      W1 += m * L[b + 1];
      W2 += m * L[b + 2];
      W3 += m * L[b + 3]; // limb 3 < 2^13
      X0 += n * L[b + 4];
      X1 += n * L[b + 5];
      X2 += n * L[b + 6];
      X3 += n * L[b + 7];
    }
    W0 += X0;
    W1 += X1;
    W2 += X2;
    W3 += X3;
    // S = W0 + W1 2^16 + W2 2^32 + W3 2^48 with 2^61 = 1 (mod p): cut each column where
    // it crosses bit 32 or 61 and fold (S = sHi 2^32 + sLo, both < 2^38).
    const a0 = Math.floor(W0 / TWO32);
    const a1 = Math.floor(W1 / 65536);
    const a2 = Math.floor(W2 / TWO29);
    const a3 = Math.floor(W3 / 8192);
    const sHi = a0 + a1 + (W2 - a2 * TWO29) + (W3 - a3 * 8192) * 65536;
    const sLo = W0 - a0 * TWO32 + (W1 - a1 * 65536) * 65536 + a2 + a3;
    mulMod(hi, lo, q0, q1, q2, q3);
    // h k^C + S; sHi 2^32 = (sHi mod 2^29) 2^32 + t 2^61 = ... + t.
    const t = Math.floor(sHi / TWO29);
    carryTwice(R[HI] + sHi - t * TWO29, R[LO] + sLo + t);
    hi = R[HI];
    lo = R[LO];
  }
}

/** h <- (h + m) k mod p, h in and out in R. */
function hornerStep(m: number, k0: number, k1: number, k2: number, k3: number): void {
  carryOnce(R[HI], R[LO] + m);
  mulMod(R[HI], R[LO], k0, k1, k2, k3);
}

/** Horner's rule, one whole word at a time, over words [w, end) of `bytes`. */
function hashWords(bytes: Uint8Array, w: number, end: number, k0: number, k1: number, k2: number, k3: number): void {
  for (; w < end; w++) {
    const i = w << 2;
    hornerStep((bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0, k0, k1, k2, k3);
  }
}

/** The last 1-3 bytes as a word (zero-padded). */
function partialWord(bytes: Uint8Array, i: number): number {
  let m = 0;
  for (let b = 0; i + b < bytes.length; b++) m |= bytes[i + b] << (8 * b);
  return m;
}

/**
 * Hash `bytes` with key k. Returns the 61-bit value as (hi, lo).
 *
 * Long messages go CHUNK words at a time: h <- h k^C + sum m_j k^(C - j) (hashChunks),
 * the rest a word at a time, then the length; the result is the same polynomial, bit
 * for bit.
 */
export function polyHash61(bytes: Uint8Array, key: Fe61): Fe61 {
  const k0 = key.lo & 0xffff;
  const k1 = key.lo >>> 16;
  const k2 = key.hi & 0xffff;
  const k3 = key.hi >>> 16;
  const n = bytes.length;
  const fullWords = n >>> 2;
  const chunks = fullWords >= 4 * CHUNK ? Math.floor(fullWords / CHUNK) : 0;
  R[HI] = 0;
  R[LO] = 0;
  if (chunks > 0) {
    // The limbs of k^CHUNK (limbs[0..3]) read here, not in hashChunks: on its first call
    // V8 gathers type feedback only from inside the loop on, and code before the loop
    // without feedback threw the compiled code away on the second call.
    const L = keyPowers(key);
    hashChunks(wordsOf(bytes, chunks * CHUNK), chunks, L, L[0], L[1], L[2], L[3]);
  }
  hashWords(bytes, chunks * CHUNK, fullWords, k0, k1, k2, k3);
  if (n & 3) hornerStep(partialWord(bytes, 4 * fullWords), k0, k1, k2, k3);
  hornerStep(n, k0, k1, k2, k3); // length coefficient: makes the hash prefix-free
  const hi = R[HI];
  const lo = R[LO];
  if (hi === TWO29 - 1 && lo === TWO32 - 1) return { hi: 0, lo: 0 };
  return { hi, lo };
}

/** Collision bound of one polynomial hash of a message of `bytes` bytes. */
export function polyHashCollisionBound(bytes: number): number {
  return (Math.ceil(bytes / 4) + 1) / 2 ** 61;
}
