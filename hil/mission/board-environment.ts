import type { BoardEmulator } from '../../boards/emulator/index.ts';
import type { SimControl } from '../../protocols/board-link.ts';
import type { Bench } from '../bench/bench.ts';
import type { RequestEngine } from '../request-engine.ts';

/** The body attitude the acs board holds: the commanded target and the actual attitude, mrad. */
export interface AttitudeMrad {
  targetX: number;
  targetY: number;
  x: number;
  y: number;
}

/**
 * The only ways the world touches the boards: what it reads of them (attitude, mirror)
 * and what it sets in their environment (beacon on the camera, link losses). In process
 * these call the emulators directly; in lockstep a board-link implementation sends SIM
 * requests and reads registers instead, so the world does not know which.
 */
export interface BoardEnvironment {
  /** acs: TARGET_X/Y_MRAD and ATT_X/Y_MRAD (read in that order). */
  attitudeMrad(): AttitudeMrad;
  /** apt: FSM_POS_X/Y_URAD, the fast-steering mirror's position. */
  fsmPositionUrad(): { x: number; y: number };
  /** apt: the beacon on the camera, relative to the mirror's zero (SIM BEACON). */
  setBeacon(xUrad: number, yUrad: number, visible: boolean): void;
  /** apt: loss of the beacon's path to the camera, dB (sets the camera signal). */
  setBeaconLossDb(lossDb: number): void;
  /** lct: loss of the laser-terminal link and whether it is cut (SIM LINK). */
  setLinkLoss(lossDb: number, dropout: boolean): void;
}

/** The board environment of in-process emulators. */
export function inProcessEnvironment(boards: Record<'acs' | 'apt' | 'lct', { emu: BoardEmulator }>): BoardEnvironment {
  const acs = boards.acs.emu;
  const apt = boards.apt.emu;
  const lct = boards.lct.emu;
  return {
    attitudeMrad: () => ({
      targetX: acs.readRegister('TARGET_X_MRAD'),
      targetY: acs.readRegister('TARGET_Y_MRAD'),
      x: acs.readRegister('ATT_X_MRAD'),
      y: acs.readRegister('ATT_Y_MRAD'),
    }),
    fsmPositionUrad: () => ({ x: apt.readRegister('FSM_POS_X_URAD'), y: apt.readRegister('FSM_POS_Y_URAD') }),
    setBeacon: (xUrad, yUrad, visible) => void apt.applySim({ kind: 'BEACON', xUrad, yUrad, visible }),
    // Set in place, not by applySim: SIM LINK would also step the apt's models to now
    // first, and the passes' recorded results (TM bytes, key) come from this order.
    setBeaconLossDb: (lossDb) => {
      apt.env.link.lossDb = lossDb;
    },
    setLinkLoss: (lossDb, dropout) => void lct.applySim({ kind: 'LINK', lossDb, dropout }),
  };
}

/**
 * The board environment over the board link, for boards that are not emulators on the
 * bench's own clock (lockstep hosts, emulator processes on ptys or TCP): the world's
 * settings are SIM requests through each board's request engine (callback face), each
 * kind coalesced by key so a line slower than the world keeps only the newest value
 * queued; what it reads are the engines' latest values (the telemetry stream, and the
 * acs target from the answer to the payload's own write).
 */
export function boardLinkEnvironment(boards: Record<'acs' | 'apt' | 'lct', { client: RequestEngine }>): BoardEnvironment {
  const acs = boards.acs.client;
  const apt = boards.apt.client;
  const lct = boards.lct.client;
  const sim = (engine: RequestEngine, key: string, ctrl: SimControl) => engine.request({ op: 'SIM', sim: ctrl }, undefined, key);
  return {
    attitudeMrad: () => ({ targetX: acs.value('TARGET_X_MRAD'), targetY: acs.value('TARGET_Y_MRAD'), x: acs.value('ATT_X_MRAD'), y: acs.value('ATT_Y_MRAD') }),
    fsmPositionUrad: () => ({ x: apt.value('FSM_POS_X_URAD'), y: apt.value('FSM_POS_Y_URAD') }),
    setBeacon: (xUrad, yUrad, visible) => sim(apt, 'env:beacon', { kind: 'BEACON', xUrad, yUrad, visible }),
    // The apt's SIM LINK is the beacon path's loss (its camera signal); it is never cut.
    setBeaconLossDb: (lossDb) => sim(apt, 'env:link', { kind: 'LINK', lossDb, dropout: false }),
    setLinkLoss: (lossDb, dropout) => sim(lct, 'env:link', { kind: 'LINK', lossDb, dropout }),
  };
}

/**
 * Every board of `bench` an in-process emulator on the bench's own SimClock (no lockstep
 * hosts): a world may then reach the emulators directly and run time in a plain loop.
 */
export function sharesClock(bench: Bench): boolean {
  return bench.inProcess && bench.lockstepQuantumMs === null;
}

/**
 * The board environment of the acs, apt and lct on `bench`: the emulators themselves when
 * they share the bench's clock (the fast path, which reads live registers: what the
 * in-process figures were recorded with), else the board link (lockstep hosts, emulator
 * processes on ptys), so a world on any simulated-time bench is the same code.
 */
export function benchEnvironment(bench: Bench): BoardEnvironment {
  const board = (n: 'acs' | 'apt' | 'lct') => bench.board(n);
  if (sharesClock(bench)) {
    const emu = (n: 'acs' | 'apt' | 'lct') => ({ emu: board(n).emulator! });
    return inProcessEnvironment({ acs: emu('acs'), apt: emu('apt'), lct: emu('lct') });
  }
  const client = (n: 'acs' | 'apt' | 'lct') => ({ client: board(n).driver.engine });
  return boardLinkEnvironment({ acs: client('acs'), apt: client('apt'), lct: client('lct') });
}
