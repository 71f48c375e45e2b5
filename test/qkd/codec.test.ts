import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProtocolError } from '../../protocols/errors.ts';
import { ABORT_REASONS, authCoveredBytes, authFrameFor, decodeAuthFrame, decodeQkdMessage, encodeQkdMessage, setAuthTag, type QkdMessage } from '../../protocols/qkd-messages.ts';

const bits = (max = 300) => fc.uint8Array({ maxLength: max, min: 0, max: 1 });
const id = fc.nat({ max: 2 ** 40 });
const reason = fc.constantFrom(...ABORT_REASONS);

const messageArb: fc.Arbitrary<QkdMessage> = fc.oneof(
  fc
    .uniqueArray(fc.integer({ min: 0, max: 2 ** 45 }), { maxLength: 200 })
    .chain((idx) =>
      fc.record({
        type: fc.constant('detections' as const),
        batchId: id,
        pulseIndex: fc.constant(Float64Array.from(idx.sort((a, b) => a - b))),
        basis: fc.uint8Array({ minLength: idx.length, maxLength: idx.length, min: 0, max: 1 }),
      }),
    ),
  fc.nat({ max: 200 }).chain((n) =>
    fc.record({
      type: fc.constant('sift' as const),
      batchId: id,
      basis: fc.uint8Array({ minLength: n, maxLength: n, min: 0, max: 1 }),
      intensity: fc.uint8Array({ minLength: n, maxLength: n, min: 0, max: 2 }),
    }),
  ),
  fc.record({ type: fc.constant('blockStart' as const), blockId: id, lastBatch: id, keyCount: fc.nat(1e6), testCount: fc.nat(1e6), testBits: bits() }),
  fc.record({ type: fc.constant('peReport' as const), blockId: id, testErrors: fc.tuple(fc.nat(), fc.nat(), fc.nat()) }),
  fc.record({ type: fc.constant('ecTop' as const), blockId: id, pass: fc.nat(255), blockSize: fc.integer({ min: 1, max: 1e6 }), permSeed: fc.nat({ max: 2 ** 53 - 1 }) }),
  fc.array(fc.tuple(fc.nat(1e6), fc.integer({ min: 1, max: 1e6 })), { maxLength: 100 }).chain((r) =>
    fc.record({
      type: fc.constant('ecRanges' as const),
      blockId: id,
      passes: fc.uint8Array({ minLength: r.length, maxLength: r.length }),
      starts: fc.constant(Int32Array.from(r.map((x) => x[0]))),
      ends: fc.constant(Int32Array.from(r.map((x) => x[0] + x[1]))),
    }),
  ),
  fc.record({ type: fc.constant('ecParities' as const), blockId: id, pass: fc.nat(255), parities: bits() }),
  fc.record({ type: fc.constant('verify' as const), blockId: id, hashSeed: fc.nat({ max: 2 ** 53 - 1 }), hash: fc.uint32Array({ maxLength: 8 }), leakedBits: fc.nat() }),
  fc.record({ type: fc.constant('blockResult' as const), blockId: id, reason, keyId: id, lengthBits: fc.nat(1e7), paSeed: fc.nat({ max: 2 ** 53 - 1 }) }),
  fc.record({ type: fc.constant('abort' as const), blockId: id, batch: fc.boolean(), reason }),
  fc.record({ type: fc.constant('checkpoint' as const), round: id }),
  fc.record({ type: fc.constant('confirm' as const), blockId: id }),
);

function plain(m: QkdMessage): unknown {
  return JSON.parse(JSON.stringify(m, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v)));
}

describe('qkd-messages codec', () => {
  it('encodes to hand-made vectors (type u8, LEB128 varints, u16 gaps, bits packed LSB first)', () => {
    const hex = (m: QkdMessage) => Buffer.from(encodeQkdMessage(m)).toString('hex');
    const cases: [QkdMessage, string][] = [
      // 0a abort | ac02 blockId 300 | 01 batch | 02 QBER_TOO_HIGH
      [{ type: 'abort', blockId: 300, batch: true, reason: 'QBER_TOO_HIGH' }, '0aac020102'],
      // 01 detections | 01 batch | 04 count | first ac02 (300) | gaps - 1 as u16 LE: 0000 (301), 7f00 (429),
      // ffff 00 (65965: gap - 1 = 0xFFFF, the escape and the varint of 0) | bases 1,0,1,1 -> 0b1101
      [{ type: 'detections', batchId: 1, pulseIndex: Float64Array.of(300, 301, 429, 65965), basis: Uint8Array.of(1, 0, 1, 1) }, '010104ac0200007f00ffff000d'],
      // 02 sift | 02 batch | 02 count | bases 0,1 -> 0b10 | intensities 2,1 in 2-bit lanes -> 0b0110
      [{ type: 'sift', batchId: 2, basis: Uint8Array.of(0, 1), intensity: Uint8Array.of(2, 1) }, '0202020206'],
      // 0b checkpoint | ac02 round 300
      [{ type: 'checkpoint', round: 300 }, '0bac02'],
      // 0c confirm | 05 blockId
      [{ type: 'confirm', blockId: 5 }, '0c05'],
    ];
    for (const [m, v] of cases) {
      expect(hex(m)).toBe(v);
      expect(plain(decodeQkdMessage(Uint8Array.from(Buffer.from(v, 'hex'))))).toEqual(plain(m));
    }
  });

  it('frames a message as version 2 | direction | seq u32 | tagged 0 | body (hand-made vector)', () => {
    const frame = authFrameFor(0, 0x01020304, Uint8Array.of(0x0c, 0x05));
    expect(Buffer.from(frame).toString('hex')).toBe('02' + '00' + '01020304' + '00' + '0c05');
    const f = decodeAuthFrame(frame);
    expect({ direction: f.direction, seq: f.seq, tag: f.tag, body: Array.from(f.body), covered: f.covered.length }).toEqual({
      direction: 0,
      seq: 0x01020304,
      tag: null,
      body: [0x0c, 0x05],
      covered: frame.length,
    });
    expect(authCoveredBytes(frame)).toBe(frame);
  });

  it('a tagged frame adds tag index u32 | tag hi, lo; the tag covers all but its own 8 bytes (hand-made vector)', () => {
    const frame = authFrameFor(1, 0x01020304, Uint8Array.of(0x0a, 0x00, 0x00, 0x00), 7);
    setAuthTag(frame, 0x1eadbeef, 0x00c0ffee);
    expect(Buffer.from(frame).toString('hex')).toBe('02' + '01' + '01020304' + '01' + '0a000000' + '00000007' + '1eadbeef' + '00c0ffee');
    const f = decodeAuthFrame(frame);
    expect({ direction: f.direction, seq: f.seq, tag: f.tag, body: Array.from(f.body) }).toEqual({
      direction: 1,
      seq: 0x01020304,
      tag: { index: 7, hi: 0x1eadbeef, lo: 0x00c0ffee },
      body: [0x0a, 0, 0, 0],
    });
    expect(Buffer.from(f.covered).equals(Buffer.from(frame.subarray(0, frame.length - 8)))).toBe(true);
    expect(Buffer.from(authCoveredBytes(frame)).equals(Buffer.from(f.covered))).toBe(true);
  });

  it('frames round-trip header, body and tag (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 }), fc.nat({ max: 0xffffffff }), fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.option(fc.nat({ max: 0xffffffff })), fc.nat({ max: 0x1fffffff }), fc.nat({ max: 0xffffffff }), (dir, seq, body, index, hi, lo) => {
        const frame = authFrameFor(dir as 0 | 1, seq, body, index);
        if (index !== null) setAuthTag(frame, hi, lo);
        const f = decodeAuthFrame(frame);
        expect(f.direction).toBe(dir);
        expect(f.seq).toBe(seq);
        expect(Array.from(f.body)).toEqual(Array.from(body));
        expect(f.tag).toEqual(index === null ? null : { index, hi, lo });
      }),
      { numRuns: 300, seed: 1414 },
    );
  });

  it('round-trips every message type (property)', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(plain(decodeQkdMessage(encodeQkdMessage(m)))).toEqual(plain(m));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a ProtocolError on garbage (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeQkdMessage(bytes);
        } catch (e) {
          expect(isProtocolError(e)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('truncations and trailing bytes are typed errors naming what is wrong', () => {
    const full = encodeQkdMessage({ type: 'ecParities', blockId: 3, pass: 1, parities: Uint8Array.of(1, 0, 1, 1, 0, 0, 1, 0, 1) });
    for (let cut = 0; cut < full.length; cut++) {
      expect(() => decodeQkdMessage(full.subarray(0, cut))).toThrowError(/PACKET_TOO_SHORT/);
    }
    expect(() => decodeQkdMessage(Uint8Array.of(...full, 0))).toThrowError(/LENGTH_MISMATCH/);
    expect(() => decodeQkdMessage(Uint8Array.of(99))).toThrowError(/UNKNOWN_PACKET/);
    const sift = encodeQkdMessage({ type: 'sift', batchId: 0, basis: Uint8Array.of(0), intensity: Uint8Array.of(2) });
    sift[sift.length - 1] = 3; // intensity class 3 does not exist
    expect(() => decodeQkdMessage(sift)).toThrowError(/intensity/);
  });

  it('auth frames reject short frames, bad version, bad direction and a bad tagged flag', () => {
    expect(() => decodeAuthFrame(new Uint8Array(5))).toThrowError(/FRAME_TOO_SHORT/);
    const f = new Uint8Array(20);
    f[0] = 9;
    expect(() => decodeAuthFrame(f)).toThrowError(/HEADER_INVALID/);
    f[0] = 1;
    expect(() => decodeAuthFrame(f)).toThrowError(/version 1/);
    f[0] = 2;
    f[1] = 2;
    expect(() => decodeAuthFrame(f)).toThrowError(/direction/);
    f[1] = 0;
    f[6] = 2;
    expect(() => decodeAuthFrame(f)).toThrowError(/tagged flag/);
    // Tagged, but too short to hold a body, the tag index and the tag.
    const t = authFrameFor(0, 1, Uint8Array.of(1), 0).subarray(0, 19);
    expect(() => decodeAuthFrame(t)).toThrowError(/FRAME_TOO_SHORT/);
  });
});
