import { ProtocolError } from '../../protocols/errors.ts';
import type { SealedMessage } from '../../protocols/relay-message.ts';
import { fe61FromWords, polyHash61 } from '../../qkd/polyhash.ts';
import type { KeyPool } from '../../qkd/pool.ts';

/**
 * The satellite as trusted relay (physics.md): it shares K_A with station A and K_B with
 * station B and publishes K_A xor K_B; B removes K_B and now shares K_A with A. Then A
 * one-time-pad encrypts a file with K_A and authenticates it Wegman-Carter style (a
 * polynomial hash over GF(2^61-1) keyed and padded with more of K_A); B checks the tag
 * before it decrypts anything.
 *
 * All four pools advance first-in first-out, so the bits the satellite takes from its
 * pool with A are the bits A takes from its own: no key id needs to cross the link.
 * The sealed message's bytes are protocols/relay-message.ts; this file is the crypto.
 */
export interface RelayPools {
  /** The satellite's pool with station A, and A's pool with the satellite (equal contents). */
  satA: KeyPool;
  groundA: KeyPool;
  satB: KeyPool;
  groundB: KeyPool;
}

/** Hash key (64 bits) and one-time tag pad (64 bits), ahead of one pad bit per message bit. */
export const AUTH_KEY_BITS = 128;

export class InsufficientKeyError extends Error {
  override readonly name = 'InsufficientKeyError';
  constructor(
    readonly neededBits: number,
    readonly available: Record<string, number>,
  ) {
    super(
      `not enough key: ${neededBits} bits needed in every pool, have ${Object.entries(available)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
}

export function relayBitsFor(messageBytes: number): number {
  return messageBytes * 8 + AUTH_KEY_BITS;
}

/** Refuses before anything is consumed or sent when any pool is short. */
export function checkRelayKey(p: RelayPools, neededBits: number): void {
  const available = {
    [`satellite-${p.satA.station}`]: p.satA.availableBits(),
    [`${p.groundA.station}`]: p.groundA.availableBits(),
    [`satellite-${p.satB.station}`]: p.satB.availableBits(),
    [`${p.groundB.station}`]: p.groundB.availableBits(),
  };
  if (Object.values(available).some((v) => v < neededBits)) throw new InsufficientKeyError(neededBits, available);
}

function xorWords(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = (a[i] ?? 0) ^ b[i];
  return out;
}

/** Bit i of the key stream is bit (i & 31) of word i >> 5; byte j is bits 8j..8j+7. */
function keyByte(words: Uint32Array, j: number): number {
  return (words[j >>> 2] >>> ((j & 3) * 8)) & 0xff;
}

export interface RelayedKey {
  /** What the satellite downlinks to B: K_A xor K_B (public). */
  published: Uint32Array;
  /** K_A as A holds it and as B recovers it. */
  keyAtA: Uint32Array;
  keyAtB: Uint32Array;
  /** Bits reserved for the message: B opens only a ciphertext of the matching length. */
  bits: number;
}

/**
 * Runs the key relay for `bits` bits; every pool records the consumption under `ref`.
 * `downlink` carries the published K_A xor K_B to B (default: untouched).
 */
export function relayKey(p: RelayPools, bits: number, ref: string, downlink: (published: Uint32Array) => Uint32Array = (w) => w): RelayedKey {
  checkRelayKey(p, bits);
  const kA = p.satA.consume(bits, 'relay', ref);
  const kB = p.satB.consume(bits, 'relay', ref);
  const published = xorWords(kA, kB);
  const keyAtA = p.groundA.consume(bits, 'relay-otp', ref);
  const keyAtB = xorWords(downlink(published), p.groundB.consume(bits, 'relay', ref));
  return { published, keyAtA, keyAtB, bits };
}

/**
 * Key layout, fixed from the start of the relayed key: 64 hash-key bits, 64 tag-pad bits,
 * then one pad bit per message bit. Nothing here depends on the length received: a cut
 * or extended ciphertext cannot move the authentication key onto pad bits that a known
 * plaintext reveals (issue 11). The length itself is authenticated twice over: the
 * polynomial hash ends with a length coefficient, and the receiver refuses a ciphertext
 * whose length is not the one the key was reserved for.
 */
const AUTH_WORDS = AUTH_KEY_BITS / 32;

function tag(ciphertext: Uint8Array, key: Uint32Array): [number, number] {
  const h = polyHash61(ciphertext, fe61FromWords(key[1], key[0]));
  return [(h.hi ^ key[3]) >>> 0, (h.lo ^ key[2]) >>> 0];
}

/** Pad octet j of the message: key bits AUTH_KEY_BITS + 8j .. + 7. */
const padByte = (key: Uint32Array, j: number) => keyByte(key, AUTH_WORDS * 4 + j);

/** One-time-pad encryption and a Wegman-Carter tag, all from `key` (relayBitsFor(n) bits). */
export function seal(plaintext: Uint8Array, key: Uint32Array): SealedMessage {
  const n = plaintext.length;
  if (key.length * 32 < relayBitsFor(n)) throw new Error(`seal: key of ${key.length * 32} bits, ${relayBitsFor(n)} needed`);
  const ciphertext = new Uint8Array(n);
  for (let j = 0; j < n; j++) ciphertext[j] = plaintext[j] ^ padByte(key, j);
  const [tagHi, tagLo] = tag(ciphertext, key);
  return { ciphertext, tagHi, tagLo };
}

/**
 * Checks length and tag first; throws AUTH_FAILED (and decrypts nothing) on any
 * alteration. `keyBits` is what the relay reserved for this message (relayBitsFor(n)).
 */
export function open(m: SealedMessage, key: Uint32Array, keyBits: number): Uint8Array {
  const n = m.ciphertext.length;
  if (relayBitsFor(n) !== keyBits) {
    throw new ProtocolError('AUTH_FAILED', `ciphertext of ${n} octets, but the key was reserved for ${(keyBits - AUTH_KEY_BITS) / 8} octets`, {
      field: 'ciphertext.length',
      value: n,
      expected: (keyBits - AUTH_KEY_BITS) / 8,
    });
  }
  if (key.length * 32 < keyBits) throw new ProtocolError('AUTH_FAILED', `key of ${key.length * 32} bits cannot open ${n} octets`, {});
  const [hi, lo] = tag(m.ciphertext, key);
  if (hi !== m.tagHi || lo !== m.tagLo) throw new ProtocolError('AUTH_FAILED', 'relay message tag mismatch: ciphertext or tag altered', {});
  const out = new Uint8Array(n);
  for (let j = 0; j < n; j++) out[j] = m.ciphertext[j] ^ padByte(key, j);
  return out;
}
