import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BoardRequest,
  decodeBoardMessage,
  encodeRequest,
  encodeResponse,
  encodeTelemetry,
  formatFwVersion,
  formatHwVersion,
  frameMessage,
  MAX_MEM_CHUNK,
  packFwVersion,
  packHwVersion,
  peekRequestHeader,
  rawToInt,
  type ResponseBody,
} from '../../protocols/board-link.ts';
import { SimClock } from '../../boards/clock.ts';
import { createEmulator } from '../../boards/emulator/index.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { decodeSerialFrame, DelimitedSplitter } from '../../protocols/serial-frame.ts';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const bytes = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max });

const request: fc.Arbitrary<BoardRequest> = fc.oneof(
  fc.constant({ op: 'IDENTIFY' as const }),
  fc.constant({ op: 'STREAM_STOP' as const }),
  fc.record({ op: fc.constant('READ_REGS' as const), addresses: fc.array(u16, { minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('WRITE_REGS' as const), writes: fc.array(fc.record({ address: u16, value: u32 }), { minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('MEM_READ' as const), address: u32, length: fc.integer({ min: 1, max: MAX_MEM_CHUNK }) }),
  fc.record({ op: fc.constant('MEM_WRITE' as const), address: u32, data: bytes(MAX_MEM_CHUNK) }),
  fc.record({ op: fc.constant('MEM_ERASE' as const), address: u32, length: fc.integer({ min: 1, max: 0xffffffff }) }),
  fc.record({ op: fc.constant('MEM_CRC' as const), address: u32, length: fc.integer({ min: 1, max: 0xffffffff }) }),
  fc.record({ op: fc.constant('RESET' as const), mode: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('STREAM_START' as const), periodMs: u16 }),
  fc.record({
    op: fc.constant('SIM' as const),
    sim: fc.oneof(
      fc.record({ kind: fc.constant('BEACON' as const), xUrad: finite, yUrad: finite, visible: fc.boolean() }),
      fc.record({ kind: fc.constant('LINK' as const), lossDb: finite, dropout: fc.boolean() }),
      fc.record({ kind: fc.constant('TEMPERATURE' as const), ambientC: finite }),
      fc.record({ kind: fc.constant('FAULT' as const), faultId: fc.integer({ min: 0, max: 255 }), active: fc.boolean() }),
      fc.record({ kind: fc.constant('POWER_LOSS' as const), afterRxBytes: u32, offMs: u32 }),
      fc.record({ kind: fc.constant('STEP' as const), toMs: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }) }),
    ),
  }),
);

const okBody: fc.Arbitrary<ResponseBody> = fc.oneof(
  fc.record({
    op: fc.constant('IDENTIFY' as const),
    identity: fc.record({ boardId: u16, hwVersion: u16, fwVersion: u32, serialNumber: u32, emulated: fc.boolean(), name: fc.stringMatching(/^[a-z0-9-]{0,32}$/) }),
  }),
  fc.record({ op: fc.constant('READ_REGS' as const), values: fc.array(fc.record({ address: u16, value: u32 }), { maxLength: 64 }) }),
  fc.record({ op: fc.constant('MEM_READ' as const), address: u32, data: fc.uint8Array({ maxLength: MAX_MEM_CHUNK }) }),
  fc.record({ op: fc.constant('MEM_WRITE' as const), address: u32, length: fc.integer({ min: 0, max: MAX_MEM_CHUNK }), crc32c: u32 }),
  fc.record({ op: fc.constant('MEM_CRC' as const), address: u32, length: u32, crc32c: u32 }),
  fc.record({ op: fc.constant('STREAM_START' as const), items: fc.integer({ min: 0, max: 255 }) }),
  fc.constant({ op: 'SIM' as const }),
  fc
    .tuple(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), fc.option(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), { nil: Infinity }))
    .map(([reachedMs, after]) => ({ op: 'SIM' as const, reachedMs, quietUntilMs: after === Infinity ? Infinity : reachedMs + after })),
);

describe('board-link codec', () => {
  it('round-trips every request', () => {
    fc.assert(
      fc.property(u16, request, (seq, req) => {
        const m = decodeBoardMessage(encodeRequest(seq, req));
        expect(m).toEqual({ kind: 'request', seq, request: req });
      }),
    );
  });

  it('round-trips every OK response and every error status', () => {
    fc.assert(
      fc.property(u16, okBody, (seq, body) => {
        expect(decodeBoardMessage(encodeResponse(seq, body.op, 'OK', body))).toEqual({ kind: 'response', seq, op: body.op, status: 'OK', body });
        expect(decodeBoardMessage(encodeResponse(seq, body.op, 'BAD_ADDRESS'))).toEqual({ kind: 'response', seq, op: body.op, status: 'BAD_ADDRESS' });
      }),
    );
  });

  it('round-trips telemetry', () => {
    fc.assert(
      fc.property(u16, u32, fc.array(u32, { maxLength: 64 }), (seq, t, values) => {
        expect(decodeBoardMessage(encodeTelemetry(seq, t, values))).toEqual({ kind: 'telemetry', seq, boardTimeMs: t, values });
      }),
    );
  });

  it('matches the byte layout of docs/board-link.md (hand-written vectors)', () => {
    // READ_REGS seq 0x0102 of registers 0x0110 and 0x0003.
    expect([...encodeRequest(0x0102, { op: 'READ_REGS', addresses: [0x0110, 0x0003] })]).toEqual([0x11, 0x01, 0x02, 0x02, 0x02, 0x01, 0x10, 0x00, 0x03]);
    // WRITE_REGS of -1 (two's complement) to 0x0100.
    expect([...encodeRequest(7, { op: 'WRITE_REGS', writes: [{ address: 0x0100, value: -1 }] })]).toEqual([0x11, 0x00, 0x07, 0x03, 0x01, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff]);
    // MEM_WRITE of 2 bytes at 0x00100000.
    expect([...encodeRequest(1, { op: 'MEM_WRITE', address: 0x00100000, data: Uint8Array.of(0xaa, 0x00) })]).toEqual([0x11, 0x00, 0x01, 0x11, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0xaa, 0x00]);
    // A refused response: seq 5, WRITE_REGS, OUT_OF_RANGE.
    expect(decodeBoardMessage(Uint8Array.of(0x12, 0x00, 0x05, 0x03, 0x05))).toEqual({ kind: 'response', seq: 5, op: 'WRITE_REGS', status: 'OUT_OF_RANGE' });
    // Telemetry: counter 9, board time 1000 ms, one value 0x01020304.
    expect(decodeBoardMessage(Uint8Array.of(0x13, 0x00, 0x09, 0x80, 0x00, 0x00, 0x03, 0xe8, 0x01, 0x01, 0x02, 0x03, 0x04))).toEqual({ kind: 'telemetry', seq: 9, boardTimeMs: 1000, values: [0x01020304] });
  });

  it('refuses out-of-range fields before encoding, naming the field', () => {
    expect(() => encodeRequest(0x10000, { op: 'IDENTIFY' })).toThrow(/seq/);
    expect(() => encodeRequest(1, { op: 'READ_REGS', addresses: [] })).toThrow(/addresses.length/);
    expect(() => encodeRequest(1, { op: 'MEM_READ', address: 0, length: MAX_MEM_CHUNK + 1 })).toThrow(/length/);
    expect(() => encodeRequest(1, { op: 'SIM', sim: { kind: 'BEACON', xUrad: NaN, yUrad: 0, visible: true } })).toThrow(/xUrad/);
  });

  it('random bytes never throw anything but a ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          decodeBoardMessage(b);
        } catch (e) {
          expect(isProtocolError(e)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('truncating or extending a message is always detected', () => {
    fc.assert(
      fc.property(u16, request, fc.integer({ min: 1, max: 5 }), (seq, req, k) => {
        const m = encodeRequest(seq, req);
        expect(() => decodeBoardMessage(m.subarray(0, Math.max(0, m.length - k)))).toThrow();
        const longer = new Uint8Array(m.length + k);
        longer.set(m);
        expect(() => decodeBoardMessage(longer)).toThrow();
      }),
    );
  });

  it('every single-bit flip in a framed message is rejected by the frame check', () => {
    fc.assert(
      fc.property(u16, request, fc.nat(), fc.integer({ min: 0, max: 7 }), (seq, req, pos, bit) => {
        const frame = frameMessage(encodeRequest(seq, req));
        const body = frame.slice(0, frame.length - 1); // without the 0x00 delimiter
        const i = pos % body.length;
        body[i] ^= 1 << bit;
        // A flip that creates a 0x00 splits the frame: both halves must fail too.
        for (const part of splitZero(body)) expect(() => decodeSerialFrame(part)).toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('reads raw register values by width and sign', () => {
    expect(rawToInt(0xffffffff, 32, true)).toBe(-1);
    expect(rawToInt(0xffffffff, 32, false)).toBe(0xffffffff);
    expect(rawToInt(0x8000, 16, true)).toBe(-32768);
    expect(rawToInt(0x17f, 8, true)).toBe(127);
  });
});

function splitZero(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i === b.length || b[i] === 0) {
      if (i > s) out.push(b.subarray(s, i));
      s = i + 1;
    }
  }
  return out;
}

describe('board-link header peek and IDENTIFY versions (hand-made vectors)', () => {
  const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));

  it('peeks seq and opcode of a request, also one whose body does not decode', () => {
    // 11: request | 1234: seq | 10: MEM_READ | 00010000: address | 0010: length 16
    expect(peekRequestHeader(hex('11 1234 10 00010000 0010'))).toEqual({ seq: 0x1234, op: 'MEM_READ' });
    // MEM_READ of length 0: the body is refused, the header still names seq 7 and the opcode
    const bad = hex('11 0007 10 00000000 0000');
    expect(() => decodeBoardMessage(bad)).toThrow(/length = 0/);
    expect(peekRequestHeader(bad)).toEqual({ seq: 7, op: 'MEM_READ' });
    // IDENTIFY, header only, highest seq
    expect(peekRequestHeader(hex('11 ffff 01'))).toEqual({ seq: 0xffff, op: 'IDENTIFY' });
  });

  it('peeks nothing from what is not a request header of a known request opcode', () => {
    expect(peekRequestHeader(hex('12 0001 01 00'))).toBeNull(); // a response
    expect(peekRequestHeader(hex('13 0002 80 00000000 00'))).toBeNull(); // telemetry
    expect(peekRequestHeader(hex('11 0003 80'))).toBeNull(); // TLM is no request
    expect(peekRequestHeader(hex('11 0003 7f'))).toBeNull(); // unknown opcode
    expect(peekRequestHeader(hex('11 0003'))).toBeNull(); // cut short
  });

  it('peeks the seq and opcode every encoded request carries', () => {
    fc.assert(
      fc.property(u16, request, (seq, req) => {
        expect(peekRequestHeader(encodeRequest(seq, req))).toEqual({ seq, op: req.op });
      }),
      { seed: 12, numRuns: 300 },
    );
  });

  it('an emulator answers a request with a bad body BAD_REQUEST under its seq and opcode', () => {
    const clock = new SimClock();
    const emu = createEmulator('apt', { clock, seed: 1 });
    const split = new DelimitedSplitter();
    const answers: Uint8Array[] = [];
    emu.onTransmit((b) => answers.push(...split.push(b).filter((c) => c.length > 0).map((c) => decodeSerialFrame(c))));
    emu.receive(frameMessage(hex('11 0007 10 00000000 0000')));
    clock.runUntil(clock.now() + 100);
    // 12: response | 0007: seq | 10: MEM_READ | 02: BAD_REQUEST
    expect(answers.map((a) => Buffer.from(a).toString('hex'))).toEqual(['12000710' + '02']);
  });

  it('packs and formats the IDENTIFY version fields', () => {
    expect(packHwVersion('1.2')).toBe(0x0102);
    expect(packHwVersion('3.17')).toBe(0x0311);
    expect(packFwVersion('2.10.3')).toBe(0x00020a03);
    expect(packFwVersion('1.4')).toBe(0x00010400); // patch defaults to 0
    expect(packFwVersion('255.255.255')).toBe(0x00ffffff);
    expect(formatHwVersion(0x0311)).toBe('3.17');
    expect(formatFwVersion(0x00020a03)).toBe('2.10.3');
  });

  it('reads the versions of a hand-made IDENTIFY answer', () => {
    // 12 0005 01 00: OK response to IDENTIFY, seq 5 | 0042: board id | 0102: hw 1.2
    // 00020a03: fw 2.10.3 | 0000beef: serial | 01: emulated | 03 617074: name "apt"
    const m = decodeBoardMessage(hex('12 0005 01 00 0042 0102 00020a03 0000beef 01 03 617074'));
    if (m.kind !== 'response' || m.body?.op !== 'IDENTIFY') throw new Error('not an IDENTIFY answer');
    expect(m.body.identity.hwVersion).toBe(packHwVersion('1.2'));
    expect(m.body.identity.fwVersion).toBe(packFwVersion('2.10.3'));
    expect(formatHwVersion(m.body.identity.hwVersion)).toBe('1.2');
    expect(formatFwVersion(m.body.identity.fwVersion)).toBe('2.10.3');
  });

  it('format undoes pack for every version the fields can hold', () => {
    const part = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(part, part, part, (a, b, c) => {
        expect(formatHwVersion(packHwVersion(`${a}.${b}`))).toBe(`${a}.${b}`);
        expect(formatFwVersion(packFwVersion(`${a}.${b}.${c}`))).toBe(`${a}.${b}.${c}`);
      }),
      { seed: 12, numRuns: 200 },
    );
  });
});

describe('SIM STEP, the lockstep grant (hand-made vectors)', () => {
  const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));

  it('encodes STEP to toMs as an f64 of milliseconds', () => {
    // 11: request | 002a: seq 42 | 40: SIM | 06: STEP | 3ff8000000000000: 1.5 (f64 big-endian)
    expect(Buffer.from(encodeRequest(42, { op: 'SIM', sim: { kind: 'STEP', toMs: 1.5 } })).toString('hex')).toBe('11002a4006' + '3ff8000000000000');
    // 1000 ms = 1.953125 x 2^9: exponent 1023 + 9 = 0x408, fraction .953125 = 0xf4 in the top bits
    expect(decodeBoardMessage(hex('11 ffff 40 06 408f400000000000'))).toEqual({ kind: 'request', seq: 0xffff, request: { op: 'SIM', sim: { kind: 'STEP', toMs: 1000 } } });
  });

  it('answers STEP with OK, the time reached and the next event; other SIM answers stay bodiless', () => {
    // 12: response | 002a: seq | 40: SIM | 00: OK | 408f400000000000: reached 1000 ms | 408f480000000000: next event at 1001 ms
    // (1001 = 1.955078125 x 2^9: fraction .955078125 = 0xf48 in the top 12 bits)
    expect(Buffer.from(encodeResponse(42, 'SIM', 'OK', { op: 'SIM', reachedMs: 1000, quietUntilMs: 1001 })).toString('hex')).toBe('12002a4000' + '408f400000000000' + '408f480000000000');
    // 7ff0000000000000 = +Infinity: no event scheduled
    expect(decodeBoardMessage(hex('12 002a 40 00 3ff8000000000000 7ff0000000000000'))).toEqual({
      kind: 'response', seq: 42, op: 'SIM', status: 'OK', body: { op: 'SIM', reachedMs: 1.5, quietUntilMs: Infinity },
    });
    expect(decodeBoardMessage(hex('12 0007 40 00'))).toEqual({ kind: 'response', seq: 7, op: 'SIM', status: 'OK', body: { op: 'SIM' } });
    // A plain emulator refuses STEP: 08 = NOT_SUPPORTED, no body
    expect(decodeBoardMessage(hex('12 002a 40 08'))).toEqual({ kind: 'response', seq: 42, op: 'SIM', status: 'NOT_SUPPORTED' });
  });

  it('refuses a STEP time that is negative, not finite or cut short', () => {
    expect(() => encodeRequest(1, { op: 'SIM', sim: { kind: 'STEP', toMs: -1 } })).toThrow(/toMs/);
    expect(() => encodeRequest(1, { op: 'SIM', sim: { kind: 'STEP', toMs: Infinity } })).toThrow(/toMs/);
    // bff0000000000000 = -1.0
    expect(() => decodeBoardMessage(hex('11 0001 40 06 bff0000000000000'))).toThrow(/toMs/);
    // 7ff8000000000000 = NaN
    expect(() => decodeBoardMessage(hex('12 0001 40 00 7ff8000000000000 7ff0000000000000'))).toThrow(/reachedMs/);
    expect(() => decodeBoardMessage(hex('11 0001 40 06 3ff8'))).toThrow(/toMs/);
    expect(() => decodeBoardMessage(hex('12 0001 40 00 3ff8'))).toThrow(/reachedMs/);
    // next event before the time reached (1.0 < 1.5), NaN, or missing
    expect(() => decodeBoardMessage(hex('12 0001 40 00 3ff8000000000000 3ff0000000000000'))).toThrow(/quietUntilMs/);
    expect(() => decodeBoardMessage(hex('12 0001 40 00 3ff8000000000000 7ff8000000000000'))).toThrow(/quietUntilMs/);
    expect(() => decodeBoardMessage(hex('12 0001 40 00 3ff8000000000000'))).toThrow(/quietUntilMs/);
    expect(() => encodeResponse(1, 'SIM', 'OK', { op: 'SIM', reachedMs: 2 })).toThrow(/quietUntilMs/);
  });
});
