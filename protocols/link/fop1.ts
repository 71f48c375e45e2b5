import type { Clcw } from './clcw.ts';
import type { ControlCommand } from './tc-frame.ts';

/**
 * FOP-1, the sending end of COP-1 (CCSDS 232.1-B), as a pure reducer: (state, event)
 * -> (state, actions). Time is passed in with each event (nowMs); the reducer only
 * asks for a timer by setting `timerDeadlineMs`.
 *
 * Go-back-N: up to `windowK` AD frames outstanding; all unacknowledged frames are sent
 * again when the CLCW retransmit flag is raised or timer T1 runs out. Recovery:
 * - CLCW lockout -> alert, send BC Unlock until the CLCW shows the lockout cleared,
 *   then send all unacknowledged frames again;
 * - CLCW N(R) outside [NN(R), V(S)] (the FARM lost its state) -> alert, send BC
 *   Set V(R) = NN(R) until N(R) is valid again, then send the frames again;
 * - T1 expired `transmissionLimit` times without progress -> alert, SUSPENDED until a
 *   CLCW shows the link is back, which resumes retransmission.
 * Unacknowledged frames are never dropped, so every accepted request is delivered once.
 */
export type FopStateName = 'ACTIVE' | 'RETRANSMIT' | 'INIT_UNLOCK' | 'INIT_SET_VR' | 'SUSPENDED';

export interface FopConfig {
  windowK: number;
  t1Ms: number;
  transmissionLimit: number;
}

export const DEFAULT_FOP_CONFIG: FopConfig = { windowK: 10, t1Ms: 2000, transmissionLimit: 5 };

export interface SentFrame {
  ns: number;
  data: Uint8Array;
}

export interface FopState {
  state: FopStateName;
  vcid: number;
  config: FopConfig;
  /** V(S): N(S) of the next new AD frame. */
  vs: number;
  /** NN(R): the oldest unacknowledged N(S). */
  nnr: number;
  sent: readonly SentFrame[];
  waitQueue: readonly Uint8Array[];
  timerDeadlineMs: number | null;
  transmissionCount: number;
}

export type FopEvent =
  | { type: 'SEND'; data: Uint8Array; nowMs: number }
  | { type: 'CLCW'; clcw: Clcw; nowMs: number }
  | { type: 'TICK'; nowMs: number };

export type FopAlert = 'LOCKOUT' | 'NNR_INVALID' | 'T1_LIMIT';

export type FopAction =
  | { type: 'TRANSMIT_AD'; ns: number; data: Uint8Array; retransmission: boolean }
  | { type: 'TRANSMIT_BC'; command: ControlCommand }
  | { type: 'ACKNOWLEDGED'; frames: SentFrame[] }
  | { type: 'ALERT'; reason: FopAlert }
  | { type: 'RECOVERED'; from: FopStateName };

export interface FopResult {
  state: FopState;
  actions: FopAction[];
}

export function initialFopState(vcid: number, config: Partial<FopConfig> = {}, vs = 0): FopState {
  const c = { ...DEFAULT_FOP_CONFIG, ...config };
  if (c.windowK < 1 || c.windowK > 127) throw new RangeError(`FOP window ${c.windowK} outside 1..127`);
  return { state: 'ACTIVE', vcid, config: c, vs: vs & 0xff, nnr: vs & 0xff, sent: [], waitQueue: [], timerDeadlineMs: null, transmissionCount: 0 };
}

/** True when nothing is queued or waiting for acknowledgement. */
export function fopIdle(s: FopState): boolean {
  return s.sent.length === 0 && s.waitQueue.length === 0;
}

function retransmitAll(s: FopState, actions: FopAction[], nowMs: number): FopState {
  for (const f of s.sent) actions.push({ type: 'TRANSMIT_AD', ns: f.ns, data: f.data, retransmission: true });
  return { ...s, timerDeadlineMs: s.sent.length > 0 ? nowMs + s.config.t1Ms : null };
}

/** Sends new frames from the wait queue while the window allows. */
function pump(s: FopState, actions: FopAction[], nowMs: number): FopState {
  if (s.state !== 'ACTIVE' && s.state !== 'RETRANSMIT') return s;
  if (s.waitQueue.length === 0 || s.sent.length >= s.config.windowK) return s;
  const sent = [...s.sent];
  const wait = [...s.waitQueue];
  let vs = s.vs;
  while (wait.length > 0 && sent.length < s.config.windowK) {
    const data = wait.shift() as Uint8Array;
    sent.push({ ns: vs, data });
    actions.push({ type: 'TRANSMIT_AD', ns: vs, data, retransmission: false });
    vs = (vs + 1) & 0xff;
  }
  return { ...s, sent, waitQueue: wait, vs, timerDeadlineMs: s.timerDeadlineMs ?? nowMs + s.config.t1Ms };
}

function bcFor(s: FopState): ControlCommand {
  return s.state === 'INIT_UNLOCK' ? { kind: 'UNLOCK' } : { kind: 'SET_VR', vr: s.nnr };
}

function restartBcIfStopped(s: FopState, actions: FopAction[], nowMs: number): FopResult {
  if (s.timerDeadlineMs !== null) return { state: s, actions };
  actions.push({ type: 'TRANSMIT_BC', command: bcFor(s) });
  return { state: { ...s, transmissionCount: 1, timerDeadlineMs: nowMs + s.config.t1Ms }, actions };
}

export function fopStep(s: FopState, e: FopEvent): FopResult {
  const actions: FopAction[] = [];
  if (e.type === 'SEND') {
    const next = pump({ ...s, waitQueue: [...s.waitQueue, e.data] }, actions, e.nowMs);
    return { state: next, actions };
  }
  if (e.type === 'TICK') {
    if (s.timerDeadlineMs === null || e.nowMs < s.timerDeadlineMs) return { state: s, actions };
    if (s.state === 'INIT_UNLOCK' || s.state === 'INIT_SET_VR') {
      if (s.transmissionCount >= s.config.transmissionLimit) {
        // Stop burning sequence numbers into a dead link; the next CLCW restarts the attempt.
        actions.push({ type: 'ALERT', reason: 'T1_LIMIT' });
        return { state: { ...s, timerDeadlineMs: null }, actions };
      }
      actions.push({ type: 'TRANSMIT_BC', command: bcFor(s) });
      return { state: { ...s, transmissionCount: s.transmissionCount + 1, timerDeadlineMs: e.nowMs + s.config.t1Ms }, actions };
    }
    if (s.state === 'SUSPENDED') return { state: { ...s, timerDeadlineMs: null }, actions };
    if (s.transmissionCount >= s.config.transmissionLimit) {
      actions.push({ type: 'ALERT', reason: 'T1_LIMIT' });
      return { state: { ...s, state: 'SUSPENDED', timerDeadlineMs: null }, actions };
    }
    const next = retransmitAll({ ...s, state: 'RETRANSMIT', transmissionCount: s.transmissionCount + 1 }, actions, e.nowMs);
    return { state: next, actions };
  }
  // CLCW
  const c = e.clcw;
  if (c.vcid !== s.vcid || c.copInEffect !== 1) return { state: s, actions };
  const now = e.nowMs;
  if (c.lockout) {
    if (s.state === 'INIT_UNLOCK') return restartBcIfStopped(s, actions, now);
    actions.push({ type: 'ALERT', reason: 'LOCKOUT' }, { type: 'TRANSMIT_BC', command: { kind: 'UNLOCK' } });
    return { state: { ...s, state: 'INIT_UNLOCK', transmissionCount: 1, timerDeadlineMs: now + s.config.t1Ms }, actions };
  }
  const nr = c.reportValue;
  const outstanding = (s.vs - s.nnr + 256) & 0xff;
  const acked = (nr - s.nnr + 256) & 0xff;
  if (acked > outstanding) {
    if (s.state === 'INIT_SET_VR') return restartBcIfStopped(s, actions, now);
    actions.push({ type: 'ALERT', reason: 'NNR_INVALID' }, { type: 'TRANSMIT_BC', command: { kind: 'SET_VR', vr: s.nnr } });
    return { state: { ...s, state: 'INIT_SET_VR', transmissionCount: 1, timerDeadlineMs: now + s.config.t1Ms }, actions };
  }
  let next: FopState = s;
  if (acked > 0) {
    const done = s.sent.slice(0, acked);
    actions.push({ type: 'ACKNOWLEDGED', frames: done });
    const rest = s.sent.slice(acked);
    next = { ...next, sent: rest, nnr: nr, transmissionCount: 0, timerDeadlineMs: rest.length > 0 ? now + s.config.t1Ms : null };
  }
  if (next.state === 'INIT_UNLOCK' || next.state === 'INIT_SET_VR' || next.state === 'SUSPENDED') {
    actions.push({ type: 'RECOVERED', from: next.state });
    next = retransmitAll({ ...next, state: 'RETRANSMIT', transmissionCount: 0 }, actions, now);
  } else if (c.retransmit && next.sent.length > 0) {
    if (next.state === 'ACTIVE' || acked > 0) {
      next = retransmitAll({ ...next, state: 'RETRANSMIT', transmissionCount: next.transmissionCount + 1 }, actions, now);
    }
  } else if (!c.retransmit) {
    next = { ...next, state: 'ACTIVE' };
  }
  next = pump(next, actions, now);
  return { state: next, actions };
}
