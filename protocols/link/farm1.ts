import type { Clcw } from './clcw.ts';
import type { ControlCommand } from './tc-frame.ts';

/**
 * FARM-1, the receiving end of COP-1 (CCSDS 232.1-B), as a pure reducer.
 * Sliding window of width W: positive window PW = W/2 ahead of V(R), negative window
 * NW = W/2 behind it. This model never runs out of buffer, so the Wait state is not
 * entered (the wait flag stays 0).
 */
export type FarmStateName = 'OPEN' | 'WAIT' | 'LOCKOUT';

export interface FarmState {
  state: FarmStateName;
  vcid: number;
  vr: number;
  lockout: boolean;
  wait: boolean;
  retransmit: boolean;
  farmBCounter: number;
  windowWidth: number;
}

export type FarmEvent = { kind: 'AD'; ns: number } | { kind: 'BD' } | { kind: 'BC'; command: ControlCommand };

export type FarmVerdict =
  | 'ACCEPT'
  | 'DISCARD_DUPLICATE'
  | 'DISCARD_GAP'
  | 'DISCARD_LOCKOUT'
  | 'ENTER_LOCKOUT'
  | 'CONTROL_EXECUTED'
  | 'CONTROL_IGNORED';

export interface FarmResult {
  state: FarmState;
  verdict: FarmVerdict;
  /** True when the frame's data is to be handed on (AD in sequence, or BD). */
  deliver: boolean;
}

export function initialFarmState(vcid: number, windowWidth = 20, vr = 0): FarmState {
  if (windowWidth < 2 || windowWidth > 254 || windowWidth % 2 !== 0) throw new RangeError(`FARM window width ${windowWidth} must be even, 2..254`);
  return { state: 'OPEN', vcid, vr: vr & 0xff, lockout: false, wait: false, retransmit: false, farmBCounter: 0, windowWidth };
}

export function farmStep(s: FarmState, e: FarmEvent): FarmResult {
  if (e.kind === 'BD') {
    return { state: { ...s, farmBCounter: (s.farmBCounter + 1) & 3 }, verdict: 'ACCEPT', deliver: true };
  }
  if (e.kind === 'BC') {
    const b = (s.farmBCounter + 1) & 3;
    if (e.command.kind === 'UNLOCK') {
      return { state: { ...s, state: 'OPEN', lockout: false, wait: false, retransmit: false, farmBCounter: b }, verdict: 'CONTROL_EXECUTED', deliver: false };
    }
    if (s.state === 'LOCKOUT') return { state: { ...s, farmBCounter: b }, verdict: 'CONTROL_IGNORED', deliver: false };
    return { state: { ...s, state: 'OPEN', vr: e.command.vr & 0xff, wait: false, retransmit: false, farmBCounter: b }, verdict: 'CONTROL_EXECUTED', deliver: false };
  }
  if (s.state === 'LOCKOUT') return { state: s, verdict: 'DISCARD_LOCKOUT', deliver: false };
  const ahead = (e.ns - s.vr + 256) & 0xff;
  const pw = s.windowWidth / 2;
  const nw = s.windowWidth / 2;
  if (ahead === 0) return { state: { ...s, vr: (s.vr + 1) & 0xff, retransmit: false }, verdict: 'ACCEPT', deliver: true };
  if (ahead < pw) return { state: { ...s, retransmit: true }, verdict: 'DISCARD_GAP', deliver: false };
  if (256 - ahead <= nw) return { state: s, verdict: 'DISCARD_DUPLICATE', deliver: false };
  return { state: { ...s, state: 'LOCKOUT', lockout: true }, verdict: 'ENTER_LOCKOUT', deliver: false };
}

export function farmClcw(s: FarmState, link: { noRfAvailable?: boolean; noBitLock?: boolean } = {}): Clcw {
  return {
    statusField: 0,
    copInEffect: 1,
    vcid: s.vcid,
    noRfAvailable: link.noRfAvailable ?? false,
    noBitLock: link.noBitLock ?? false,
    lockout: s.lockout,
    wait: s.wait,
    retransmit: s.retransmit,
    farmBCounter: s.farmBCounter,
    reportValue: s.vr,
  };
}
