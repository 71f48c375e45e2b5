import type { FieldDef, Limits } from './types.ts';

/**
 * Terse constructors for field definitions, so the dictionary reads like a table. Each
 * keeps its field's literal name (and an enum's states) in the type, from which the
 * argument types of commands are derived.
 */
interface Opts {
  unit?: string;
  range?: readonly [number, number];
  limits?: Limits;
}

type Uint<B extends number> = { kind: 'uint'; bits: B };

export const u8 = <N extends string>(name: N, description: string, o: Opts = {}): FieldDef<N, Uint<8>> => ({ name, type: { kind: 'uint', bits: 8 }, description, ...o });
export const u16 = <N extends string>(name: N, description: string, o: Opts = {}): FieldDef<N, Uint<16>> => ({ name, type: { kind: 'uint', bits: 16 }, description, ...o });
export const u32 = <N extends string>(name: N, description: string, o: Opts = {}): FieldDef<N, Uint<32>> => ({ name, type: { kind: 'uint', bits: 32 }, description, ...o });
export const uBits = <N extends string>(name: N, bits: number, description: string, o: Opts = {}): FieldDef<N, Uint<number>> => ({ name, type: { kind: 'uint', bits }, description, ...o });
export const i16s = <N extends string>(name: N, factor: number, description: string, o: Opts = {}): FieldDef<N, { kind: 'int'; bits: 16; scale: { factor: number } }> => ({
  name,
  type: { kind: 'int', bits: 16, scale: { factor } },
  description,
  ...o,
});
export const f32 = <N extends string>(name: N, description: string, o: Opts = {}): FieldDef<N, { kind: 'float'; bits: 32 }> => ({ name, type: { kind: 'float', bits: 32 }, description, ...o });
export const f64 = <N extends string>(name: N, description: string, o: Opts = {}): FieldDef<N, { kind: 'float'; bits: 64 }> => ({ name, type: { kind: 'float', bits: 64 }, description, ...o });
export const flag = <N extends string>(name: N, description: string): FieldDef<N, { kind: 'bool'; bits: 8 }> => ({ name, type: { kind: 'bool', bits: 8 }, description });
export const enum8 = <N extends string, S extends string>(name: N, states: readonly S[], description: string): FieldDef<N, { kind: 'enum'; bits: 8; states: readonly S[] }> => ({
  name,
  type: { kind: 'enum', bits: 8, states },
  description,
});
export const enum16 = <N extends string, S extends string>(name: N, states: readonly S[], description: string): FieldDef<N, { kind: 'enum'; bits: 16; states: readonly S[] }> => ({
  name,
  type: { kind: 'enum', bits: 16, states },
  description,
});
export const bytes16 = <N extends string>(name: N, maxLength: number, description: string): FieldDef<N, { kind: 'bytes'; lengthBits: 16; maxLength: number }> => ({
  name,
  type: { kind: 'bytes', lengthBits: 16, maxLength },
  description,
});
export const str8 = <N extends string>(name: N, maxLength: number, description: string): FieldDef<N, { kind: 'string'; lengthBits: 8; maxLength: number }> => ({
  name,
  type: { kind: 'string', lengthBits: 8, maxLength },
  description,
});
