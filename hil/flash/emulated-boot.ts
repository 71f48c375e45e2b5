import type { BoardEmulator } from '../../boards/emulator/index.ts';
import { type BootSelection, selectBootImage } from '../../protocols/config-image.ts';
import type { ConfigSchema } from './schema.ts';

/**
 * What an emulated board boots, by the one boot rule over its flash as it stands.
 * The emulator does not apply its config at boot yet (see the report of issue 7), so
 * tests and tools judge its flash with this thin wrapper; no private state is touched.
 */
export function bootOfEmulator(emu: BoardEmulator, schema: ConfigSchema): BootSelection {
  const f = emu.flash;
  const bank = (i: number) => f.read(f.bankBase(i), f.bankSize);
  return selectBootImage(bank(0), bank(1), f.activeBank, { boardId: schema.boardId });
}

/** Puts an image into a bank of an emulated board directly (test and demo setup, as a factory programmer would). */
export function installImage(emu: BoardEmulator, bank: 0 | 1, image: Uint8Array, makeActive = true): void {
  const f = emu.flash;
  const base = f.bankBase(bank);
  const pages = Math.ceil(image.length / f.geometry.pageSize) * f.geometry.pageSize;
  f.erase(base, pages);
  f.program(base, image);
  if (makeActive) f.activeBank = bank;
}
