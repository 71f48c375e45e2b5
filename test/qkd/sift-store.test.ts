/**
 * The sifted store (qkd/sift-store.ts) and the sifting loops of Alice and Bob that
 * write into it, against plain reference code: the same entries, counts and blocks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AliceDistiller, siftReport, siftedTestEnd as aliceTestEnd } from '../../firmware/qkd/alice.ts';
import { siftAnswer, siftedTestEnd as bobTestEnd } from '../../boards/ground/bob.ts';
import { GroundStation } from '../../boards/ground/ground-station.ts';
import { memoryChannelPair } from '../../qkd/channel.ts';
import { DEFAULT_DISTILL_CONFIG, type DistillConfig } from '../../qkd/config.ts';
import type { Triple } from '../../qkd/keyrate.ts';
import { Rng } from '../../qkd/random.ts';
import { NOT_RECORDED, packedSettings, settingsTable, unpackSettings } from '../../qkd/settings.ts';
import { SiftStore, siftEntry, splitEntries } from '../../qkd/sift-store.ts';
import { decodeAuthFrame, decodeQkdMessage } from '../../protocols/qkd-messages.ts';
import { pskPools } from './psk-pools.ts';

/** Entries of each intensity class 0..2 (of the low two bits; 3 is not a class), plainly: the reference for the store's word-wise count. */
function countByIntensity(intensity: Uint8Array): Triple {
  const c = [0, 0, 0, 0];
  for (const x of intensity) c[x & 3]++;
  return [c[0], c[1], c[2]];
}

/** Plain split: each entry's bit and class, one by one. */
function plainSplit(entries: number[]): { bit: number[]; intensity: number[] } {
  return { bit: entries.map((e) => e & 1), intensity: entries.map((e) => e >>> 2) };
}

describe('sift entries', () => {
  it('an entry is laid out as a packed setting: its bit and class unpack alike', () => {
    const t = settingsTable(5);
    for (let p = 0; p < 2000; p++) {
      const s = packedSettings(t, p);
      const u = unpackSettings(s);
      expect(splitEntries(Uint8Array.of(s))).toEqual({ bit: Uint8Array.of(u.bit), counts: countByIntensity(Uint8Array.of(u.intensity)) });
      expect(siftEntry(u.bit, u.intensity)).toBe(s & ~2);
    }
  });

  it('splitEntries (four to a word) equals the plain split and countByIntensity, any bytes and length (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const copy = bytes.slice(); // from offset 0, as the store gives them
        const got = splitEntries(copy);
        const want = plainSplit(Array.from(bytes));
        expect(Array.from(got.bit)).toEqual(want.bit);
        expect(got.counts).toEqual(countByIntensity(Uint8Array.from(want.intensity)));
        expect(Array.from(copy)).toEqual(Array.from(bytes));
      }),
      { numRuns: 300, seed: 141414 },
    );
  });
});

type Op = { kind: 'commit'; key: number[]; test: number[] } | { kind: 'take' | 'remove' | 'truncate'; at: number };

describe('SiftStore', () => {
  it('commit, take, remove and truncate keep the batches a plain list of batches keeps (property)', () => {
    const entry = fc.integer({ min: 0, max: 11 }); // classes 0..2, bit 1 (the basis) set or not
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit' as const), key: fc.array(entry, { maxLength: 40 }), test: fc.array(entry, { maxLength: 40 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('take' as const, 'remove' as const, 'truncate' as const), at: fc.nat(8) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const store = new SiftStore();
        const model: { id: number; key: number[]; test: number[] }[] = [];
        let nextId = 0;
        for (const o of ops) {
          if (o.kind === 'commit') {
            // Written as the sifting loops do: at the tail, after reserve (which may move the buffers).
            const n = Math.max(o.key.length, o.test.length);
            store.reserve(n);
            o.key.forEach((e, i) => (store.key[store.keyLen + i] = e));
            o.test.forEach((e, i) => (store.test[store.testLen + i] = e));
            store.commit(nextId, store.keyLen + o.key.length, store.testLen + o.test.length);
            model.push({ id: nextId++, key: o.key, test: o.test });
          } else if (o.kind === 'take') {
            const count = Math.min(o.at, model.length);
            const taken = model.splice(0, count);
            const key = taken.flatMap((b) => b.key);
            const test = taken.flatMap((b) => b.test);
            const got = store.take(count);
            expect(got.batchId).toBe(count ? taken[count - 1].id : -1);
            expect(Array.from(got.key)).toEqual(key);
            expect(Array.from(got.test)).toEqual(test);
            expect(Array.from(got.keyBit)).toEqual(plainSplit(key).bit);
            expect(Array.from(got.testBit)).toEqual(plainSplit(test).bit);
            expect(got.keyN).toEqual(countByIntensity(Uint8Array.from(plainSplit(key).intensity)));
            expect(got.testN).toEqual(countByIntensity(Uint8Array.from(plainSplit(test).intensity)));
          } else if (o.kind === 'remove') {
            if (o.at >= model.length) continue;
            model.splice(o.at, 1);
            store.remove(o.at);
          } else {
            const count = Math.min(o.at, model.length);
            model.length = count;
            store.truncate(count);
          }
          expect(store.batches).toBe(model.length);
          model.forEach((b, i) => expect(store.batchId(i)).toBe(b.id));
          expect(store.keyEnd(model.length)).toBe(store.keyLen);
          expect(Array.from(store.key.subarray(0, store.keyLen))).toEqual(model.flatMap((b) => b.key));
          expect(Array.from(store.test.subarray(0, store.testLen))).toEqual(model.flatMap((b) => b.test));
        }
      }),
      { numRuns: 300, seed: 20261201 },
    );
  });
});

describe("Alice's and Bob's sifting", () => {
  /** Detections of a few batches: ascending pulses, Bob's basis at random, his bit Alice's but for errors. */
  function detections(seed: number, batches: number, perBatch: number, errorRate: number) {
    const rng = new Rng(seed, 0x5f7);
    const t = settingsTable(seed);
    let pulse = 2 ** 32 - 10 * perBatch; // across a 2^32 boundary of the pulse index
    return Array.from({ length: batches }, () => {
      const pulseIndex = new Float64Array(perBatch);
      const basis = new Uint8Array(perBatch);
      const bit = new Uint8Array(perBatch);
      for (let i = 0; i < perBatch; i++) {
        // Clicks about in proportion to the intensity (mu 0.8, 0.1, 0 and dark counts), so that blocks yield key.
        let s = unpackSettings(packedSettings(t, ++pulse));
        while (rng.next() >= [0.5, 0.0625, 0.001][s.intensity]) s = unpackSettings(packedSettings(t, ++pulse));
        pulseIndex[i] = pulse;
        basis[i] = rng.next() < 0.5 ? 0 : 1;
        // Errors where the bases agree; a vacuum pulse's click is a dark count, its bit random.
        bit[i] = s.basis === basis[i] && s.intensity !== 2 ? s.bit ^ (rng.next() < errorRate ? 1 : 0) : rng.int(2);
      }
      // The source's record: most of the pulses (in order), some not recorded.
      const keep = pulseIndex.filter(() => rng.next() < 0.9);
      const record = { pulseIndex: keep, settings: Uint8Array.from(keep, (p) => (rng.next() < 0.02 ? NOT_RECORDED : packedSettings(t, p))) };
      return { tags: { pulseIndex, basis, bit }, record };
    });
  }

  /** A store already holding a batch of `prior` entries in each list (the sifting appends after them). */
  function storeWith(prior: number[]): SiftStore {
    const store = new SiftStore();
    store.reserve(prior.length);
    store.key.set(prior);
    store.test.set(prior);
    store.commit(0, prior.length, prior.length);
    return store;
  }

  /** `bytes` at byte offset `offset` of a buffer of its own (to read it a word at a time or not). */
  function at(bytes: number[], offset: number): Uint8Array {
    const out = new Uint8Array(offset + bytes.length).subarray(offset);
    out.set(bytes);
    return out;
  }

  it("siftReport (the record's next entry taken inline, merge step out of the loop) equals plain hashing and sifting, any record (property)", () => {
    const t = settingsTable(77);
    // Bob's pulses: ascending (a repeat now and then), across a 2^32 boundary; each also
    // in the record or not, and pulses Bob lacks in it too, some marked not recorded.
    const pulse = fc.record({ step: fc.integer({ min: 0, max: 3 }), bobBasis: fc.integer({ min: 0, max: 1 }), inRecord: fc.boolean(), extraBefore: fc.boolean(), marked: fc.integer({ min: 0, max: 9 }) });
    fc.assert(
      fc.property(fc.array(pulse, { maxLength: 120 }), fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 5 }), fc.integer({ min: -2, max: 2 }), (ps, prior, skew) => {
        let p = 2 ** 32 - 60;
        const pulseIndex: number[] = [];
        const recIdx: number[] = [];
        for (const x of ps) {
          p += x.step;
          if (x.extraBefore && x.step > 1) recIdx.push(p - 1); // a pulse the record has and Bob not
          if (x.inRecord && recIdx[recIdx.length - 1] !== p) recIdx.push(p);
          pulseIndex.push(p);
        }
        const recSettings = recIdx.map((q, i) => (ps[i % Math.max(1, ps.length)]?.marked === 0 ? NOT_RECORDED : packedSettings(t, q)));
        // Lists of unequal length: only the common part is the record.
        const record = { pulseIndex: Float64Array.from(skew < 0 ? recIdx.slice(0, skew) : recIdx), settings: Uint8Array.from(skew > 0 ? recSettings.slice(0, -skew) : recSettings) };
        const bobBasis = Uint8Array.from(ps, (x) => x.bobBasis);
        const n = pulseIndex.length;
        const store = storeWith(prior);
        const basis = new Uint8Array(n);
        const intensity = new Uint8Array(n);
        const keyEnd = siftReport(store, t, record, Float64Array.from(pulseIndex), bobBasis, basis, intensity);

        const settings = pulseIndex.map((q) => packedSettings(t, q));
        expect(Array.from(basis)).toEqual(settings.map((s) => unpackSettings(s).basis));
        expect(Array.from(intensity)).toEqual(settings.map((s) => unpackSettings(s).intensity));
        const key = settings.filter((s, i) => unpackSettings(s).basis === 0 && bobBasis[i] === 0);
        const test = settings.filter((s, i) => unpackSettings(s).basis === 1 && bobBasis[i] === 1);
        expect(keyEnd).toBe(prior.length + key.length);
        expect(aliceTestEnd).toBe(prior.length + test.length);
        expect(Array.from(store.key.subarray(0, keyEnd))).toEqual([...prior, ...key]);
        expect(Array.from(store.test.subarray(0, aliceTestEnd))).toEqual([...prior, ...test]);
      }),
      { numRuns: 400, seed: 14140 },
    );
  });

  it('siftAnswer (four to a word where aligned) equals plain sifting, any length and byte offsets (property)', () => {
    const det = fc.record({ myBasis: fc.integer({ min: 0, max: 1 }), myBit: fc.integer({ min: 0, max: 1 }), aliceBasis: fc.integer({ min: 0, max: 1 }), intensity: fc.integer({ min: 0, max: 3 }) });
    const offset = fc.constantFrom(0, 0, 0, 1, 2, 3, 4);
    fc.assert(
      fc.property(fc.array(det, { maxLength: 70 }), fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 5 }), fc.tuple(offset, offset, offset, offset), (ds, prior, [o1, o2, o3, o4]) => {
        const store = storeWith(prior);
        const keyEnd = siftAnswer(
          store,
          at(ds.map((d) => d.myBasis), o1),
          at(ds.map((d) => d.myBit), o2),
          at(ds.map((d) => d.aliceBasis), o3),
          at(ds.map((d) => d.intensity), o4),
        );
        const entry = (d: (typeof ds)[number]) => siftEntry(d.myBit, d.intensity);
        const key = ds.filter((d) => d.myBasis === 0 && d.aliceBasis === 0).map(entry);
        const test = ds.filter((d) => d.myBasis === 1 && d.aliceBasis === 1).map(entry);
        expect(keyEnd).toBe(prior.length + key.length);
        expect(bobTestEnd).toBe(prior.length + test.length);
        expect(Array.from(store.key.subarray(0, keyEnd))).toEqual([...prior, ...key]);
        expect(Array.from(store.test.subarray(0, bobTestEnd))).toEqual([...prior, ...test]);
      }),
      { numRuns: 400, seed: 14141 },
    );
  });

  it.each([
    ['from the source record', true],
    ['hashed (no record)', false],
  ])('blocks hold the plainly sifted counts, test errors and (delivered) key errors per class; settings %s', (_, withRecord) => {
    const seed = 31;
    const config: DistillConfig = { ...DEFAULT_DISTILL_CONFIG, blockBits: 150_000, minBlockBits: 20_000, muRelUncertainty: 0 };
    const batches = detections(seed, 14, 80_000, 0.005);
    const pools = pskPools(seed, 1 << 18);
    const link = memoryChannelPair({ record: true });
    let record: ReturnType<typeof detections>[number]['record'] | null = null;
    const alice = new AliceDistiller({ config, sourceSeed: seed, channel: link.alice, pool: pools.alice, sessionId: 's', rngSeed: 1, settingsRecord: withRecord ? () => record : undefined });
    const ground = new GroundStation('g', { config, channel: link.bob, pool: pools.bob, sessionId: 's', rngSeed: 2 });
    for (const b of batches) {
      record = b.record;
      ground.receiveDetections(b.tags);
      link.pump();
    }
    alice.endOfPass();
    link.pump();

    const t = settingsTable(seed);
    // Alice's answers (sent from her held buffers, several at a time): each reported pulse's basis and class.
    let answered = 0;
    for (const f of link.recorded) {
      const m = decodeQkdMessage(decodeAuthFrame(f.frame).body);
      if (m.type !== 'sift') continue;
      const settings = Array.from(batches[m.batchId].tags.pulseIndex, (p) => unpackSettings(packedSettings(t, p)));
      expect(Array.from(m.basis)).toEqual(settings.map((x) => x.basis));
      expect(Array.from(m.intensity)).toEqual(settings.map((x) => x.intensity));
      answered++;
    }
    expect(answered).toBe(batches.length);

    // The plain sift of every batch.
    type Entry = { a: number; b: number; c: number };
    const sifted = batches.map(({ tags }) => {
      const key: Entry[] = [];
      const test: Entry[] = [];
      tags.pulseIndex.forEach((p, i) => {
        const s = unpackSettings(packedSettings(t, p));
        if (s.basis !== tags.basis[i]) return;
        (s.basis === 0 ? key : test).push({ a: s.bit, b: tags.bit[i], c: s.intensity });
      });
      return { key, test };
    });
    const byClass = (es: Entry[], f: (e: Entry) => boolean): Triple => {
      const n: Triple = [0, 0, 0];
      for (const e of es) if (f(e)) n[e.c]++;
      return n;
    };
    expect(alice.blocks.length).toBeGreaterThanOrEqual(2);
    expect(ground.bob.blocks.length).toBe(alice.blocks.length);
    let first = 0;
    let delivered = 0;
    for (const [i, a] of alice.blocks.entries()) {
      const bob = ground.bob.blocks[i];
      const inBlock = sifted.slice(first, a.lastBatch + 1);
      first = a.lastBatch + 1;
      const key = inBlock.flatMap((s) => s.key);
      const test = inBlock.flatMap((s) => s.test);
      for (const r of [a, bob]) {
        expect(r.keyBits).toBe(key.length);
        expect(r.keyN).toEqual(byClass(key, () => true));
        expect(r.testN).toEqual(byClass(test, () => true));
        expect(r.testM).toEqual(byClass(test, (e) => e.a !== e.b));
      }
      if (bob.status === 'delivered') {
        delivered++;
        expect(bob.keyErrors).toEqual(byClass(key, (e) => e.a !== e.b));
        expect(Array.from(a.key!)).toEqual(Array.from(bob.key!));
      }
    }
    expect(first).toBe(batches.length);
    expect(delivered).toBeGreaterThan(0);
  });
});
