/**
 * The classical channel codec's fast paths (protocols/qkd-messages.ts) against plain
 * reference code written here: the same bytes on the wire, the same values and errors
 * back, whatever the gaps, lengths, views and buffers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProtocolError, type ProtocolError } from '../../protocols/errors.ts';
import {
  DecodeScratch,
  authFrameFor,
  decodeQkdMessage,
  encodeAuthFrame,
  encodeQkdMessage,
  type QkdMessage,
} from '../../protocols/qkd-messages.ts';

// ---------- plain references ----------

/** Unsigned LEB128, one byte at a time (exact below 2^53). */
function leb128(v: number, out: number[]): void {
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Values below 2^width, LSB first, a value at a time. */
function plainPack(values: ArrayLike<number>, width: number, out: number[]): void {
  const per = 8 / width;
  for (let i = 0; i < values.length; i += per) {
    let byte = 0;
    for (let q = 0; q < per && i + q < values.length; q++) byte |= values[i + q] << (q * width);
    out.push(byte & 255);
  }
}

/** The gap marking a long one: its u16, then the varint of gap - ESCAPE. */
const ESCAPE = 0xffff;

/** A gap (pulses between two detections) as a u16 little-endian, or the escape and a varint. */
function plainGap(g: number, out: number[]): void {
  if (g < ESCAPE) {
    out.push(g & 255, g >>> 8);
  } else {
    out.push(255, 255);
    leb128(g - ESCAPE, out);
  }
}

function plainDetections(batchId: number, pulseIndex: ArrayLike<number>, basis: ArrayLike<number>): Uint8Array {
  const out = [1];
  leb128(batchId, out);
  leb128(pulseIndex.length, out);
  if (pulseIndex.length > 0) leb128(pulseIndex[0], out);
  for (let i = 1; i < pulseIndex.length; i++) plainGap(pulseIndex[i] - pulseIndex[i - 1] - 1, out);
  plainPack(basis, 1, out);
  return Uint8Array.from(out);
}

/**
 * A detections message decoded a byte at a time: its batch id, pulse indices and bases,
 * or the code of the first thing wrong (a value beyond 2^53 refused as soon as it is read).
 */
function plainDecodeDetections(bytes: Uint8Array): { pulseIndex: number[]; basis: number[] } | { code: string } {
  let p = 0;
  const byte = (): number => {
    if (p >= bytes.length) throw 'PACKET_TOO_SHORT';
    return bytes[p++];
  };
  const varint = (): number => {
    let v = 0;
    for (let i = 0, scale = 1; ; i++, scale *= 128) {
      if (i > 7) throw 'FIELD_INVALID';
      const b = byte();
      v += (b & 127) * scale;
      if (b < 128) break;
    }
    if (v > Number.MAX_SAFE_INTEGER) throw 'FIELD_OUT_OF_RANGE';
    return v;
  };
  try {
    if (byte() !== 1) throw 'not detections';
    varint();
    const count = varint();
    const pulseIndex: number[] = [];
    for (let i = 0; i < count; i++) {
      let g = -1;
      if (i > 0) {
        g = byte() | (byte() << 8);
        if (g === ESCAPE) g += varint();
      }
      pulseIndex.push(i === 0 ? varint() : pulseIndex[i - 1] + g + 1);
      if (pulseIndex[i] > Number.MAX_SAFE_INTEGER) throw 'FIELD_OUT_OF_RANGE';
    }
    const basis: number[] = [];
    for (let i = 0; i < count; i += 8) for (let q = 0, b = byte(); q < 8 && i + q < count; q++) basis.push((b >>> q) & 1);
    if (p !== bytes.length) throw 'LENGTH_MISMATCH';
    return { pulseIndex, basis };
  } catch (code) {
    return { code: code as string };
  }
}

function plainSift(batchId: number, basis: ArrayLike<number>, intensity: ArrayLike<number>): Uint8Array {
  const out = [2];
  leb128(batchId, out);
  leb128(basis.length, out);
  plainPack(basis, 1, out);
  plainPack(intensity, 2, out);
  return Uint8Array.from(out);
}

/** The first entry that is not an integer above the previous one and below 2^53, or -1. */
function firstUnordered(values: ArrayLike<number>): number {
  let prev = -1;
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] > prev) || !Number.isSafeInteger(values[i])) return i;
    prev = values[i];
  }
  return -1;
}

function protocolError(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (e) {
    if (isProtocolError(e)) return e;
    throw e;
  }
  throw new Error('no error');
}

// ---------- generators ----------

/**
 * Gaps at the u16 and escape bounds, at every length bound of the escape's varint (and of
 * the first value's, a gap from -1), the pass's usual ones (mean ~6500) and long ones.
 */
const VARINT_BOUNDS = [0, 127, 128, 2 ** 14 - 1, 2 ** 14, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 35, 2 ** 42 + 5];
const EDGE_GAPS = [...VARINT_BOUNDS, 1, 255, 256, ESCAPE - 1, ...VARINT_BOUNDS.map((b) => ESCAPE + b)];
const gapArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 80_000 }) },
  { weight: 2, arbitrary: fc.constantFrom(...EDGE_GAPS) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 40 }) },
);
/** Ascending pulse indices from gaps, the first one from -1; up to the 2^53 bound if `top`. */
const indicesArb = fc.tuple(fc.array(gapArb, { maxLength: 300 }), fc.boolean()).map(([gaps, top]) => {
  const idx = new Float64Array(gaps.length);
  let p = -1;
  gaps.forEach((g, i) => (idx[i] = p = p + 1 + g));
  if (top && idx.length > 0) {
    // Shift the list so its last entry is 2^53 - 1 (if it fits).
    const shift = Number.MAX_SAFE_INTEGER - idx[idx.length - 1];
    if (idx[0] + shift >= 0) for (let i = 0; i < idx.length; i++) idx[i] += shift;
  }
  return idx;
});
const bitsOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n, min: 0, max: 1 });

describe('detection list: u16 gaps', () => {
  it('encode to the plain bytes and decode back, gaps at every bound (property)', () => {
    fc.assert(
      fc.property(indicesArb.chain((idx) => fc.tuple(fc.constant(idx), bitsOf(idx.length), fc.nat({ max: 2 ** 40 }))), ([idx, basis, batchId]) => {
        const enc = encodeQkdMessage({ type: 'detections', batchId, pulseIndex: idx, basis });
        expect(Buffer.from(enc).toString('hex')).toBe(Buffer.from(plainDetections(batchId, idx, basis)).toString('hex'));
        const dec = decodeQkdMessage(enc);
        if (dec.type !== 'detections') throw new Error(dec.type);
        expect(Array.from(dec.pulseIndex)).toEqual(Array.from(idx));
        expect(Array.from(dec.basis)).toEqual(Array.from(basis));
      }),
      { numRuns: 400, seed: 1401 },
    );
  });

  it('refuse a list that does not ascend in integers below 2^53, naming the first bad entry (property)', () => {
    const bad = fc.constantFrom(-1, 0.5, NaN, Infinity, 2 ** 53, 2 ** 53 + 2, 2 ** 60);
    fc.assert(
      fc.property(indicesArb, fc.nat(), bad, fc.boolean(), (idx, at, value, replace) => {
        const list = Array.from(idx);
        const i = list.length === 0 ? 0 : at % (list.length + 1);
        // Replace an entry, or insert a bad one (or a repeated one: not ascending).
        if (replace && i < list.length) list[i] = value;
        else list.splice(i, 0, value === -1 && i > 0 ? list[i - 1] : value);
        const values = Float64Array.from(list);
        const first = firstUnordered(values);
        expect(first).toBeGreaterThanOrEqual(0);
        expect(() => encodeQkdMessage({ type: 'detections', batchId: 0, pulseIndex: values, basis: new Uint8Array(values.length) })).toThrow(
          new RangeError(`detections: pulse indices must ascend (at ${first})`),
        );
      }),
      { numRuns: 300, seed: 1402 },
    );
  });

  it('a decoded list beyond 2^53 is refused, also when it gets there by two-byte gaps and the bytes then end early', () => {
    // The first value 2^53 - 2 (an 8-byte varint), then gaps of 128 (two bytes, 0x80 0x00) past 2^53 - 1.
    const first: number[] = [];
    leb128(Number.MAX_SAFE_INTEGER - 1, first);
    const gap = [0x80, 0x00];
    const cases = [
      [1, 0, 3, ...first, ...gap, ...gap, 0], // ends right after the list (bases byte next)
      [1, 0, 4, ...first, ...gap, ...gap, 0xff], // a gap cut short after it
      [1, 0, 4, ...first, ...gap, ...gap, 0xff, 0xff], // an escape without its varint after it
      [1, 0, 4, ...first, ...gap, ...gap, 0xff, 0xff, 0x80], // an escape's varint cut short after it
      [1, 0, 4, ...first, ...gap, ...gap, 0xff, 0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], // a varint too long after it
      [1, 0, 2, ...first, 0xff, 0xff, 0x00, 0], // there by an escape (a gap of 0xFFFF), then the bases byte
    ];
    for (const bytes of cases) {
      const e = protocolError(() => decodeQkdMessage(Uint8Array.from(bytes)));
      expect(e.code).toBe('FIELD_OUT_OF_RANGE');
      expect(e.message).toContain('pulseIndex beyond 2^53');
    }
    // 2^53 - 1 itself is fine (one entry, its bases byte; and 2^53 - 2 - 0x10000 and an escape to it).
    const ok = [1, 0, 1];
    leb128(Number.MAX_SAFE_INTEGER, ok);
    const dec = decodeQkdMessage(Uint8Array.from([...ok, 0]));
    expect(dec.type === 'detections' && dec.pulseIndex[0]).toBe(Number.MAX_SAFE_INTEGER);
    const below = [1, 0, 2];
    leb128(Number.MAX_SAFE_INTEGER - 1 - 0x10000, below);
    const dec2 = decodeQkdMessage(Uint8Array.from([...below, 0xff, 0xff, 0x01, 0]));
    expect(dec2.type === 'detections' && Array.from(dec2.pulseIndex)).toEqual([Number.MAX_SAFE_INTEGER - 1 - 0x10000, Number.MAX_SAFE_INTEGER]);
  });

  it('a gap cut short names its two bytes and where they start', () => {
    const e = protocolError(() => decodeQkdMessage(Uint8Array.of(1, 0, 2, 5, 0x01)));
    expect(e.code).toBe('PACKET_TOO_SHORT');
    expect(e.message).toContain('ends inside pulseIndex: 2 bytes needed at offset 4');
  });

  it('an escape with a varint too long or beyond 2^53 is refused as a plain varint is', () => {
    const tooLong = protocolError(() => decodeQkdMessage(Uint8Array.of(1, 0, 2, 5, 0xff, 0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0)));
    expect(tooLong.code).toBe('FIELD_INVALID');
    expect(tooLong.message).toContain('varint too long in pulseIndex');
    const big: number[] = [];
    leb128(2 ** 53, big);
    const beyond = protocolError(() => decodeQkdMessage(Uint8Array.of(1, 0, 2, 5, 0xff, 0xff, ...big, 0)));
    expect(beyond.code).toBe('FIELD_OUT_OF_RANGE');
    expect(beyond.message).toContain(`pulseIndex = ${2 ** 53} exceeds`);
  });

  it('decode any bytes as the plain byte-at-a-time decoder does: the values, or the same error code (property)', () => {
    // A list of u16 gaps, escapes with varints of any length (too long ones too), and stray bytes; a count near the list's; the bases; cut anywhere.
    const pieceArb = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: ESCAPE - 1 }).map((g) => [g & 255, g >>> 8]) },
      { weight: 2, arbitrary: fc.constantFrom(...VARINT_BOUNDS).map((g) => { const out: number[] = []; plainGap(ESCAPE + g, out); return out; }) },
      { weight: 1, arbitrary: fc.array(fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff), { minLength: 1, maxLength: 10 }) },
    );
    const bytesArb = fc
      .tuple(fc.constantFrom(0, 5, 2 ** 52, Number.MAX_SAFE_INTEGER - 5 * ESCAPE), fc.array(pieceArb, { maxLength: 40 }), fc.integer({ min: -2, max: 2 }), fc.nat(), fc.boolean())
      .map(([first, pieces, dCount, cutAt, cut]) => {
        const list = pieces.flat();
        const count = Math.max(0, pieces.length + 1 + dCount);
        const out = [1, 7];
        leb128(count, out);
        leb128(first, out);
        out.push(...list, ...new Array((count + 7) >>> 3).fill(0x5a));
        return Uint8Array.from(cut ? out.slice(0, cutAt % (out.length + 1)) : out);
      });
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        const want = plainDecodeDetections(bytes);
        let got: typeof want;
        try {
          const m = decodeQkdMessage(bytes);
          if (m.type !== 'detections') throw new Error(m.type);
          got = { pulseIndex: Array.from(m.pulseIndex), basis: Array.from(m.basis) };
        } catch (e) {
          if (!isProtocolError(e)) throw e;
          got = { code: e.code };
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 2000, seed: 1409 },
    );
  });

  it('every truncation is a ProtocolError (property)', () => {
    fc.assert(
      fc.property(indicesArb.filter((x) => x.length > 0), (idx) => {
        const enc = encodeQkdMessage({ type: 'detections', batchId: 3, pulseIndex: idx, basis: new Uint8Array(idx.length) });
        for (let cut = 1; cut < enc.length; cut++) expect(isProtocolError(protocolError(() => decodeQkdMessage(enc.subarray(0, cut))))).toBe(true);
      }),
      { numRuns: 40, seed: 1403 },
    );
  });
});

describe('packed bases and intensities', () => {
  // Lengths around whole words (8 bits, 4 lanes a byte; 4 values a read), views at any offset (Alice's held answers).
  const siftArb = fc
    .tuple(fc.nat({ max: 70 }), fc.nat({ max: 3 }))
    .chain(([n, skip]) => fc.tuple(fc.uint8Array({ minLength: n + skip, maxLength: n + skip, min: 0, max: 1 }), fc.uint8Array({ minLength: n + skip, maxLength: n + skip, min: 0, max: 2 }), fc.constant(skip)));

  it('sift answers encode to the plain packing and decode back, from views at any offset (property)', () => {
    fc.assert(
      fc.property(siftArb, fc.nat({ max: 1000 }), ([b, c, skip], batchId) => {
        const basis = b.subarray(skip);
        const intensity = c.subarray(skip);
        const enc = encodeQkdMessage({ type: 'sift', batchId, basis, intensity });
        expect(Array.from(enc)).toEqual(Array.from(plainSift(batchId, basis, intensity)));
        const dec = decodeQkdMessage(enc);
        if (dec.type !== 'sift') throw new Error(dec.type);
        expect(Array.from(dec.basis)).toEqual(Array.from(basis));
        expect(Array.from(dec.intensity)).toEqual(Array.from(intensity));
      }),
      { numRuns: 400, seed: 1404 },
    );
  });

  it('values out of range encode as the plain packing did (each value shifted and OR-ed in) (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (b, c) => {
        const n = Math.min(b.length, c.length);
        const basis = b.subarray(0, n);
        const intensity = c.subarray(0, n);
        expect(Array.from(encodeQkdMessage({ type: 'sift', batchId: 0, basis, intensity }))).toEqual(Array.from(plainSift(0, basis, intensity)));
      }),
      { numRuns: 200, seed: 1405 },
    );
  });

  it('an intensity class 3 anywhere is refused, naming the first (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 70, min: 0, max: 3 }), (intensity) => {
        const enc = plainSift(9, new Uint8Array(intensity.length), intensity);
        const first = intensity.indexOf(3);
        if (first < 0) {
          expect(() => decodeQkdMessage(enc)).not.toThrow();
          return;
        }
        const e = protocolError(() => decodeQkdMessage(enc));
        expect(e.code).toBe('FIELD_OUT_OF_RANGE');
        expect(e.message).toContain(`: intensity[${first}] = 3 exceeds 2`);
      }),
      { numRuns: 300, seed: 1406 },
    );
  });
});

describe('frames and reused arrays', () => {
  const messageArb: fc.Arbitrary<QkdMessage> = fc.oneof(
    indicesArb.chain((idx) => fc.record({ type: fc.constant('detections' as const), batchId: fc.nat(), pulseIndex: fc.constant(idx), basis: bitsOf(idx.length) })),
    fc.nat({ max: 90 }).chain((n) =>
      fc.record({ type: fc.constant('sift' as const), batchId: fc.nat(), basis: bitsOf(n), intensity: fc.uint8Array({ minLength: n, maxLength: n, min: 0, max: 2 }) }),
    ),
    fc.record({ type: fc.constant('checkpoint' as const), round: fc.nat() }),
    fc.record({ type: fc.constant('ecParities' as const), blockId: fc.nat(), pass: fc.nat(255), parities: fc.uint8Array({ maxLength: 50, min: 0, max: 1 }) }),
  );

  it('encodeAuthFrame writes authFrameFor(encodeQkdMessage(m)) byte for byte (property)', () => {
    fc.assert(
      fc.property(messageArb, fc.constantFrom(0 as const, 1 as const), fc.nat({ max: 2 ** 32 - 1 }), fc.option(fc.nat({ max: 2 ** 32 - 1 })), (m, direction, seq, tag) => {
        const frame = encodeAuthFrame(direction, seq, m, tag);
        expect(Array.from(frame)).toEqual(Array.from(authFrameFor(direction, seq, encodeQkdMessage(m), tag)));
      }),
      { numRuns: 200, seed: 1407 },
    );
  });

  it('decoding into a scratch gives what a fresh decode gives, message after message (property)', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 8 }), (ms) => {
        const scratch = new DecodeScratch();
        for (const m of ms) {
          const enc = encodeQkdMessage(m);
          expect(decodeQkdMessage(enc, 0, enc.length, scratch)).toEqual(decodeQkdMessage(enc));
        }
      }),
      { numRuns: 150, seed: 1408 },
    );
  });

  it('a scratch hands out the same arrays again once they are large enough', () => {
    const scratch = new DecodeScratch();
    const m = (n: number, batchId: number): Uint8Array =>
      encodeQkdMessage({ type: 'detections', batchId, pulseIndex: Float64Array.from({ length: n }, (_, i) => 3 * i), basis: new Uint8Array(n).fill(1) });
    const a = decodeQkdMessage(m(100, 1), 0, undefined, scratch);
    const b = decodeQkdMessage(m(60, 2), 0, undefined, scratch);
    if (a.type !== 'detections' || b.type !== 'detections') throw new Error('type');
    expect(b.pulseIndex.buffer).toBe(a.pulseIndex.buffer);
    expect(b.basis.buffer).toBe(a.basis.buffer);
    expect(a.pulseIndex[1]).toBe(3); // overwritten in place by the second decode, same values there
    expect(b.pulseIndex.length).toBe(60);
  });
});
