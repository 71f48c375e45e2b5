import type { Clock } from '../clock.ts';
import { type BoardName, isBoardName, loadBoardDefinition } from '../definitions.ts';
import { BoardEmulator, type EmulatorOptions, type ModelFactory } from './core.ts';
import { acsModel, aptModel, lctModel, qsrcModel } from './models.ts';

export const MODELS: Record<BoardName, ModelFactory> = { qsrc: qsrcModel, apt: aptModel, lct: lctModel, acs: acsModel };

/** Builds the emulator of a named board on a clock. */
export function createEmulator(name: string, opts: EmulatorOptions & { clock: Clock }): BoardEmulator {
  if (!isBoardName(name)) throw new Error(`no emulator for board '${name}'`);
  return new BoardEmulator(loadBoardDefinition(name), MODELS[name], opts);
}

export { BoardEmulator, defaultEnvironment } from './core.ts';
export type { EmulatorOptions, Environment, PersistentState, PhysicsContext, PhysicsModel } from './core.ts';
