import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyPool } from '../../firmware/qkd/pool.ts';
import { ProtocolError } from '../../protocols/errors.ts';
import { decodePng, encodePng, testPattern, bytesAsImage } from '../../hil/relay/png.ts';
import { checkRelayKey, InsufficientKeyError, open, relayBitsFor, relayKey, seal, type RelayPools } from '../../hil/relay/trusted-relay.ts';

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
    const back = open(sealed, keyAtB);
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
        expect(() => open(bad, keyAtB)).toThrow(ProtocolError);
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
