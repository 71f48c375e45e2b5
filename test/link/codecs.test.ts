import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClcw, encodeClcw } from '../../protocols/link/clcw.ts';
import { RANDOMIZER_SEQUENCE, randomize } from '../../protocols/link/randomizer.ts';
import { ASM, readTmHeader, type TmFrameHeader, writeTmHeader } from '../../protocols/link/tm-frame.ts';
import { decodeControlCommand, decodeTcFrame, encodeControlCommand, encodeTcFrame, readTcHeader } from '../../protocols/link/tc-frame.ts';
import { crc16Bitwise, hex, packBits, randomiserBytes } from './vectors.ts';
import { isProtocolError } from '../../protocols/errors.ts';

describe('CCSDS 131.0-B pseudo-randomiser', () => {
  it('starts FF 48 0E C0 9A 0D 70 BC and has period 255', () => {
    expect(hex(RANDOMIZER_SEQUENCE.subarray(0, 8))).toBe('ff480ec09a0d70bc');
    expect(RANDOMIZER_SEQUENCE.length).toBe(255);
    const buf = new Uint8Array(600);
    randomize(buf);
    for (let i = 255; i < 600; i++) expect(buf[i]).toBe(buf[i - 255]);
  });

  it('matches a bit-serial shift register built from h(x)', () => {
    const ref = randomiserBytes(1115);
    const buf = new Uint8Array(1115);
    randomize(buf);
    expect(hex(buf)).toBe(hex(ref));
  });

  it('matches the reference at every buffer alignment and length', () => {
    const ref = randomiserBytes(2100);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 2100 }), (start, n) => {
        const b = new Uint8Array(start + n + 3);
        randomize(b, start, start + n);
        expect(hex(b.subarray(start, start + n))).toBe(hex(ref.subarray(0, n)));
        expect(b.subarray(0, start).every((x) => x === 0) && b.subarray(start + n).every((x) => x === 0)).toBe(true);
      }),
    );
  });

  it('is its own inverse on any span', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), (data) => {
        const b = data.slice();
        randomize(b);
        randomize(b);
        expect(hex(b)).toBe(hex(data));
      }),
    );
  });
});

describe('TM transfer frame primary header (132.0-B)', () => {
  it('writes the hand-packed layout bit for bit', () => {
    const h: TmFrameHeader = { scid: 0x1a5, vcid: 1, ocfFlag: true, mcfc: 0x12, vcfc: 0x34, secondaryHeader: false, syncFlag: false, packetOrder: false, segmentLengthId: 3, fhp: 0 };
    const expected = packBits([
      [0, 2], // version
      [0x1a5, 10], // SCID
      [1, 3], // VCID
      [1, 1], // OCF flag
      [0x12, 8], // MCFC
      [0x34, 8], // VCFC
      [0, 1], // secondary header flag
      [0, 1], // sync flag
      [0, 1], // packet order
      [3, 2], // segment length id
      [0, 11], // first header pointer
    ]);
    expect(hex(expected)).toBe('1a5312341800'); // worked out on paper as well
    const out = new Uint8Array(6);
    writeTmHeader(out, 0, h);
    expect(hex(out)).toBe(hex(expected));
    expect(readTmHeader(out)).toEqual(h);
  });

  it('round-trips every field combination', () => {
    fc.assert(
      fc.property(
        fc.record({
          scid: fc.integer({ min: 0, max: 1023 }),
          vcid: fc.integer({ min: 0, max: 7 }),
          ocfFlag: fc.boolean(),
          mcfc: fc.integer({ min: 0, max: 255 }),
          vcfc: fc.integer({ min: 0, max: 255 }),
          secondaryHeader: fc.boolean(),
          syncFlag: fc.boolean(),
          packetOrder: fc.boolean(),
          segmentLengthId: fc.integer({ min: 0, max: 3 }),
          fhp: fc.integer({ min: 0, max: 2047 }),
        }),
        (h) => {
          const out = new Uint8Array(6);
          writeTmHeader(out, 0, h);
          expect(readTmHeader(out)).toEqual(h);
        },
      ),
    );
  });

  it('refuses a frame version other than 00 with a typed error', () => {
    const out = Uint8Array.of(0x40, 0, 0, 0, 0, 0);
    expect(() => readTmHeader(out)).toThrowError(/HEADER_INVALID/);
  });

  it('uses the 0x1ACFFC1D marker', () => {
    expect(hex(ASM)).toBe('1acffc1d');
  });
});

describe('CLCW (232.0-B)', () => {
  it('matches a hand-packed word', () => {
    const word = packBits([
      [0, 1], [0, 2], [0, 3], [1, 2], [5, 6], [0, 2], [0, 1], [1, 1], [1, 1], [0, 1], [1, 1], [2, 2], [0, 1], [0x9c, 8],
    ]);
    const c = { statusField: 0, copInEffect: 1, vcid: 5, noRfAvailable: false, noBitLock: true, lockout: true, wait: false, retransmit: true, farmBCounter: 2, reportValue: 0x9c };
    const w = encodeClcw(c);
    expect(w.toString(16).padStart(8, '0')).toBe(hex(word));
    expect(decodeClcw(w)).toEqual(c);
  });

  it('rejects a type-1 report or another version', () => {
    expect(() => decodeClcw(0x80000000)).toThrowError(/HEADER_INVALID/);
    expect(() => decodeClcw(0x20000000)).toThrowError(/HEADER_INVALID/);
  });
});

describe('TC transfer frame (232.0-B)', () => {
  it('writes the hand-packed header and a FECF a bitwise CRC agrees with', () => {
    const data = Uint8Array.of(0xc0, 1, 2, 3);
    const f = encodeTcFrame({ bypass: false, controlCommand: false, scid: 0x1a5, vcid: 1, seq: 0x2a }, data);
    const hdr = packBits([
      [0, 2], [0, 1], [0, 1], [0, 2], [0x1a5, 10], [1, 6], [f.length - 1, 10], [0x2a, 8],
    ]);
    expect(hex(f.subarray(0, 5))).toBe(hex(hdr));
    expect(crc16Bitwise(f.subarray(0, f.length - 2))).toBe((f[f.length - 2] << 8) | f[f.length - 1]);
    const d = decodeTcFrame(f);
    expect(d.header).toEqual({ bypass: false, controlCommand: false, scid: 0x1a5, vcid: 1, frameLengthBytes: f.length, seq: 0x2a });
    expect(hex(d.data)).toBe(hex(data));
  });

  it('detects every single-bit flip and every truncation with a typed error', () => {
    const f = encodeTcFrame({ bypass: true, controlCommand: false, scid: 7, vcid: 3, seq: 9 }, Uint8Array.from({ length: 40 }, (_, i) => i));
    for (let bit = 0; bit < f.length * 8; bit++) {
      const g = f.slice();
      g[bit >>> 3] ^= 0x80 >>> (bit & 7);
      expect(() => decodeTcFrame(g)).toThrow();
    }
    for (let n = 0; n < f.length; n++) {
      try {
        decodeTcFrame(f.subarray(0, n));
        expect.unreachable();
      } catch (e) {
        expect(isProtocolError(e)).toBe(true);
      }
    }
  });

  it('encodes Unlock and Set V(R) control commands', () => {
    expect(hex(encodeControlCommand({ kind: 'UNLOCK' }))).toBe('00');
    expect(hex(encodeControlCommand({ kind: 'SET_VR', vr: 0x41 }))).toBe('820041');
    expect(decodeControlCommand(Uint8Array.of(0x82, 0, 7))).toEqual({ kind: 'SET_VR', vr: 7 });
    expect(() => decodeControlCommand(Uint8Array.of(0x81))).toThrowError(/FIELD_INVALID/);
    expect(readTcHeader(Uint8Array.of(0x30, 0x05, 0x04, 0x09, 0)).controlCommand).toBe(true);
  });
});
