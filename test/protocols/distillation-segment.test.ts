import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../protocols/crc.ts';
import { decodeSegment, encodeSegment, MAX_SEGMENT_BYTES, segmentFrame } from '../../protocols/distillation-segment.ts';
import { hexBytes } from './vectors.ts';
import { assertOnlyProtocolErrors } from './only-protocol-errors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ascii = (s: string) => new TextEncoder().encode(s);

/*
 * Layout: seq u32 | flags u8 (1 first, 2 last) | CRC-32C u32 of the data | data.
 * CRC-32C values from a separate bitwise computation (reflected poly 0x82F63B78):
 * "123456789" -> e3069283 (the standard check value), "" -> 00000000, 00 -> 527d5351,
 * "1234" -> f63af4ee, "5678" -> 100fcf0b, "9" -> 1a2cc12c.
 */
describe('distillation segment (hand-made vectors)', () => {
  it('encodes a whole frame in one segment', () => {
    const v = '00000001' + '03' + 'e3069283' + '313233343536373839';
    expect(hex(encodeSegment({ seq: 1, first: true, last: true, data: ascii('123456789') }))).toBe(v);
    expect(decodeSegment(hexBytes(v))).toEqual({ seq: 1, first: true, last: true, data: ascii('123456789') });
  });

  it('encodes a first-only segment with a high seq', () => {
    const v = 'fffffffe' + '01' + '527d5351' + '00';
    expect(hex(encodeSegment({ seq: 0xfffffffe, first: true, last: false, data: Uint8Array.of(0) }))).toBe(v);
    expect(decodeSegment(hexBytes(v))).toEqual({ seq: 0xfffffffe, first: true, last: false, data: Uint8Array.of(0) });
  });

  it('cuts a frame into numbered segments, and an empty frame into one empty segment', () => {
    expect(segmentFrame(ascii('123456789'), 0x10, 4).map(hex)).toEqual([
      '00000010' + '01' + 'f63af4ee' + '31323334',
      '00000011' + '00' + '100fcf0b' + '35363738',
      '00000012' + '02' + '1a2cc12c' + '39',
    ]);
    expect(segmentFrame(new Uint8Array(0), 7).map(hex)).toEqual(['00000007' + '03' + '00000000']);
    expect(segmentFrame(new Uint8Array(MAX_SEGMENT_BYTES + 1), 0).map((s) => s.length)).toEqual([9 + MAX_SEGMENT_BYTES, 9 + 1]);
  });

  it('refuses short, corrupted, reserved-flag and oversized segments with a typed error', () => {
    expect(() => decodeSegment(hexBytes('0000000103e30692'))).toThrow(/PACKET_TOO_SHORT.*crc32c/);
    expect(() => decodeSegment(hexBytes('0000000103e3069283313233343536373830'))).toThrow(/CRC_MISMATCH/);
    expect(() => decodeSegment(hexBytes('0000000107e3069283313233343536373839'))).toThrow(/FIELD_INVALID.*flag/);
    const big = new Uint8Array(MAX_SEGMENT_BYTES + 1);
    const over = new Uint8Array(9 + big.length);
    over.set([0, 0, 0, 0, 3]);
    new DataView(over.buffer).setUint32(5, crc32c(big) >>> 0);
    expect(() => decodeSegment(over)).toThrow(/FIELD_OUT_OF_RANGE/);
    expect(() => encodeSegment({ seq: 0, first: true, last: true, data: big })).toThrow(/FIELD_OUT_OF_RANGE/);
    expect(() => encodeSegment({ seq: 2 ** 32, first: true, last: true, data: big.subarray(0, 1) })).toThrow(/seq/);
  });
});

describe('distillation segment (properties)', () => {
  it('encode then decode gives the segment back', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.boolean(), fc.boolean(), fc.uint8Array({ maxLength: 200 }), (seq, first, last, data) => {
        expect(decodeSegment(encodeSegment({ seq, first, last, data }))).toEqual({ seq, first, last, data });
      }),
      { numRuns: 300, seed: 1203 },
    );
  });

  it('the segments of a frame join back into it, numbered on, first and last marked once', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 64 }), fc.nat(0xffffffff), (frame, max, firstSeq) => {
        const segs = segmentFrame(frame, firstSeq, max).map(decodeSegment);
        expect(segs.length).toBe(Math.max(1, Math.ceil(frame.length / max)));
        expect(segs.map((s) => s.seq)).toEqual(segs.map((_, i) => (firstSeq + i) >>> 0));
        expect(segs.map((s) => s.first)).toEqual(segs.map((_, i) => i === 0));
        expect(segs.map((s) => s.last)).toEqual(segs.map((_, i) => i === segs.length - 1));
        expect(Buffer.concat(segs.map((s) => s.data)).equals(Buffer.from(frame))).toBe(true);
      }),
      { numRuns: 300, seed: 1204 },
    );
  });

  it('garbage gives nothing but a ProtocolError', () => {
    assertOnlyProtocolErrors(fc.uint8Array({ maxLength: 40 }), decodeSegment, { numRuns: 1000, seed: 1205 });
  });

  it('any single bit flipped in the CRC or data is a CRC_MISMATCH, in a reserved flag bit a FIELD_INVALID', () => {
    // seq and first/last are the link's to protect (its frame checks); the rest is caught here.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 60 }), fc.nat(), fc.integer({ min: 2, max: 7 }), (data, bit, flagBit) => {
        const good = encodeSegment({ seq: 5, first: true, last: true, data });
        const bad = good.slice();
        const at = 5 * 8 + (bit % ((bad.length - 5) * 8));
        bad[at >> 3] ^= 1 << (at & 7);
        expect(() => decodeSegment(bad)).toThrow(/CRC_MISMATCH/);
        const flagged = good.slice();
        flagged[4] |= 1 << flagBit;
        expect(() => decodeSegment(flagged)).toThrow(/FIELD_INVALID/);
      }),
      { numRuns: 500, seed: 1206 },
    );
  });
});
