import { describe, expect, it } from 'vitest';
import { KeyPool, PoolExhaustedError } from '../../firmware/qkd/pool.ts';
import { Rng } from '../../firmware/qkd/random.ts';

function words(n: number, seed: number): Uint32Array {
  const r = new Rng(seed);
  return Uint32Array.from({ length: (n + 31) >>> 5 }, () => r.nextU32());
}

describe('key pool', () => {
  it('consumes first-in first-out across blocks and records every consumption', () => {
    const p = new KeyPool('beijing');
    const a = words(100, 1);
    a[3] &= 0xf; // 100 bits: top 28 bits of the last word unused
    p.add('a', a, 100, 'psk');
    p.add('b', words(64, 2), 64, 'pass-1/block:0');
    const first = p.consume(90, 'otp', 'img-1');
    for (let i = 0; i < 90; i++) expect((first[i >>> 5] >>> (i & 31)) & 1).toBe((a[i >>> 5] >>> (i & 31)) & 1);
    const second = p.consume(30, 'otp', 'img-2'); // 10 from a, 20 from b
    expect((second[0] >>> 0) & 1).toBe((a[2] >>> 26) & 1);
    expect(p.availableBits()).toBe(164 - 120);
    expect(p.records).toEqual([
      { keyId: 'a', offsetBits: 0, lengthBits: 90, purpose: 'otp', ref: 'img-1' },
      { keyId: 'a', offsetBits: 90, lengthBits: 10, purpose: 'otp', ref: 'img-2' },
      { keyId: 'b', offsetBits: 0, lengthBits: 20, purpose: 'otp', ref: 'img-2' },
    ]);
    expect(() => p.consume(1000, 'otp', 'x')).toThrowError(PoolExhaustedError);
    expect(p.availableBits()).toBe(44); // a refused request takes nothing
  });

  it('serialises to JSON bytes and back without changing anything', () => {
    const p = new KeyPool('stellenbosch');
    p.add('k1', words(1000, 5), 1000, 'psk');
    p.add('k2', words(333, 6), 333, 'pass/block:1');
    p.consume(500, 'auth-otp', 's1');
    const q = KeyPool.deserialise(p.serialise());
    expect(q.station).toBe('stellenbosch');
    expect(q.fingerprint()).toBe(p.fingerprint());
    expect(q.records).toEqual(p.records);
    expect(Array.from(q.consume(833, 'x', 'y'))).toEqual(Array.from(p.consume(833, 'x', 'y')));
  });

  it('rejects malformed serialised pools and duplicate key ids', () => {
    expect(() => KeyPool.fromJSON({ station: 'x', blocks: [{ keyId: 'a' }], records: [] })).toThrow(/blocks\[0\]/);
    const p = new KeyPool('x');
    p.add('a', words(10, 1), 10, 'psk');
    expect(() => p.add('a', words(10, 1), 10, 'psk')).toThrow(/already/);
  });
});
