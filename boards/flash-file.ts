import { existsSync, readFileSync } from 'node:fs';
import { writeFileDurably } from './durable-file.ts';
import type { PersistentState } from './emulator/core.ts';
import { FlashMemory, type FlashGeometryLike } from './flash.ts';

/**
 * A board's persistent state in a file, so an emulator process keeps its config flash
 * across restarts (`npm run emulate -- qsrc --flash-file qsrc.flash`). Layout:
 * "QFL1" | activeBank u8 | resetCount u16 BE | base u32 BE | size u32 BE | flash bytes.
 */
const MAGIC = 'QFL1';
const HEADER = 4 + 1 + 2 + 4 + 4;

export function loadPersistentState(path: string, g: FlashGeometryLike): PersistentState {
  const flash = new FlashMemory(g);
  if (!existsSync(path)) return { flash, resetCount: 0 };
  const b = readFileSync(path);
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  if (b.length < HEADER || b.subarray(0, 4).toString('latin1') !== MAGIC) throw new Error(`${path}: not a board flash file (magic ${MAGIC})`);
  const base = v.getUint32(7);
  const size = v.getUint32(11);
  if (base !== g.base || size !== g.size || b.length !== HEADER + size) throw new Error(`${path}: flash geometry 0x${base.toString(16)}+${size} does not match the board (0x${g.base.toString(16)}+${g.size})`);
  flash.data.set(b.subarray(HEADER));
  flash.activeBank = b[4];
  return { flash, resetCount: v.getUint16(5) };
}

/**
 * Writes atomically and durably (writeFileDurably): a crash never leaves half a file,
 * and once this returns the state survives one.
 */
export function savePersistentState(path: string, s: PersistentState): void {
  const g = s.flash.geometry;
  const b = Buffer.alloc(HEADER + g.size);
  b.write(MAGIC, 0, 'latin1');
  b[4] = s.flash.activeBank;
  b.writeUInt16BE(s.resetCount & 0xffff, 5);
  b.writeUInt32BE(g.base, 7);
  b.writeUInt32BE(g.size, 11);
  b.set(s.flash.data, HEADER);
  writeFileDurably(path, b);
}
