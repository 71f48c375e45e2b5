import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyPool } from '../../qkd/pool.ts';
import { fe61FromWords, polyHash61 } from '../../qkd/polyhash.ts';
import { ProtocolError } from '../../protocols/errors.ts';
import { decodePng, encodePng, testPattern, bytesAsImage } from '../../hil/relay/png.ts';
import { checkRelayKey, InsufficientKeyError, open, relayBitsFor, relayKey, seal, type RelayPools } from '../../hil/relay/trusted-relay.ts';
import type { SealedMessage } from '../../protocols/relay-message.ts';

/** Deterministic key material shared by a satellite pool and a ground pool. */
function pairedPools(station: string, bits: number, seed: number): [KeyPool, KeyPool] {
  const words = new Uint32Array(Math.ceil(bits / 32));
  let s = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    words[i] = s;
  }
  const sat = new KeyPool(station);
  const ground = new KeyPool(station);
  sat.add('k1', words, bits, 'test');
  ground.add('k1', words, bits, 'test');
  return [sat, ground];
}

function pools(bitsA = 200_000, bitsB = 200_000): RelayPools {
  const [satA, groundA] = pairedPools('beijing', bitsA, 1);
  const [satB, groundB] = pairedPools('stellenbosch', bitsB, 2);
  return { satA, groundA, satB, groundB };
}

describe('trusted relay', () => {
  it('B recovers exactly K_A from the published K_A xor K_B, which differs from both keys', () => {
    const p = pools();
    const r = relayKey(p, 4096, 'test');
    expect(Buffer.from(r.keyAtB.buffer).equals(Buffer.from(r.keyAtA.buffer))).toBe(true);
    expect(Buffer.from(r.published.buffer).equals(Buffer.from(r.keyAtA.buffer))).toBe(false);
  });

  it('an image round-trips bit for bit through one-time pad + Wegman-Carter tag', () => {
    const p = pools();
    const png = encodePng(testPattern(40, 30));
    const { keyAtA, keyAtB } = relayKey(p, relayBitsFor(png.length), 'img1');
    const sealed = seal(png, keyAtA);
    expect(Buffer.from(sealed.ciphertext).equals(Buffer.from(png))).toBe(false);
    const back = open(sealed, keyAtB, relayBitsFor(png.length));
    expect(Buffer.from(back).equals(Buffer.from(png))).toBe(true);
    expect(decodePng(back)).toEqual(testPattern(40, 30));
  });

  it('any single flipped bit in ciphertext or tag is detected and nothing is decrypted', () => {
    const p = pools(2_000_000, 2_000_000);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), (msg, pos) => {
        const { keyAtA, keyAtB } = relayKey(p, relayBitsFor(msg.length), 'flip');
        const s = seal(msg, keyAtA);
        const bit = pos % (msg.length * 8 + 64);
        const bad = { ...s, ciphertext: s.ciphertext.slice() };
        if (bit < msg.length * 8) bad.ciphertext[bit >> 3] ^= 1 << (bit & 7);
        else if (bit < msg.length * 8 + 32) bad.tagLo = (bad.tagLo ^ (1 << (bit & 31))) >>> 0;
        else bad.tagHi = (bad.tagHi ^ (1 << (bit & 31))) >>> 0;
        expect(() => open(bad, keyAtB, relayBitsFor(msg.length))).toThrow(ProtocolError);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses when any pool is short, consuming nothing', () => {
    const p = pools(200_000, 1_000);
    const before = [p.satA, p.groundA, p.satB, p.groundB].map((x) => x.fingerprint());
    expect(() => relayKey(p, 5_000, 'big')).toThrow(InsufficientKeyError);
    expect(() => checkRelayKey(p, 5_000)).toThrow(/satellite-stellenbosch 1000/);
    expect([p.satA, p.groundA, p.satB, p.groundB].map((x) => x.fingerprint())).toEqual(before);
  });

  it('key bits are never used twice: consumption records tile each pool without overlap', () => {
    const p = pools();
    relayKey(p, 1000, 'a');
    relayKey(p, 3000, 'b');
    for (const pool of [p.satA, p.groundA, p.satB, p.groundB]) {
      const recs = pool.records.filter((r) => r.keyId === 'k1');
      let next = 0;
      for (const r of recs) {
        expect(r.offsetBits).toBe(next);
        next += r.lengthBits;
      }
      expect(next).toBe(4000);
    }
  });

  it('renders any ciphertext as a valid near-square PNG', () => {
    const img = bytesAsImage(Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff));
    expect(img.width * img.height * 3).toBeGreaterThanOrEqual(1000);
    expect(decodePng(encodePng(img))).toEqual(img);
  });
});

/** Refused as AUTH_FAILED (and nothing returned). */
function expectAuthFailed(f: () => unknown, what: string) {
  let accepted: unknown;
  try {
    accepted = f();
  } catch (e) {
    expect(e, what).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code, what).toBe('AUTH_FAILED');
    return;
  }
  expect.unreachable(`${what}: accepted ${JSON.stringify(Array.from(accepted as Uint8Array).slice(0, 32))}`);
}

/** Key-stream octets an eavesdropper learns where she knows the plaintext: pad = c xor p. */
const knownPad = (c: Uint8Array, p: Uint8Array) => Uint8Array.from({ length: Math.min(c.length, p.length) }, (_, j) => c[j] ^ p[j]);

/**
 * The forgery of issue 11: a message `fake` with a tag made from the key octets that the
 * old layout read for a message of fake.length octets (hash key and tag pad right after
 * its one-time pad), taken from key-stream octets the attacker learnt.
 */
function forgeAfterPad(fake: Uint8Array, pad: Uint8Array): SealedMessage {
  const n = fake.length;
  if (pad.length < n + 16) throw new Error('attacker needs n + 16 known pad octets');
  const word = (i: number) => (pad[n + 4 * i] | (pad[n + 4 * i + 1] << 8) | (pad[n + 4 * i + 2] << 16) | (pad[n + 4 * i + 3] << 24)) >>> 0;
  const ciphertext = fake.map((x, j) => x ^ pad[j]);
  const h = polyHash61(ciphertext, fe61FromWords(word(1), word(0)));
  return { ciphertext, tagHi: (h.hi ^ word(3)) >>> 0, tagLo: (h.lo ^ word(2)) >>> 0 };
}

describe('relay tag: key layout independent of the received length (issue 11, item 1)', () => {
  const png = encodePng(testPattern(64, 48));
  const bits = relayBitsFor(png.length);

  it('every PNG starts with the same 16 octets (what the attacker knows)', () => {
    expect(Buffer.from(encodePng(testPattern(3, 2)).subarray(0, 16)).equals(Buffer.from(png.subarray(0, 16)))).toBe(true);
  });

  it('an empty file with a tag forged from the PNG header is refused with AUTH_FAILED', () => {
    const { keyAtA, keyAtB } = relayKey(pools(), bits, 'png');
    const sealed = seal(png, keyAtA);
    const pad = knownPad(sealed.ciphertext.subarray(0, 16), png.subarray(0, 16));
    expectAuthFailed(() => open(forgeAfterPad(new Uint8Array(0), pad), keyAtB, bits), 'forged empty file');
  });

  it('known plaintext does not let an attacker deliver text of her choosing', () => {
    const { keyAtA, keyAtB } = relayKey(pools(), bits, 'png');
    const sealed = seal(png, keyAtA);
    const pad = knownPad(sealed.ciphertext, png); // worst case: the whole plaintext is known
    const fake = new TextEncoder().encode('pay Mallory 1000 yuan, signed: Beijing');
    expectAuthFailed(() => open(forgeAfterPad(fake, pad), keyAtB, bits), 'forged text');
  });

  it('a truncated ciphertext (every length down to empty) under the genuine tag is refused', () => {
    const { keyAtA, keyAtB } = relayKey(pools(), bits, 'png');
    const sealed = seal(png, keyAtA);
    for (const k of [0, 1, 8, 16, png.length >> 1, png.length - 4, png.length - 1]) {
      expectAuthFailed(() => open({ ...sealed, ciphertext: sealed.ciphertext.slice(0, k) }, keyAtB, bits), `cut to ${k} octets`);
    }
  });

  it('property: any truncation, extension, bit flip or after-pad forgery is refused (known plaintext)', () => {
    const p = pools(4_000_000, 4_000_000);
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend' as const), tail: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
      fc.record({ kind: fc.constant('flip' as const), bit: fc.nat() }),
      fc.record({ kind: fc.constant('forge' as const), fake: fc.uint8Array({ maxLength: 64, size: 'max' }) }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300, size: 'max' }), mutation, (msg, mu) => {
        const n = msg.length;
        const { keyAtA, keyAtB } = relayKey(p, relayBitsFor(n), 'prop');
        const s = seal(msg, keyAtA);
        let bad: SealedMessage;
        if (mu.kind === 'cut') bad = { ...s, ciphertext: s.ciphertext.slice(0, mu.at % n) };
        else if (mu.kind === 'extend') bad = { ...s, ciphertext: Uint8Array.from([...s.ciphertext, ...mu.tail]) };
        else if (mu.kind === 'flip') {
          const bit = mu.bit % (n * 8 + 64);
          bad = { ...s, ciphertext: s.ciphertext.slice() };
          if (bit < n * 8) bad.ciphertext[bit >> 3] ^= 1 << (bit & 7);
          else if (bit < n * 8 + 32) bad.tagLo = (bad.tagLo ^ (1 << (bit & 31))) >>> 0;
          else bad.tagHi = (bad.tagHi ^ (1 << (bit & 31))) >>> 0;
        } else {
          fc.pre(n >= 16); // the forgery needs 16 known pad octets past the fake message
          bad = forgeAfterPad(mu.fake.subarray(0, n - 16), knownPad(s.ciphertext, msg));
        }
        expectAuthFailed(() => open(bad, keyAtB, relayBitsFor(n)), mu.kind);
      }),
      { numRuns: 300, seed: 20261130 },
    );
  });
});
