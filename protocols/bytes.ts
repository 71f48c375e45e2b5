import { ProtocolError } from './errors.ts';

/**
 * The byte writer and reader every hand-written codec in protocols/ builds on.
 * Integers are big-endian; `varint` is unsigned LEB128 (least significant 7 bits
 * first) for integers below 2^53. A read past the end is a PACKET_TOO_SHORT and bytes
 * left over are a LENGTH_MISMATCH, both naming the field, never a RangeError.
 * Codecs with packing of their own (qkd-messages.ts) extend these classes.
 */

/** A growing output buffer; `done()` returns a copy of exactly the bytes written. */
export class ByteWriter {
  protected buf: Uint8Array;
  /** Bytes written so far. */
  length = 0;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(Math.max(1, capacity));
  }

  /** Makes room for `n` more bytes (doubling, so appends stay amortised O(1)). */
  protected ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    const buf = this.buf;
    const p = this.length;
    buf[p] = v >>> 8;
    buf[p + 1] = v;
    this.length = p + 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    const buf = this.buf;
    const p = this.length;
    buf[p] = v >>> 24;
    buf[p + 1] = v >>> 16;
    buf[p + 2] = v >>> 8;
    buf[p + 3] = v;
    this.length = p + 4;
    return this;
  }

  /** IEEE 754 binary64, big-endian. */
  f64(v: number): this {
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.length, v);
    this.length += 8;
    return this;
  }

  /** Unsigned LEB128 of an integer in 0..2^53-1 (at most 8 bytes). */
  varint(v: number): this {
    this.ensure(8);
    const buf = this.buf;
    let p = this.length;
    if (v < 0x10000000) {
      // Common case: 32-bit arithmetic.
      while (v >= 128) {
        buf[p++] = (v & 127) | 128;
        v >>>= 7;
      }
    } else {
      while (v >= 128) {
        buf[p++] = (v % 128) | 128;
        v = Math.floor(v / 128);
      }
    }
    buf[p++] = v;
    this.length = p;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A bounds-checked cursor over `buf[start, end)`; `what` names the message in errors. */
export class ByteReader {
  /** Offset of the next byte to read (absolute, within `buf`). */
  pos: number;

  constructor(
    protected readonly buf: Uint8Array,
    protected readonly what: string,
    start = 0,
    protected readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** The PACKET_TOO_SHORT error for `field` needing `n` bytes at `at`. */
  protected tooShort(field: string, n: number, at = this.pos): ProtocolError {
    return new ProtocolError('PACKET_TOO_SHORT', `${this.what} ends inside ${field}: ${n} bytes needed at offset ${at}, message ends at ${this.end}`, {
      field,
      offset: at,
      length: this.end,
    });
  }

  protected need(n: number, field: string): void {
    if (this.pos + n > this.end) throw this.tooShort(field, n);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++];
  }

  u16(field: string): number {
    this.need(2, field);
    const buf = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (buf[p] << 8) | buf[p + 1];
  }

  u32(field: string): number {
    this.need(4, field);
    const buf = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
  }

  /** IEEE 754 binary64, big-endian. */
  f64(field: string): number {
    this.need(8, field);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset).getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned LEB128, at most 8 bytes; above `max` is FIELD_OUT_OF_RANGE. */
  varint(field: string, max = Number.MAX_SAFE_INTEGER): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i > 7) throw new ProtocolError('FIELD_INVALID', `varint too long in ${field}`, { field });
      const b = this.u8(field);
      v += (b & 127) * scale;
      scale *= 128;
      if (b < 128) break;
    }
    if (v > max) throw new ProtocolError('FIELD_OUT_OF_RANGE', `${field} = ${v} exceeds ${max}`, { field, value: v, max });
    return v;
  }

  /** A copy of the next `n` bytes. */
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Everything not read yet, as a copy. */
  rest(): Uint8Array {
    const v = this.buf.slice(this.pos, this.end);
    this.pos = this.end;
    return v;
  }

  /** Throws LENGTH_MISMATCH when bytes are left after the last field. */
  finish(): void {
    if (this.pos !== this.end) {
      throw new ProtocolError('LENGTH_MISMATCH', `${this.what}: ${this.end - this.pos} unexpected trailing bytes`, {
        expected: this.pos,
        length: this.end,
      });
    }
  }
}
