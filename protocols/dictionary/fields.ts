import type { FieldDef, Limits } from './types.ts';

/** Terse constructors for field definitions, so the dictionary reads like a table. */
interface Opts {
  unit?: string;
  range?: readonly [number, number];
  limits?: Limits;
}

export const u8 = (name: string, description: string, o: Opts = {}): FieldDef => ({ name, type: { kind: 'uint', bits: 8 }, description, ...o });
export const u16 = (name: string, description: string, o: Opts = {}): FieldDef => ({ name, type: { kind: 'uint', bits: 16 }, description, ...o });
export const u32 = (name: string, description: string, o: Opts = {}): FieldDef => ({ name, type: { kind: 'uint', bits: 32 }, description, ...o });
export const uBits = (name: string, bits: number, description: string, o: Opts = {}): FieldDef => ({ name, type: { kind: 'uint', bits }, description, ...o });
export const i16s = (name: string, factor: number, description: string, o: Opts = {}): FieldDef => ({
  name,
  type: { kind: 'int', bits: 16, scale: { factor } },
  description,
  ...o,
});
export const f32 = (name: string, description: string, o: Opts = {}): FieldDef => ({ name, type: { kind: 'float', bits: 32 }, description, ...o });
export const f64 = (name: string, description: string, o: Opts = {}): FieldDef => ({ name, type: { kind: 'float', bits: 64 }, description, ...o });
export const flag = (name: string, description: string): FieldDef => ({ name, type: { kind: 'bool', bits: 8 }, description });
export const enum8 = (name: string, states: readonly string[], description: string): FieldDef => ({
  name,
  type: { kind: 'enum', bits: 8, states },
  description,
});
export const enum16 = (name: string, states: readonly string[], description: string): FieldDef => ({
  name,
  type: { kind: 'enum', bits: 16, states },
  description,
});
export const bytes16 = (name: string, maxLength: number, description: string): FieldDef => ({
  name,
  type: { kind: 'bytes', lengthBits: 16, maxLength },
  description,
});
export const str8 = (name: string, maxLength: number, description: string): FieldDef => ({
  name,
  type: { kind: 'string', lengthBits: 8, maxLength },
  description,
});
