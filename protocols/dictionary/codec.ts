import { Parser } from 'binary-parser';
import { ProtocolError } from '../errors.ts';
import type { FieldDef, FieldType, FieldValues } from './types.ts';

/**
 * Compiles a field list into an encoder (bit writer), a decoder (a binary-parser
 * Parser, which generates straight-line DataView code) and a validator. Byte offsets
 * are never written by hand: they follow from the field list.
 */
export interface Layout {
  readonly fields: readonly FieldDef[];
  /** Octets of the fixed part (everything but the contents of bytes/string fields). */
  readonly fixedBytes: number;
  /** Throws FIELD_INVALID / FIELD_OUT_OF_RANGE naming the first bad field. */
  validate(values: Record<string, unknown>): void;
  encode(values: Record<string, unknown>): Uint8Array;
  /** Decodes exactly bytes[start, end); throws LENGTH_MISMATCH / FIELD_INVALID. */
  decode(bytes: Uint8Array, start?: number, end?: number): FieldValues;
}

function wireBits(t: FieldType): number {
  switch (t.kind) {
    case 'uint':
    case 'int':
    case 'float':
    case 'enum':
    case 'bool':
      return t.bits;
    case 'bytes':
    case 'string':
      return t.lengthBits;
  }
}

function isByteAligned(t: FieldType): boolean {
  const b = wireBits(t);
  return b === 8 || b === 16 || b === 32 || b === 64;
}

function fail(code: 'FIELD_INVALID' | 'FIELD_OUT_OF_RANGE', field: string, message: string, extra: Record<string, unknown> = {}): never {
  throw new ProtocolError(code, `field '${field}': ${message}`, { field, ...extra });
}

/** Raw integer range a field can carry on the wire. */
function rawBounds(t: FieldType): [number, number] {
  if (t.kind === 'int') return [-(2 ** (t.bits - 1)), 2 ** (t.bits - 1) - 1];
  if (t.kind === 'uint' || t.kind === 'enum' || t.kind === 'bool') return [0, 2 ** t.bits - 1];
  return [-Infinity, Infinity];
}

/** Converts one engineering value to the raw number on the wire (validating as it goes). */
function toRaw(f: FieldDef, v: unknown): number | Uint8Array {
  const t = f.type;
  switch (t.kind) {
    case 'enum': {
      const idx = typeof v === 'string' ? t.states.indexOf(v) : typeof v === 'number' && Number.isInteger(v) ? v : -1;
      if (idx < 0 || idx >= t.states.length) {
        fail('FIELD_OUT_OF_RANGE', f.name, `${JSON.stringify(v)} is not one of ${t.states.join(', ')}`, { allowed: t.states, value: v });
      }
      return idx;
    }
    case 'bool':
      if (typeof v !== 'boolean') fail('FIELD_INVALID', f.name, `expected true or false, got ${JSON.stringify(v)}`, { value: v });
      return v ? 1 : 0;
    case 'bytes':
    case 'string': {
      const bytes = t.kind === 'string' ? (typeof v === 'string' ? new TextEncoder().encode(v) : null) : v instanceof Uint8Array ? v : null;
      if (bytes === null) fail('FIELD_INVALID', f.name, `expected ${t.kind === 'string' ? 'a string' : 'bytes'}`, { value: String(v) });
      const max = Math.min(t.maxLength ?? Infinity, 2 ** t.lengthBits - 1);
      if (bytes.length > max) fail('FIELD_OUT_OF_RANGE', f.name, `length ${bytes.length} exceeds ${max}`, { length: bytes.length, max });
      return bytes;
    }
    default: {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail('FIELD_INVALID', f.name, `expected a finite number, got ${JSON.stringify(v)}`, { value: v });
      if (f.range && (v < f.range[0] || v > f.range[1])) {
        fail('FIELD_OUT_OF_RANGE', f.name, `${v}${f.unit ? ` ${f.unit}` : ''} outside ${f.range[0]}..${f.range[1]}`, {
          value: v,
          range: f.range,
          unit: f.unit,
        });
      }
      if (t.kind === 'float') return v;
      const raw = t.scale ? Math.round((v - (t.scale.offset ?? 0)) / t.scale.factor) : v;
      if (!Number.isInteger(raw)) fail('FIELD_INVALID', f.name, `${v} is not an integer`, { value: v });
      const [lo, hi] = rawBounds(t);
      if (raw < lo || raw > hi) fail('FIELD_OUT_OF_RANGE', f.name, `${v} does not fit ${t.kind}${t.bits}`, { value: v, rawRange: [lo, hi] });
      return raw;
    }
  }
}

/**
 * `hiddenPrefix` leading fields are encoded and validated but left out of decoded
 * values (the SID of a housekeeping report, the id of an event, an ST08 function id).
 */
/**
 * What binary-parser parses into. Its generated code sets and then deletes `$parent`
 * and `$root` on every result; deleting the first properties of an object drops V8 to
 * slow dictionary mode. No-op accessors on the prototype absorb both, so no own
 * property is ever added or deleted and results keep a fast fixed shape.
 */
class ParsedFields {}
for (const name of ['$parent', '$root']) {
  Object.defineProperty(ParsedFields.prototype, name, { get: () => null, set: () => {}, configurable: false });
}

export function compileLayout(fields: readonly FieldDef[], context: string, hiddenPrefix = 0): Layout {
  // Check packing: runs of sub-octet fields must fill whole octets, at most 32 bits a run.
  let run = 0;
  let fixedBits = 0;
  const names = new Set<string>();
  for (const f of fields) {
    if (names.has(f.name)) throw new Error(`${context}: duplicate field '${f.name}'`);
    names.add(f.name);
    const bits = wireBits(f.type);
    fixedBits += bits;
    if (f.type.kind === 'enum' && f.type.states.length > 2 ** bits) throw new Error(`${context}.${f.name}: ${f.type.states.length} states do not fit ${bits} bits`);
    if ((f.type.kind === 'uint' && (bits < 1 || bits > 32)) || (f.type.kind === 'enum' && (bits < 1 || bits > 32))) {
      throw new Error(`${context}.${f.name}: ${bits} bits out of 1..32`);
    }
    if (isByteAligned(f.type)) {
      if (run % 8 !== 0) throw new Error(`${context}.${f.name}: previous bit fields end mid-octet`);
      run = 0;
    } else {
      // binary-parser reads a whole run of consecutive bit fields as one group.
      run += bits;
      if (run > 32) throw new Error(`${context}.${f.name}: bit-field run exceeds 32 bits`);
    }
  }
  if (run % 8 !== 0) throw new Error(`${context}: trailing bit fields end mid-octet`);
  const fixedBytes = fixedBits / 8;

  // Decoder: binary-parser compiles the field list to one function.
  let parser = new Parser().endianness('big');
  const varFields: { name: string; lenKey: string }[] = [];
  for (const f of fields) {
    const t = f.type;
    const n = f.name;
    const bits = wireBits(t);
    switch (t.kind) {
      case 'float':
        parser = t.bits === 32 ? parser.floatbe(n) : parser.doublebe(n);
        break;
      case 'int':
        parser = t.bits === 8 ? parser.int8(n) : t.bits === 16 ? parser.int16be(n) : parser.int32be(n);
        break;
      case 'bytes':
      case 'string': {
        const lenKey = `${n}__len`;
        parser = t.lengthBits === 8 ? parser.uint8(lenKey) : parser.uint16be(lenKey);
        parser = t.kind === 'bytes' ? parser.buffer(n, { length: lenKey }) : parser.string(n, { length: lenKey, encoding: 'ascii' });
        varFields.push({ name: n, lenKey });
        break;
      }
      default:
        if (bits === 8) parser = parser.uint8(n);
        else if (bits === 16) parser = parser.uint16be(n);
        else if (bits === 32) parser = parser.uint32be(n);
        else parser = (parser as unknown as Record<string, (name: string) => Parser>)[`bit${bits}`](n);
    }
  }
  const compiled = fields.length > 0 ? parser.create(ParsedFields) : null;

  // Post-processing, generated as one function that builds a fresh fixed-shape object:
  // binary-parser's own result has had properties deleted (slow dictionary mode), and
  // a leading id field (SID, event id, function id) is dropped here, not copied later.
  const consts: unknown[] = [];
  const k = (v: unknown) => `c[${consts.push(v) - 1}]`;
  const props = fields.slice(hiddenPrefix).map((f) => {
    const t = f.type;
    const src = `v[${JSON.stringify(f.name)}]`;
    let expr = src;
    if (t.kind === 'enum') expr = `(${src} < ${t.states.length} ? ${k(t.states)}[${src}] : bad(${JSON.stringify(f.name)}, ${src}))`;
    else if (t.kind === 'bool') expr = `${src} !== 0`;
    else if ((t.kind === 'uint' || t.kind === 'int') && t.scale) expr = `${src} * ${t.scale.factor} + ${t.scale.offset ?? 0}`;
    else if (t.kind === 'bytes') expr = `Uint8Array.prototype.slice.call(${src})`;
    return `${JSON.stringify(f.name)}: ${expr}`;
  });
  const bad = (name: string, raw: number): never => {
    const f = fields.find((x) => x.name === name)!;
    return fail('FIELD_INVALID', name, `raw value ${raw} is not a state of ${(f.type as { states: readonly string[] }).states.join(', ')}`, { value: raw });
  };
  const build = new Function('c', 'bad', `return function build(v) { return { ${props.join(', ')} }; };`)(consts, bad) as (
    v: Record<string, unknown>,
  ) => FieldValues;

  const validate = (values: Record<string, unknown>): void => {
    for (const f of fields) {
      if (!(f.name in values) || values[f.name] === undefined) fail('FIELD_INVALID', f.name, 'missing', {});
      toRaw(f, values[f.name]);
    }
    for (const k of Object.keys(values)) {
      if (!names.has(k)) fail('FIELD_INVALID', k, `unknown field (${context} has ${[...names].join(', ') || 'no fields'})`, {});
    }
  };

  const encode = (values: Record<string, unknown>): Uint8Array => {
    validate(values);
    const raws = fields.map((f) => toRaw(f, values[f.name]));
    let total = fixedBytes;
    for (const r of raws) if (r instanceof Uint8Array) total += r.length;
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let o = 0;
    let acc = 0;
    let accBits = 0;
    fields.forEach((f, i) => {
      const t = f.type;
      const r = raws[i];
      const bits = wireBits(t);
      if (t.kind === 'float') {
        if (t.bits === 32) view.setFloat32(o, r as number);
        else view.setFloat64(o, r as number);
        o += bits / 8;
      } else if (r instanceof Uint8Array) {
        if (bits === 8) view.setUint8(o, r.length);
        else view.setUint16(o, r.length);
        o += bits / 8;
        out.set(r, o);
        o += r.length;
      } else if (isByteAligned(t)) {
        const v = r as number;
        if (bits === 8) out[o] = v & 0xff;
        else if (bits === 16) view.setUint16(o, v & 0xffff);
        else view.setUint32(o, v >>> 0);
        o += bits / 8;
      } else {
        // Sub-octet field: accumulate MSB first until whole octets are filled.
        acc = acc * 2 ** bits + (r as number);
        accBits += bits;
        while (accBits >= 8 && accBits % 8 === 0) {
          const nBytes = accBits / 8;
          for (let k = nBytes - 1; k >= 0; k--) {
            out[o + k] = acc % 256;
            acc = Math.floor(acc / 256);
          }
          o += nBytes;
          accBits = 0;
          acc = 0;
        }
      }
    });
    return out;
  };

  const decode = (bytes: Uint8Array, start = 0, end = bytes.length): FieldValues => {
    const available = end - start;
    if (available < fixedBytes) {
      throw new ProtocolError('LENGTH_MISMATCH', `${context}: ${available} octets, at least ${fixedBytes} expected`, { available, expected: fixedBytes });
    }
    if (compiled === null) {
      if (available !== 0) throw new ProtocolError('LENGTH_MISMATCH', `${context}: ${available} unexpected octets`, { available, expected: 0 });
      return {};
    }
    const slice = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
    let vals: Record<string, unknown>;
    try {
      vals = compiled.parse(slice as Buffer) as Record<string, unknown>;
    } catch {
      throw new ProtocolError('LENGTH_MISMATCH', `${context}: data ends inside a field`, { available });
    }
    let expected = fixedBytes;
    for (const v of varFields) expected += vals[v.lenKey] as number;
    if (expected !== available) {
      throw new ProtocolError('LENGTH_MISMATCH', `${context}: ${available} octets, layout needs ${expected}`, { available, expected });
    }
    return build(vals);
  };

  return { fields, fixedBytes, validate, encode, decode };
}
