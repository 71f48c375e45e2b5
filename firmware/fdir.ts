import { fromCallback, type EventObject } from 'xstate';
import type { BoardName } from '../protocols/dictionary/index.ts';
import { every, type ActorDeps } from './actor-kit.ts';
import { boardPorts } from './hal.ts';
import type { ActorInput, FaultId, ModeEvent, RecoveryAction } from './modes.ts';
import { checkBank, type Params } from './params.ts';

/**
 * Fault detection, isolation and recovery. Each monitor is sampled every FDIR tick;
 * a fault is raised after FDIR_PERSISTENCE consecutive violations and cleared after
 * as many consecutive good samples. The recovery table says what to do when it is
 * raised; once a fault has been recovered `maxRecoveries` times and is raised again,
 * the payload goes SAFE.
 */

export const FDIR_TICK_MS = 100;
/** A raised fault still present after this many ticks is raised again (retry failed). */
export const REARM_TICKS = 30;

export interface Violation {
  /** The event fields of FAULT_<id> (board, temperature, ...). */
  fields: Record<string, unknown>;
  detail: string;
}

export interface MonitorView {
  deps: ActorDeps;
  params: Params;
}

export interface RecoveryRule {
  fault: FaultId;
  /** The ST05 event raised; its severity comes from the dictionary. */
  event: string;
  action: RecoveryAction;
  maxRecoveries: number;
  check(v: MonitorView): Violation | null;
}

const boardTemps = (v: MonitorView): Array<{ board: BoardName; tempC: number }> => boardPorts(v.deps.ports).map((p) => ({ board: p.board, tempC: p.boardTempC() }));

/** The FDIR table. */
export const RECOVERY_TABLE: readonly RecoveryRule[] = [
  {
    fault: 'OVER_TEMPERATURE',
    event: 'FAULT_OVER_TEMPERATURE',
    action: 'SAFE',
    maxRecoveries: 0,
    check: (v) => {
      const hot = boardTemps(v).find((t) => t.tempC > v.params.TEMP_HIGH_LIMIT_C);
      return hot ? { fields: hot, detail: `${hot.board} at ${hot.tempC.toFixed(1)} degC > ${v.params.TEMP_HIGH_LIMIT_C}` } : null;
    },
  },
  {
    fault: 'UNDER_TEMPERATURE',
    event: 'FAULT_UNDER_TEMPERATURE',
    action: 'RECALIBRATE',
    maxRecoveries: 1,
    check: (v) => {
      const cold = boardTemps(v).find((t) => t.tempC < v.params.TEMP_LOW_LIMIT_C);
      return cold ? { fields: cold, detail: `${cold.board} at ${cold.tempC.toFixed(1)} degC < ${v.params.TEMP_LOW_LIMIT_C}` } : null;
    },
  },
  {
    fault: 'LOCK_LOST_TOO_LONG',
    event: 'FAULT_LOCK_LOST_TOO_LONG',
    action: 'REACQUIRE',
    maxRecoveries: 2,
    check: (v) => {
      const since = v.deps.readings.unlockedSinceMs;
      // Time engaged on the beacon without fine lock (the relock window normally acts first).
      if (since === null) return null;
      const durationMs = Math.round(v.deps.clock.now() - since);
      return durationMs > v.params.LOCK_LOST_MAX_MS ? { fields: { durationMs }, detail: `no fine lock for ${durationMs} ms` } : null;
    },
  },
  {
    fault: 'RNG_HEALTH',
    event: 'FAULT_RNG_HEALTH',
    action: 'SAFE',
    maxRecoveries: 0,
    check: (v) => {
      const failures = v.deps.ports.source.rngHealthFailures();
      return failures > v.params.RNG_MAX_FAILURES ? { fields: { failures: Math.min(failures, 0xffff) }, detail: `${failures} QRNG health failures` } : null;
    },
  },
  {
    fault: 'INTENSITY_DRIFT',
    event: 'FAULT_INTENSITY_DRIFT',
    action: 'RECALIBRATE',
    maxRecoveries: 3,
    check: (v) => {
      if (!v.deps.status().emitting) return null;
      const mu = v.params.MU_SIGNAL;
      const driftPct = ((v.deps.ports.source.monitorSignalMu() - mu) / mu) * 100;
      return Math.abs(driftPct) > v.params.INTENSITY_DRIFT_MAX_PCT ? { fields: { driftPct }, detail: `signal intensity off by ${driftPct.toFixed(1)} %` } : null;
    },
  },
  {
    fault: 'CONFIG_CRC',
    event: 'FAULT_CONFIG_CRC',
    action: 'RETRY',
    maxRecoveries: 1,
    check: (v) => {
      // Scrubs the bank the next boot will use (only when running on a flashed configuration).
      if (v.deps.status().configBank === null) return null;
      const bank = v.deps.ports.config.activeBank();
      const c = checkBank(v.deps.ports.config, bank);
      return c.ok ? null : { fields: { bank }, detail: `bank ${bank}: ${c.reason}` };
    },
  },
  {
    fault: 'BOARD_NOT_ANSWERING',
    event: 'FAULT_BOARD_NOT_ANSWERING',
    action: 'RETRY',
    maxRecoveries: 2,
    check: (v) => {
      const silent = boardPorts(v.deps.ports).find((p) => p.lastAnswerAgeMs() > v.params.WATCHDOG_TIMEOUT_MS);
      return silent ? { fields: { board: silent.board }, detail: `${silent.board} silent for more than ${v.params.WATCHDOG_TIMEOUT_MS} ms` } : null;
    },
  },
];

interface MonitorState {
  bad: number;
  good: number;
  raised: boolean;
  /** Recoveries taken, per subject (the board for per-board faults). */
  recoveries: Map<string, number>;
  ticksSinceRaise: number;
  escalated: boolean;
}

/** Local part of a RETRY: reset the silent board, or boot from the other bank next time. */
function retryLocally(deps: ActorDeps, rule: RecoveryRule, v: Violation): boolean {
  if (rule.fault === 'BOARD_NOT_ANSWERING') {
    const board = v.fields.board as BoardName;
    boardPorts(deps.ports)
      .find((p) => p.board === board)
      ?.reset();
    return true;
  }
  if (rule.fault === 'CONFIG_CRC') {
    const other = deps.ports.config.activeBank() === 'A' ? 'B' : 'A';
    if (!checkBank(deps.ports.config, other).ok) return false;
    deps.ports.config.selectBank(other);
    return true;
  }
  return true;
}

export function fdirActor(deps: ActorDeps) {
  return fromCallback<EventObject, ActorInput>(({ input, sendBack }) => {
    const states = new Map<FaultId, MonitorState>(RECOVERY_TABLE.map((r) => [r.fault, { bad: 0, good: 0, raised: false, recoveries: new Map(), ticksSinceRaise: 0, escalated: false }]));
    const view: MonitorView = { deps, params: input.params };
    const raise = (rule: RecoveryRule, m: MonitorState, v: Violation) => {
      const subject = String(v.fields.board ?? v.fields.bank ?? '');
      const taken = m.recoveries.get(subject) ?? 0;
      let action: RecoveryAction = taken >= rule.maxRecoveries ? 'SAFE' : rule.action;
      if (action === 'RETRY' && !retryLocally(deps, rule, v)) action = 'SAFE';
      if (action === 'SAFE') m.escalated = true;
      else m.recoveries.set(subject, taken + 1);
      m.raised = true;
      m.ticksSinceRaise = 0;
      deps.event(rule.event, v.fields);
      deps.event('RECOVERY_ACTION', { fault: rule.fault, action });
      sendBack({ type: 'FAULT', fault: rule.fault, action, detail: v.detail } satisfies ModeEvent);
    };
    return every(deps.clock, FDIR_TICK_MS, () => {
      view.params = deps.params();
      const persistence = view.params.FDIR_PERSISTENCE;
      for (const rule of RECOVERY_TABLE) {
        const m = states.get(rule.fault)!;
        const v = rule.check(view);
        if (v) {
          m.bad++;
          m.good = 0;
          if (!m.raised && m.bad >= persistence) raise(rule, m, v);
          else if (m.raised && !m.escalated && ++m.ticksSinceRaise >= REARM_TICKS) raise(rule, m, v);
        } else {
          m.bad = 0;
          m.good++;
          if (m.raised && m.good >= persistence) {
            m.raised = false;
            m.escalated = false;
            sendBack({ type: 'FAULT_CLEARED', fault: rule.fault } satisfies ModeEvent);
          }
        }
      }
      return true;
    });
  });
}
