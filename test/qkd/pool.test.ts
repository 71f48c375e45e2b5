import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { alignPools, decodeJournalEntry, encodeJournalEntry, KeyPool, PoolExhaustedError, PoolFormatError, type PoolJournalEntry } from '../../qkd/pool.ts';
import { Rng } from '../../qkd/random.ts';

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

/** A pool whose journal keeps entries in memory, encoded as a store would write them. */
function journalled(station: string): { pool: KeyPool; lines: string[] } {
  const pool = new KeyPool(station);
  const lines: string[] = [];
  pool.journal = { write: (e: PoolJournalEntry) => void lines.push(encodeJournalEntry(e)) };
  return { pool, lines };
}

describe('key pool journal (write-ahead)', () => {
  it('writes every change before making it; a journal that throws leaves the pool untouched', () => {
    const { pool, lines } = journalled('x');
    pool.add('a', words(100, 1), 100, 'psk');
    pool.consume(40, 'otp', 'r1');
    pool.add('b', words(50, 2), 50, 'pass/block:0');
    pool.consume(70, 'otp', 'r2'); // 60 of a, 10 of b: one entry for both ranges
    expect(pool.remove('b')).toBe(false); // in use: not withdrawn, not journalled
    pool.add('c', words(10, 3), 10, 'pass/block:1');
    expect(pool.remove('c')).toBe(true);
    expect(lines.map((l) => decodeJournalEntry(l).op)).toEqual(['add', 'reserve', 'add', 'reserve', 'add', 'remove']);
    expect(decodeJournalEntry(lines[3])).toEqual({ op: 'reserve', records: pool.records.slice(1) });

    const before = pool.fingerprint();
    pool.journal = {
      write: () => {
        throw new Error('disk full');
      },
    };
    expect(() => pool.consume(5, 'otp', 'r3')).toThrow(/disk full/);
    expect(() => pool.add('d', words(10, 4), 10, 'x')).toThrow(/disk full/);
    expect(pool.fingerprint()).toBe(before);
    expect(pool.records.length).toBe(3);
  });

  it('property: snapshot + journal replay gives the pool back, and replaying twice changes nothing', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), bits: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('consume' as const), bits: fc.integer({ min: 1, max: 200 }) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), fc.nat(), (ops, cut) => {
        const { pool, lines } = journalled('p');
        let snapshot = pool.serialise();
        let fromLine = 0;
        ops.forEach((o, i) => {
          if (i === cut % (ops.length + 1)) [snapshot, fromLine] = [pool.serialise(), lines.length]; // a compaction
          if (o.kind === 'add') pool.add(`k${i}`, words(o.bits, i), o.bits, `s/${i}`);
          else if (o.kind === 'consume' && o.bits <= pool.availableBits()) pool.consume(o.bits, 'otp', `r${i}`);
          else if (o.kind === 'remove' && pool.blocks.length > 0) pool.remove(pool.blocks[o.pick % pool.blocks.length].keyId);
        });
        const back = KeyPool.deserialise(snapshot);
        // The crash between snapshot and clearing the journal: the journal still holds entries the snapshot has.
        for (const l of lines) back.replay(decodeJournalEntry(l));
        expect(back.toJSON()).toEqual(pool.toJSON());
        for (const l of lines.slice(fromLine)) back.replay(decodeJournalEntry(l));
        expect(back.toJSON()).toEqual(pool.toJSON());
      }),
      { numRuns: 200, seed: 20261130 },
    );
  });

  it('refuses journal entries that do not fit the pool, naming what was wrong', () => {
    const p = new KeyPool('x');
    p.add('a', words(100, 1), 100, 'psk');
    p.consume(50, 'otp', 'r');
    const gap = { op: 'reserve' as const, records: [{ keyId: 'a', offsetBits: 60, lengthBits: 10, purpose: 'otp', ref: 'r2' }] };
    expect(() => p.replay(gap)).toThrow(PoolFormatError);
    expect(() => p.replay(gap)).toThrow(/reserves a at 60, block used up to 50/);
    expect(() => p.replay({ op: 'reserve', records: [{ keyId: 'zz', offsetBits: 0, lengthBits: 1, purpose: 'x', ref: 'y' }] })).toThrow(/unknown block zz/);
    expect(() => decodeJournalEntry('{"op":"eat"}')).toThrow(/unknown entry op "eat"/);
    expect(() => decodeJournalEntry('{"op":"reserve","records":[{"keyId":"a"}]}')).toThrow(/records\[0\] malformed/);
  });
});

describe('aligning the two ends of a link after a crash', () => {
  it('steps both ends to the further one, withdraws blocks only one end got, never hands out a bit again', () => {
    const psk = words(1000, 9);
    const a = new KeyPool('sat');
    const b = new KeyPool('ground');
    for (const p of [a, b]) p.add('psk', psk, 1000, 'psk');
    a.consume(64, 'auth-hash-key', 's1'); // b died before its own take
    b.consume(64, 'auth-hash-key', 's1');
    b.consume(300, 'auth-otp', 's1'); // and a before this one
    a.add('blk', words(200, 3), 200, 's1/block:0'); // b never filed it
    const r = alignPools(a, b, 'realign');
    expect(r).toEqual({ burnt: [300, 0], withdrawn: 1 });
    expect(a.fingerprint()).toBe(b.fingerprint());
    expect(a.records.at(-1)).toEqual({ keyId: 'psk', offsetBits: 64, lengthBits: 300, purpose: 'burn', ref: 'realign' });
    expect(alignPools(a, b, 'again')).toEqual({ burnt: [0, 0], withdrawn: 0 });
    // A block one end holds and has already used is burnt, not withdrawn.
    a.add('half', words(100, 4), 100, 's2/block:0');
    a.consume(a.availableBits() - 40, 'otp', 's2');
    expect(alignPools(a, b, 'realign2').burnt[0]).toBe(40);
    expect(a.availableBits()).toBe(0);
  });
});
