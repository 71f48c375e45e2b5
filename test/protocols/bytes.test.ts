import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../protocols/bytes.ts';
import { isProtocolError, ProtocolError } from '../../protocols/errors.ts';
import { hexBytes } from './vectors.ts';
import { assertOnlyProtocolErrors } from './only-protocol-errors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The ProtocolError `f` throws (fails the test when it throws nothing or something else). */
function thrown(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (e) {
    expect(isProtocolError(e)).toBe(true);
    return e as ProtocolError;
  }
  return expect.unreachable('no ProtocolError thrown');
}

describe('ByteWriter (hand-made vectors)', () => {
  it('writes integers big-endian, negative u32 as two’s complement', () => {
    const w = new ByteWriter(1).u8(0xab).u16(0x1234).u32(0xdeadbeef).u32(-1).bytes(Uint8Array.of(1, 2));
    // ab | 1234 | deadbeef | ffffffff | 0102
    expect(hex(w.done())).toBe('ab1234deadbeefffffffff0102');
    expect(w.length).toBe(13);
  });

  it('writes IEEE 754 binary64 big-endian', () => {
    // 1.5 = sign 0, exponent 0x3ff, fraction .1 -> 3ff8 0000 0000 0000; -2 = c000 0000 0000 0000
    expect(hex(new ByteWriter().f64(1.5).f64(-2).done())).toBe('3ff8000000000000c000000000000000');
  });

  it('writes unsigned LEB128 varints, low 7 bits first', () => {
    const v = (n: number) => hex(new ByteWriter().varint(n).done());
    expect(v(0)).toBe('00');
    expect(v(127)).toBe('7f');
    expect(v(128)).toBe('8001');
    expect(v(300)).toBe('ac02'); // 300 = 0b10_0101100 -> 1_0101100, 0_0000010
    expect(v(2 ** 28)).toBe('8080808001'); // first value past the 32-bit path
    expect(v(2 ** 53 - 1)).toBe('ffffffffffffff0f'); // 53 ones: seven full groups, then 4 bits
  });
});

describe('ByteReader (hand-made vectors)', () => {
  it('reads what the layout says, from a view at any byte offset', () => {
    const backing = hexBytes('99ab1234deadbeef3ff8000000000000ac020a0b');
    const r = new ByteReader(backing.subarray(1), 'test message');
    expect([r.u8('a'), r.u16('b'), r.u32('c'), r.f64('d'), r.varint('e')]).toEqual([0xab, 0x1234, 0xdeadbeef, 1.5, 300]);
    expect(r.remaining).toBe(2);
    expect(Array.from(r.bytes(1, 'f'))).toEqual([0x0a]);
    expect(Array.from(r.rest())).toEqual([0x0b]);
    r.finish();
  });

  it('reads only inside [start, end)', () => {
    const r = new ByteReader(hexBytes('ff0102ff'), 'window', 1, 3);
    expect(r.u16('w')).toBe(0x0102);
    expect(() => r.u8('past end')).toThrow(/PACKET_TOO_SHORT/);
  });

  it('a read past the end is PACKET_TOO_SHORT naming the message, field and offset', () => {
    const e = thrown(() => {
      const r = new ByteReader(hexBytes('010203'), 'board-link message');
      r.u8('kind');
      r.u32('address');
    });
    expect(e.code).toBe('PACKET_TOO_SHORT');
    expect(e.message).toMatch(/board-link message ends inside address/);
    expect(e.details).toMatchObject({ field: 'address', offset: 1, length: 3 });
  });

  it('trailing bytes are LENGTH_MISMATCH', () => {
    const r = new ByteReader(hexBytes('0001'), 'msg');
    r.u8('x');
    expect(thrown(() => r.finish()).code).toBe('LENGTH_MISMATCH');
  });

  it('varints longer than 8 bytes or above the field maximum are refused', () => {
    expect(thrown(() => new ByteReader(hexBytes('808080808080808001'), 'm').varint('n')).code).toBe('FIELD_INVALID');
    const e = thrown(() => new ByteReader(hexBytes('ac02'), 'm').varint('count', 255));
    expect(e.code).toBe('FIELD_OUT_OF_RANGE');
    expect(e.details).toMatchObject({ field: 'count', value: 300, max: 255 });
    expect(thrown(() => new ByteReader(hexBytes('80'), 'm').varint('n')).code).toBe('PACKET_TOO_SHORT');
  });
});

type Op = { k: 'u8' | 'u16' | 'u32'; v: number } | { k: 'f64'; v: number } | { k: 'varint'; v: number } | { k: 'bytes'; v: Uint8Array };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('u8' as const), v: fc.nat(0xff) }),
  fc.record({ k: fc.constant('u16' as const), v: fc.nat(0xffff) }),
  fc.record({ k: fc.constant('u32' as const), v: fc.nat(0xffffffff) }),
  fc.record({ k: fc.constant('f64' as const), v: fc.double({ noNaN: true }) }),
  fc.record({ k: fc.constant('varint' as const), v: fc.nat({ max: Number.MAX_SAFE_INTEGER }) }),
  fc.record({ k: fc.constant('bytes' as const), v: fc.uint8Array({ maxLength: 40 }) }),
);

function read(r: ByteReader, op: Op): number | Uint8Array {
  return op.k === 'bytes' ? r.bytes(op.v.length, 'bytes') : r[op.k](op.k);
}

describe('ByteWriter / ByteReader (properties)', () => {
  it('read back gives what was written, and nothing is left', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), fc.nat(16), (ops, capacity) => {
        const w = new ByteWriter(capacity);
        for (const op of ops) (op.k === 'bytes' ? w.bytes(op.v) : w[op.k](op.v));
        const r = new ByteReader(w.done(), 'roundtrip');
        for (const op of ops) expect(read(r, op)).toEqual(op.v);
        r.finish();
      }),
      { numRuns: 500, seed: 1201 },
    );
  });

  it('garbage read any way throws nothing but a ProtocolError', () => {
    assertOnlyProtocolErrors(
      fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.array(opArb, { maxLength: 12 })),
      ([bytes, ops]) => {
        const r = new ByteReader(bytes, 'garbage');
        for (const op of ops) read(r, op);
        r.finish();
      },
      { numRuns: 1000, seed: 1202 },
    );
  });
});
