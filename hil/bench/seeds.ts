import { BOARD_NAMES, type BoardName } from '../../boards/definitions.ts';

/** A counter-based hash of (seed, salt): independent seeds for the parts of one run. */
export function seedOf(seed: number, salt: number): number {
  let h = (seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The seed of a board's emulator on a bench run with `seed`, wherever the emulator runs
 * (in-process or in its own process), so every line kind draws the same noise.
 * Salts 10.. by board order (qsrc, apt, lct, acs): what the mission rig always used.
 */
export function boardSeed(seed: number, board: BoardName): number {
  return seedOf(seed, 10 + BOARD_NAMES.indexOf(board));
}
