import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { rawToInt } from '../protocols/board-link.ts';
import { type BoardDefinition, boardDefinitionSchema, type MemoryRegionDef, type RegisterDef } from './schema.ts';

/** Board names (one definition, in the dictionary); each has a file in boards/definitions/. */
export { BOARD_NAMES, type BoardName } from '../protocols/dictionary/mission.ts';
import { BOARD_NAMES, type BoardName } from '../protocols/dictionary/mission.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'definitions');

export class BoardDefinitionError extends Error {
  override readonly name = 'BoardDefinitionError';
}

/** Parses and validates a definition document (YAML or JSON text) merged with the common registers. */
export function parseBoardDefinition(text: string, source: string, common: { registers?: unknown[]; memory?: unknown[] } = loadCommon()): BoardDefinition {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new BoardDefinitionError(`${source}: not valid YAML/JSON: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new BoardDefinitionError(`${source}: empty definition`);
  const merged = {
    ...doc,
    registers: [...(common.registers ?? []), ...((doc.registers as unknown[]) ?? [])],
    memory: (doc.memory as unknown[]) ?? common.memory ?? [],
  };
  const r = boardDefinitionSchema.safeParse(merged);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new BoardDefinitionError(`${source}: invalid board definition:\n${lines.join('\n')}`);
  }
  return r.data;
}

function loadCommon(): { registers?: unknown[]; memory?: unknown[] } {
  return parse(readFileSync(join(dir, 'common.yaml'), 'utf8')) as { registers?: unknown[]; memory?: unknown[] };
}

const cache = new Map<string, BoardDefinition>();

export function isBoardName(name: string): name is BoardName {
  return (BOARD_NAMES as readonly string[]).includes(name);
}

export function loadBoardDefinition(name: string): BoardDefinition {
  if (!isBoardName(name)) throw new BoardDefinitionError(`unknown board '${name}' (known: ${BOARD_NAMES.join(', ')})`);
  let d = cache.get(name);
  if (!d) {
    const file = join(dir, `${name}.yaml`);
    d = parseBoardDefinition(readFileSync(file, 'utf8'), file);
    cache.set(name, d);
  }
  return d;
}

export function register(def: BoardDefinition, name: string): RegisterDef {
  const r = def.registers.find((x) => x.name === name);
  if (!r) throw new BoardDefinitionError(`board ${def.name} has no register ${name}`);
  return r;
}

export function registerAt(def: BoardDefinition, address: number): RegisterDef | undefined {
  return def.registers.find((x) => x.address === address);
}

function rawBounds(r: RegisterDef): [number, number] {
  if (r.signed) return [-(2 ** (r.width - 1)), 2 ** (r.width - 1) - 1];
  return [0, 2 ** r.width - 1];
}

/** Engineering value → raw integer of the register (rounded, clamped to its width). */
export function toRaw(r: RegisterDef, eng: number): number {
  const [lo, hi] = rawBounds(r);
  const raw = Math.round((eng - r.offset) / r.scale);
  return Math.min(hi, Math.max(lo, raw));
}

/** Raw 32 bits as carried on the link → engineering value. */
export function fromRaw(r: RegisterDef, raw32: number): number {
  const v = rawToInt(raw32, r.width, r.signed) * r.scale + r.offset;
  // Trim float noise from the scaling (0.01 * 123 = 1.2300000000000002).
  return Number(v.toPrecision(12));
}

/** True when an engineering value is inside the register's writable range. */
export function inWriteRange(r: RegisterDef, eng: number): boolean {
  if (r.min !== undefined && eng < r.min - r.scale / 2) return false;
  if (r.max !== undefined && eng > r.max + r.scale / 2) return false;
  const [lo, hi] = rawBounds(r);
  const raw = Math.round((eng - r.offset) / r.scale);
  return raw >= lo && raw <= hi;
}

export interface FlashGeometry {
  region: MemoryRegionDef;
  base: number;
  size: number;
  pageSize: number;
  banks: number;
  bankSize: number;
  bankBase(bank: number): number;
}

/** The configuration flash of a board: base, page size and the A/B bank split. */
export function configFlash(def: BoardDefinition): FlashGeometry {
  const region = def.memory.find((m) => m.kind === 'flash' && m.name === 'config');
  if (!region || !region.pageSize) throw new BoardDefinitionError(`board ${def.name} has no config flash region`);
  const banks = region.banks ?? 1;
  const bankSize = region.size / banks;
  return {
    region,
    base: region.base,
    size: region.size,
    pageSize: region.pageSize,
    banks,
    bankSize,
    bankBase: (bank: number) => {
      if (!Number.isInteger(bank) || bank < 0 || bank >= banks) throw new BoardDefinitionError(`board ${def.name}: bank ${bank} outside 0..${banks - 1}`);
      return region.base + bank * bankSize;
    },
  };
}

export type { BoardDefinition, MemoryRegionDef, RegisterDef };
