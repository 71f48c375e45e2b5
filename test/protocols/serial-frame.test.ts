import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../protocols/errors.ts';
import { DelimitedSplitter, decodeSerialFrame, encodeSerialFrame, SerialFrameReceiver } from '../../protocols/serial-frame.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function receiveAll(stream: Uint8Array, chunkSizes: number[] = [stream.length || 1], maxPayload = 4096) {
  const split = new DelimitedSplitter();
  const rx = new SerialFrameReceiver(maxPayload);
  const got: string[] = [];
  let o = 0;
  let i = 0;
  while (o < stream.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]);
    for (const chunk of split.push(stream.subarray(o, o + n))) {
      const r = rx.accept(chunk);
      if (r instanceof Uint8Array) got.push(hex(r));
    }
    o += n;
  }
  return { got, rx };
}

describe('serial framing (COBS + CRC-32C + 0x00)', () => {
  it('a frame is COBS(payload ‖ CRC-32C) followed by a single 0x00', () => {
    const f = encodeSerialFrame(Uint8Array.of(1, 2, 3));
    expect(f[f.length - 1]).toBe(0);
    expect(f.subarray(0, -1).includes(0)).toBe(false);
    expect(hex(decodeSerialFrame(f.subarray(0, -1)))).toBe('010203');
  });

  it('any payloads, split into any chunk sizes, come through in order', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (payloads, sizes) => {
        const stream = Buffer.concat(payloads.map((p) => encodeSerialFrame(p)));
        const { got, rx } = receiveAll(stream, sizes);
        expect(got).toEqual(payloads.map(hex));
        expect(rx.framesDropped).toBe(0);
      }),
    );
  });

  it('garbage between frames is dropped with a counted error and every later good frame still arrives', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 100 }), { minLength: 1, maxLength: 10 }), fc.uint8Array({ minLength: 1, maxLength: 50 }), (payloads, garbage) => {
        // Garbage ends with a delimiter so it cannot merge into the next frame.
        const parts = payloads.flatMap((p) => [Buffer.from(garbage), Buffer.of(0), Buffer.from(encodeSerialFrame(p))]);
        const { got } = receiveAll(Buffer.concat(parts));
        expect(got).toEqual(payloads.map(hex));
      }),
    );
  });

  it('every single-bit flip inside a frame is detected and never yields a payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), (payload, pos) => {
        const f = encodeSerialFrame(payload);
        const bit = pos % ((f.length - 1) * 8);
        const bad = f.slice();
        bad[bit >> 3] ^= 1 << (bit & 7);
        const { got, rx } = receiveAll(Buffer.concat([bad, encodeSerialFrame(Uint8Array.of(0xaa))]));
        // The flip may create a 0x00 (splitting the frame) but no corrupted payload gets through.
        expect(got[got.length - 1]).toBe('aa');
        expect(got.slice(0, -1)).toEqual([]);
        expect(rx.framesDropped).toBeGreaterThan(0);
      }),
    );
  });

  it('names each fault with its own code: too long, bad COBS, CRC mismatch, too short', () => {
    const rx = new SerialFrameReceiver(16);
    const tooLong = encodeSerialFrame(new Uint8Array(40).fill(1)).subarray(0, -1);
    const crcBad = encodeSerialFrame(Uint8Array.of(5, 6, 7)).slice(0, -1);
    crcBad[2] ^= 0x40;
    const codes = [tooLong, Uint8Array.of(0x09, 1, 2), crcBad, Uint8Array.of(0x02, 0x01)].map((c) => (rx.accept(c) as ProtocolError).code);
    expect(codes).toEqual(['FRAME_TOO_LONG', 'COBS_INVALID', 'CRC_MISMATCH', 'FRAME_TOO_SHORT']);
    expect(rx.errors).toEqual({ FRAME_TOO_LONG: 1, COBS_INVALID: 1, CRC_MISMATCH: 1, FRAME_TOO_SHORT: 1 });
  });

  it('a line of garbage with no delimiter is bounded in memory and resynchronises', () => {
    const split = new DelimitedSplitter(100);
    expect(split.push(new Uint8Array(1000).fill(0x55))).toEqual([]);
    expect(split.overflowBytes).toBe(900);
    const rx = new SerialFrameReceiver(64);
    const chunks = split.push(Buffer.concat([Buffer.of(0), encodeSerialFrame(Uint8Array.of(9))]));
    const results = chunks.map((c) => rx.accept(c));
    expect((results[0] as ProtocolError).code).toBe('FRAME_TOO_LONG');
    expect(hex(results[1] as Uint8Array)).toBe('09');
  });

  it('random bytes never throw anything but typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (d) => {
        const { rx } = receiveAll(d, [17]);
        expect(rx.framesOk + rx.framesDropped).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
