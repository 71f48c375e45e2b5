import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cobsDecode, cobsEncode } from '../../protocols/cobs.ts';
import { crc16, crc32c } from '../../protocols/crc.ts';
import { ProtocolError } from '../../protocols/errors.ts';

const ascii = (s: string) => new TextEncoder().encode(s);

/** Bit-serial references, written straight from the polynomial definitions. */
function crc16Bitwise(d: Uint8Array): number {
  let c = 0xffff;
  for (const b of d) {
    c ^= b << 8;
    for (let i = 0; i < 8; i++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  }
  return c;
}
function crc32cBitwise(d: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of d) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('CRCs', () => {
  it('CRC-16/IBM-3740 check value over "123456789" is 0x29B1', () => {
    expect(crc16(ascii('123456789'))).toBe(0x29b1);
  });
  it('CRC-32C check value over "123456789" is 0xE3069283', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
  });
  it('CRC-16 over data followed by its own CRC is 0', () => {
    const d = ascii('housekeeping');
    const c = crc16(d);
    expect(crc16(Uint8Array.from([...d, c >> 8, c & 0xff]))).toBe(0);
  });
  it('table-driven CRCs equal the bit-serial definitions on any input, and continue across splits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (d, cut) => {
        const k = d.length === 0 ? 0 : cut % (d.length + 1);
        expect(crc16(d)).toBe(crc16Bitwise(d));
        expect(crc32c(d)).toBe(crc32cBitwise(d));
        expect(crc32c(d, k, d.length, crc32c(d, 0, k))).toBe(crc32c(d));
        expect(crc16(d, k, d.length, crc16(d, 0, k))).toBe(crc16(d));
      }),
    );
  });
});

describe('COBS', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  it('encodes the reference examples', () => {
    expect(hex(cobsEncode(Uint8Array.of(0)))).toBe('0101');
    expect(hex(cobsEncode(Uint8Array.of(0x11, 0x22, 0, 0x33)))).toBe('0311220233');
    const run = new Uint8Array(254).fill(7);
    const enc = cobsEncode(run);
    expect(enc[0]).toBe(0xff);
    expect(enc.length).toBe(255);
    expect(hex(enc.subarray(1))).toBe(hex(run));
    // 254 non-zero bytes then a zero: the full block (0xFF) implies no zero, so the zero
    // needs its own block (01), and the data ending with it a final empty one (01).
    const runThenZero = Uint8Array.of(...run, 0);
    expect(hex(cobsEncode(runThenZero))).toBe('ff' + hex(run) + '01' + '01');
    expect(hex(cobsDecode(cobsEncode(runThenZero)))).toBe(hex(runThenZero));
    // ... and then more data: FF, the run, 01 for the zero, 02 05 for the last byte.
    expect(hex(cobsEncode(Uint8Array.of(...run, 0, 5)))).toBe('ff' + hex(run) + '01' + '0205');
  });
  /** Byte strings made of runs of non-zero bytes near the 254-byte block length, with zeros between. */
  const nearBlockRuns = fc
    .array(fc.tuple(fc.integer({ min: 250, max: 258 }), fc.integer({ min: 0, max: 2 })), { maxLength: 4 })
    .map((parts) => Uint8Array.from(parts.flatMap(([run, zeros]) => [...new Array<number>(run).fill(0x5a), ...new Array<number>(zeros).fill(0)])));
  it('round-trips any bytes, never emits 0x00, costs at most one byte per 254', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), nearBlockRuns), (d) => {
        const e = cobsEncode(d);
        expect(e.includes(0)).toBe(false);
        expect(e.length).toBeLessThanOrEqual(d.length + Math.ceil(d.length / 254) + 1);
        expect(hex(cobsDecode(e))).toBe(hex(d));
      }),
    );
  });
  it('rejects a zero inside a block and a code that runs past the end, as COBS_INVALID', () => {
    for (const bad of [Uint8Array.of(0x03, 0x11, 0x00), Uint8Array.of(0x05, 0x11, 0x22)]) {
      let err: unknown;
      try {
        cobsDecode(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('COBS_INVALID');
    }
  });
  it('random bytes decode or fail only with COBS_INVALID', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (d) => {
        try {
          cobsDecode(d);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          expect((e as ProtocolError).code).toBe('COBS_INVALID');
        }
      }),
    );
  });
});
