/**
 * Transcript authentication of the classical channel (qkd/auth.ts): provisional delivery,
 * tags over everything since the previous tag, forgery caught, replays refused, pads
 * spent once, and what the distillers commit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runPass } from '../../hil/mission/physics-pass.ts';
import { AuthenticatedChannel, TAG_WINDOW, type Delivery } from '../../qkd/auth.ts';
import { memoryChannelPair, type FrameTamper } from '../../qkd/channel.ts';
import type { KeyPool } from '../../qkd/pool.ts';
import type { ProtocolError } from '../../protocols/errors.ts';
import { authFrameFor, decodeAuthFrame, decodeQkdMessage, encodeQkdMessage, type QkdMessage } from '../../protocols/qkd-messages.ts';
import { pskPools } from './psk-pools.ts';

// Small blocks keep the tests quick; at that size the intensities' uncertainty would leave
// no key, so the mechanics are tested with exact intensities (as in distill.test.ts).
const small = { blockBits: 300_000, minBlockBits: 50_000, muRelUncertainty: 0 };

const pools = (seed: number) => pskPools(seed, 1 << 14, ['a', 'b']);

/** Alice (direction 0) and Bob (direction 1) on a memory pair; what each received. */
function pair(tamper?: FrameTamper, seed = 1) {
  const link = memoryChannelPair({ tamper, record: true });
  const p = pools(seed);
  const alice = new AuthenticatedChannel(link.alice, { pool: p.alice, sessionId: 's', direction: 0 });
  const bob = new AuthenticatedChannel(link.bob, { pool: p.bob, sessionId: 's', direction: 1 });
  const got = { alice: [] as [QkdMessage, Delivery][], bob: [] as [QkdMessage, Delivery][], aliceRejects: [] as ProtocolError[], bobRejects: [] as ProtocolError[] };
  alice.listen((m, d) => got.alice.push([m, d]), (e) => got.aliceRejects.push(e));
  bob.listen((m, d) => got.bob.push([m, d]), (e) => got.bobRejects.push(e));
  return { link, pools: p, alice, bob, got };
}

const report = (batchId: number): QkdMessage => ({ type: 'detections', batchId, pulseIndex: Float64Array.of(3, 40, 41 + batchId), basis: Uint8Array.of(0, 1, 1) });

/** Alice asks, Bob sends `n` reports then a tagged checkpoint. */
function range(t: ReturnType<typeof pair>, n: number, first = 0): void {
  t.alice.send({ type: 'checkpoint', round: first });
  for (let i = 0; i < n; i++) t.bob.send(report(first + i));
  t.bob.send({ type: 'checkpoint', round: first }, { tag: true });
  t.link.pump();
}

describe('transcript authentication', () => {
  it('delivers untagged frames provisionally and a tagged one verified', () => {
    const t = pair();
    range(t, 3);
    expect(t.got.alice.map(([m, d]) => [m.type, d.verified])).toEqual([
      ['detections', false],
      ['detections', false],
      ['detections', false],
      ['checkpoint', true],
    ]);
    expect(t.got.aliceRejects).toEqual([]);
    // One hash key and one pad (slot 1: Bob's tag 0) at each end, the same bits.
    expect(t.alice.stats.keyConsumedBits).toBe(64 + 2 * 64);
    expect(t.pools.alice.fingerprint()).toBe(t.pools.bob.fingerprint());
  });

  it('an altered middle message is caught at the tag that covers it, and the next range verifies again', () => {
    let n = 0;
    const t = pair((frame, direction) => {
      if (direction === 1 && n++ === 1) {
        const f = frame.slice();
        f[f.length - 1] ^= 0x04; // a basis bit of the second report
        return f;
      }
      return frame;
    });
    range(t, 3);
    // The altered report was handed on (provisionally), but the tag over it fails.
    expect(t.got.alice.map(([m, d]) => [m.type, d.verified])).toEqual([
      ['detections', false],
      ['detections', false],
      ['detections', false],
    ]);
    expect(t.got.aliceRejects.map((e) => e.code)).toEqual(['AUTH_FAILED']);
    range(t, 2, 10);
    expect(t.got.alice.slice(3).map(([m, d]) => [m.type, d.verified])).toEqual([
      ['detections', false],
      ['detections', false],
      ['checkpoint', true],
    ]);
  });

  it('a bit flipped anywhere in any frame of a range (header, body, tag index, tag) is never vouched for (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.nat(), fc.nat(), (n, which, bit) => {
        let i = 0;
        const target = which % (n + 1); // a report or the tagged frame
        const t = pair((frame, direction) => {
          if (direction !== 1 || i++ !== target) return frame;
          const f = frame.slice();
          const b = bit % (f.length * 8);
          f[b >>> 3] ^= 1 << (b & 7);
          return f;
        });
        range(t, n);
        expect(t.got.alice.some(([, d]) => d.verified)).toBe(false);
        expect(t.got.aliceRejects.length).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 300, seed: 14 },
    );
  });

  it('a dropped frame is caught too (the tag covers the sequence, not just what arrived)', () => {
    let i = 0;
    const t = pair((frame, direction) => (direction === 1 && i++ === 1 ? undefined : frame));
    range(t, 3);
    expect(t.got.alice.some(([, d]) => d.verified)).toBe(false);
    expect(t.got.aliceRejects.map((e) => e.code)).toEqual(['AUTH_FAILED']);
  });

  it('refuses a replayed tagged frame, and an old tag moved to a fresh sequence number, without spending a pad', () => {
    const t = pair();
    range(t, 1);
    const tagged = t.link.recorded.filter((r) => r.direction === 1).at(-1)!.frame;
    const spent = t.pools.alice.totalConsumedBits();
    t.alice.send({ type: 'checkpoint', round: 1 }); // a credit, so only the replay rules can refuse
    t.link.bob.send(tagged); // the same frame again
    t.link.pump();
    expect(t.got.aliceRejects.at(-1)!.code).toBe('REPLAY');
    const f = decodeAuthFrame(tagged);
    const moved = authFrameFor(1, f.seq + 1, f.body, f.tag!.index);
    moved.set(tagged.subarray(tagged.length - 8), moved.length - 8);
    t.link.bob.send(moved);
    t.link.pump();
    expect(t.got.aliceRejects.at(-1)).toMatchObject({ code: 'REPLAY', message: expect.stringMatching(/tag index 0, expected 1/) });
    expect(t.pools.alice.totalConsumedBits()).toBe(spent);
    expect(t.got.alice.filter(([, d]) => d.verified)).toHaveLength(1);
  });

  it('checks a tag only against a frame of ours: a flood of forged tags cannot drain the pool', () => {
    const t = pair();
    range(t, 1);
    const spent = t.pools.alice.totalConsumedBits();
    for (let k = 0; k < 3; k++) t.bob.send({ type: 'checkpoint', round: k }, { tag: true }); // Alice sent nothing since
    t.link.pump();
    expect(t.got.aliceRejects.map((e) => e.code)).toEqual(['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED']);
    expect(t.got.aliceRejects[0].message).toMatch(/answers nothing we sent/);
    expect(t.pools.alice.totalConsumedBits()).toBe(spent);
  });

  it('lost tagged frames: the next tag fails (frames missing), skipped pads are burnt, the channel recovers; a tag too far ahead is refused', () => {
    let drop = 0;
    const t = pair((frame, direction) => (direction === 1 && drop > 0 && decodeAuthFrame(frame).tag ? (drop--, undefined) : frame));
    for (let k = 0; k < 3; k++) t.alice.send({ type: 'checkpoint', round: k });
    drop = 2;
    for (let k = 0; k < 3; k++) t.bob.send({ type: 'checkpoint', round: k }, { tag: true }); // tags 0, 1 lost
    t.link.pump();
    expect(t.got.aliceRejects.map((e) => e.message)).toEqual([expect.stringMatching(/frames missing before transcript tag 2/)]);
    // Slots 0 .. 5 (tags 0 .. 2 of both directions) drawn: the two lost tags' pads are gone.
    expect(t.alice.stats.keyConsumedBits).toBe(64 + 6 * 64);
    // The range after the failed tag verifies (tag 3).
    range(t, 1, 20);
    expect(t.got.alice.filter(([, d]) => d.verified)).toHaveLength(1);
    expect(t.got.alice.at(-1)![1].verified).toBe(true);
    // Tags 4 .. 4 + TAG_WINDOW lost: tag 5 + TAG_WINDOW is beyond the window, refused unchecked.
    const spent = t.alice.stats.keyConsumedBits;
    drop = TAG_WINDOW + 1;
    t.alice.send({ type: 'checkpoint', round: 9 });
    for (let k = 0; k <= TAG_WINDOW + 1; k++) t.bob.send({ type: 'checkpoint', round: k }, { tag: true });
    t.link.pump();
    expect(t.got.aliceRejects.at(-1)).toMatchObject({ code: 'REPLAY', message: expect.stringMatching(new RegExp(`tag index ${5 + TAG_WINDOW}, expected 4`)) });
    expect(t.alice.stats.keyConsumedBits).toBe(spent);
  });
});

describe('lent arrays', () => {
  it('with lendArrays, reports and sift answers arrive with the content of a fresh decode, in arrays reused message after message (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 300 }), { minLength: 2, maxLength: 6 }), fc.nat(), (sizes, seed) => {
        const link = memoryChannelPair({ record: true });
        const p = pools(seed % 1000);
        const alice = new AuthenticatedChannel(link.alice, { pool: p.alice, sessionId: 's', direction: 0, lendArrays: true });
        const bob = new AuthenticatedChannel(link.bob, { pool: p.bob, sessionId: 's', direction: 1, lendArrays: true });
        const seen: { copy: QkdMessage; arrays: ArrayBufferLike[] }[] = [];
        const keep = (m: QkdMessage) => {
          if (m.type === 'detections') seen.push({ copy: { ...m, pulseIndex: m.pulseIndex.slice(), basis: m.basis.slice() }, arrays: [m.pulseIndex.buffer, m.basis.buffer] });
          if (m.type === 'sift') seen.push({ copy: { ...m, basis: m.basis.slice(), intensity: m.intensity.slice() }, arrays: [m.basis.buffer, m.intensity.buffer] });
        };
        alice.listen(keep, (e) => {
          throw e;
        });
        bob.listen(keep, (e) => {
          throw e;
        });
        sizes.forEach((n, i) => {
          const idx = Float64Array.from({ length: n }, (_, j) => seed + 7 * j + (j * j) % 5);
          bob.send({ type: 'detections', batchId: i, pulseIndex: idx, basis: Uint8Array.from(idx, (x) => x & 1) });
          alice.send({ type: 'sift', batchId: i, basis: new Uint8Array(n).fill(i & 1), intensity: new Uint8Array(n).map((_, j) => j % 3) });
        });
        link.pump();
        // What arrived is what a fresh decode of the recorded frame gives.
        const fresh = link.recorded.map((f) => decodeQkdMessage(decodeAuthFrame(f.frame).body));
        expect(seen.map((x) => x.copy)).toEqual(fresh);
        // Reports reuse the first report's arrays once those are large enough (likewise sift answers).
        for (const type of ['detections', 'sift']) {
          const got = seen.filter((x) => x.copy.type === type);
          const largest = Math.max(...sizes);
          const at = sizes.indexOf(largest);
          for (let i = at + 1; i < got.length; i++) for (const a of [0, 1]) expect(got[i].arrays[a]).toBe(got[at].arrays[a]);
        }
      }),
      { numRuns: 40, seed: 1409 },
    );
  });
});

describe('transcript authentication in a pass', () => {
  it('uses a pad once per tag: tag indices ascend per direction, pad ranges never overlap, both ends spend the same bits', () => {
    const link = memoryChannelPair({ record: true });
    const r = runPass({ station: 'beijing', seed: 31, durationS: 25, distill: small, link, pools: pools(31) });
    expect(r.summary.blocksDelivered).toBeGreaterThanOrEqual(2);
    for (const dir of [0, 1]) {
      const idx = link.recorded.filter((f) => f.direction === dir).map((f) => decodeAuthFrame(f.frame).tag?.index).filter((x) => x !== undefined);
      expect(idx.length).toBeGreaterThan(0);
      expect(idx).toEqual(idx.map((_, k) => k));
    }
    const otp = (pool: KeyPool) => pool.records.filter((x) => x.purpose === 'auth-otp' || x.purpose === 'auth-hash-key');
    const a = otp(r.pools.alice);
    expect(a).toEqual(otp(r.pools.bob));
    let at = 0;
    for (const x of a) {
      expect(x.keyId).toBe('psk-0');
      expect(x.offsetBits).toBe(at);
      at += x.lengthBits;
    }
    expect(r.summary.authKeyConsumedBits).toBe(at);
    // A handful of tags per block, not one pad per frame.
    expect(r.summary.authKeyConsumedBits).toBeLessThan(64 * (link.frames[0] + link.frames[1]) * 0.05);
    expect(r.summary.keysEqual).toBe(true);
    expect(r.pools.alice.fingerprint()).toBe(r.pools.bob.fingerprint());
  });

  it("a forged middle message of Bob's (a Cascade query) aborts its block at both ends and nothing of it is filed", () => {
    let queries = 0;
    let forged = -1;
    const link = memoryChannelPair({
      tamper: (frame, direction) => {
        if (direction !== 1 || frame[7] !== 6) return frame; // Bob → Alice ecRanges
        if (++queries !== 15) return frame;
        const f = frame.slice();
        forged = (decodeQkdMessage(decodeAuthFrame(f).body) as Extract<QkdMessage, { type: 'ecRanges' }>).blockId;
        f[10] ^= 0x01; // a byte of the query (count, pass or range): Alice answers another question
        return f;
      },
    });
    const r = runPass({ station: 'beijing', seed: 32, durationS: 25, distill: small, link, pools: pools(32) });
    expect(forged).toBeGreaterThanOrEqual(0);
    const bob = r.bobBlocks.find((b) => b.blockId === forged)!;
    const alice = r.aliceBlocks.find((b) => b.blockId === forged)!;
    expect([bob.status, bob.reason]).toEqual(['aborted', 'AUTH_FAILED']);
    expect([alice.status, alice.reason]).toEqual(['aborted', 'AUTH_FAILED']);
    expect(alice.key).toBeNull();
    expect(bob.key).toBeFalsy();
    for (const pool of [r.pools.alice, r.pools.bob]) expect(pool.blocks.some((b) => b.keyId.endsWith(`/b${forged}`))).toBe(false);
    // Only the attacked block: the channel goes on.
    for (const blocks of [r.aliceBlocks, r.bobBlocks]) expect(blocks.filter((b) => b.reason === 'AUTH_FAILED').map((b) => b.blockId)).toEqual([forged]);
    expect(r.bobBlocks.filter((b) => b.status === 'delivered').length).toBeGreaterThanOrEqual(1);
    expect(r.summary.keysEqual).toBe(true);
    expect(r.pools.alice.fingerprint()).toBe(r.pools.bob.fingerprint());
  });

  it("a forged detection report never gets Alice's settings (it could name pulses not yet sent)", () => {
    let reports = 0;
    let forgedBatch = -1;
    const link = memoryChannelPair({
      record: true,
      tamper: (frame, direction) => {
        if (direction !== 1 || frame[7] !== 1 || ++reports !== 3) return frame;
        const f = decodeAuthFrame(frame);
        const m = decodeQkdMessage(f.body) as Extract<QkdMessage, { type: 'detections' }>;
        forgedBatch = m.batchId;
        const future = Float64Array.from({ length: 1000 }, (_, i) => 1e12 + i); // pulses of the far future
        return authFrameFor(1, f.seq, encodeQkdMessage({ type: 'detections', batchId: m.batchId, pulseIndex: future, basis: new Uint8Array(1000) }));
      },
    });
    const r = runPass({ station: 'beijing', seed: 33, durationS: 20, distill: small, link, pools: pools(33) });
    expect(forgedBatch).toBeGreaterThanOrEqual(0);
    const sifts = link.recorded.filter((f) => f.direction === 0).map((f) => decodeQkdMessage(decodeAuthFrame(f.frame).body)).filter((m) => m.type === 'sift');
    expect(sifts.length).toBeGreaterThan(0);
    expect(sifts.some((m) => m.type === 'sift' && m.batchId === forgedBatch)).toBe(false);
    expect(r.summary.authRejectedFrames).toBeGreaterThanOrEqual(1);
    expect(r.summary.keysEqual).toBe(true);
    expect(r.pools.alice.fingerprint()).toBe(r.pools.bob.fingerprint());
  });
});
