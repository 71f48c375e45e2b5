import { assign, emit, enqueueActions, fromCallback, setup, type EventObject, type SnapshotFrom } from 'xstate';
import { FAULT_IDS, RECOVERY_ACTIONS } from '../protocols/dictionary/defs/payload.ts';
import { PAYLOAD_MODES, type BoardName, type FailureCode, type PayloadMode } from '../protocols/dictionary/index.ts';
import type { BankName } from './hal.ts';
import { defaultParams, type Params } from './params.ts';

/**
 * The payload mode manager: one statechart for the modes of the payload and the
 * regions inside them. It is pure: hardware work happens in the invoked actors
 * (provided by payload.ts, bound to the HAL ports) and telemetry leaves as emitted
 * `tm.event` items that payload.ts encodes. With the default (inert) actors this is
 * the machine the model-based tests traverse and the docs diagram is drawn from.
 *
 *   OFF -> ON.BOOT -> ON.STANDBY -> ON.PASS.ACQUISITION -> ON.PASS.ENGAGED.FINE_POINTING
 *       -> ON.PASS.ENGAGED.QKD -> ON.STANDBY;  ON.SAFE from every powered mode on a fault.
 *
 * Each mode state carries its mode name as a tag; `modeOf(snapshot)` reads it.
 */

export type FaultId = (typeof FAULT_IDS)[number];
export type RecoveryAction = (typeof RECOVERY_ACTIONS)[number];

export interface PassPlan {
  station: string;
  latDeg: number;
  lonDeg: number;
  altM: number;
  startS: number;
  endS: number;
  minElevationDeg: number;
  tleLine1: string;
  tleLine2: string;
}

export interface ModeContext {
  mode: PayloadMode;
  params: Params;
  plan: PassPlan | null;
  /** Bank the configuration in force was loaded from; null before boot and on safe defaults. */
  configBank: BankName | null;
  configGeneration: number;
  /** Body pointing offset at which the beacon search centred the beacon: where the fine loop starts. */
  beaconOffsetUrad: { xUrad: number; yUrad: number };
  /** Beacon search attempt, 1-based. */
  attempt: number;
  /** Calibration attempt within the current QKD period, 1-based. */
  calAttempt: number;
  /** Faults raised and not yet cleared by CLEAR_FAULTS (bit i = FAULT_IDS[i]). */
  faultsLatched: number;
  /** Faults whose cause is still present, as the monitors see it. */
  causesActive: number;
  safeReason: string;
  /** Whether SAFE was last entered on an FDIR fault (an open source frame then ends FAULT, not STOPPED). */
  safeOnFault: boolean;
}

export type ModeEvent =
  | { type: 'POWER_ON' }
  | { type: 'SET_MODE'; mode: PayloadMode }
  | { type: 'SELF_TEST_OK' }
  | { type: 'SELF_TEST_FAIL'; board: BoardName }
  | { type: 'CONFIG_BANK_FAILED'; bank: BankName; reason: string }
  | { type: 'CONFIG_LOADED'; bank: BankName; generation: number; params: Params }
  | { type: 'CONFIG_DEFAULTS' }
  | { type: 'PLAN_UPLOADED'; plan: PassPlan }
  | { type: 'PASS_START' }
  | { type: 'PASS_END' }
  | { type: 'ABORT_PASS' }
  | { type: 'SLEW_DONE' }
  | { type: 'BEACON_FOUND'; xUrad: number; yUrad: number }
  | { type: 'FINE_LOCKED'; errorUrad: number }
  | { type: 'FINE_LOST'; errorUrad: number }
  | { type: 'TEMP_STABLE' }
  | { type: 'TEMP_FAIL'; tempC: number; setpointC: number }
  | { type: 'CAL_OK'; errorPct: number; iterations: number }
  | { type: 'CAL_FAIL'; errorPct: number }
  | { type: 'RECALIBRATE' }
  | { type: 'EMITTING' }
  | { type: 'HELD' }
  | { type: 'FAULT'; fault: FaultId; action: RecoveryAction; detail: string }
  | { type: 'FAULT_CLEARED'; fault: FaultId }
  | { type: 'CLEAR_FAULTS' }
  | { type: 'PARAMS_CHANGED'; params: Params };

/** Telemetry the machine asks for: a dictionary event by name with its fields. */
export interface TmEventEmitted {
  type: 'tm.event';
  name: string;
  fields: Record<string, unknown>;
}

export interface ActorInput {
  params: Params;
  plan: PassPlan | null;
  attempt: number;
  beaconOffsetUrad: { xUrad: number; yUrad: number };
}

/** What every invoked hardware actor gets from the context when it starts. */
const actorInput = ({ context: c }: { context: ModeContext }): ActorInput => ({ params: c.params, plan: c.plan, attempt: c.attempt, beaconOffsetUrad: c.beaconOffsetUrad });

/** Inert default for every hardware actor; payload.ts provides the real ones. */
const inert = fromCallback<EventObject, ActorInput>(() => undefined);

export const faultBit = (f: FaultId): number => 1 << FAULT_IDS.indexOf(f);
export function faultNames(mask: number): FaultId[] {
  return FAULT_IDS.filter((_, i) => mask & (1 << i));
}

const tmEvent = (name: string, fields: Record<string, unknown> = {}): TmEventEmitted => ({ type: 'tm.event', name, fields });

export function createModeMachine() {
  return setup({
    types: {
      context: {} as ModeContext,
      events: {} as ModeEvent,
      emitted: {} as TmEventEmitted,
      input: {} as { params?: Params } | undefined,
    },
    actors: {
      boot: inert,
      passStartTimer: inert,
      passEndTimer: inert,
      slew: inert,
      beaconSearch: inert,
      fineLoop: inert,
      tempControl: inert,
      calibration: inert,
      frameScheduler: inert,
      safing: inert,
      fdir: inert,
    },
    delays: {
      acqTimeout: ({ context }) => context.params.ACQ_TIMEOUT_S * 1000,
      relockWindow: ({ context }) => context.params.RELOCK_WINDOW_MS,
      /** Time fine pointing gets to lock after the beacon is found. */
      fineLockTimeout: ({ context }) => context.params.RELOCK_WINDOW_MS + 1000,
    },
    guards: {
      wantsBoot: ({ event }) => event.type === 'SET_MODE' && event.mode === 'BOOT',
      wantsOff: ({ event }) => event.type === 'SET_MODE' && event.mode === 'OFF',
      wantsSafe: ({ event }) => event.type === 'SET_MODE' && event.mode === 'SAFE',
      wantsStandby: ({ event }) => event.type === 'SET_MODE' && event.mode === 'STANDBY',
      wantsStandbyFaultsCleared: ({ context, event }) => event.type === 'SET_MODE' && event.mode === 'STANDBY' && context.faultsLatched === 0,
      wantsOffFaultsCleared: ({ context, event }) => event.type === 'SET_MODE' && event.mode === 'OFF' && context.faultsLatched === 0,
      wantsAcquisitionWithPlan: ({ context, event }) => event.type === 'SET_MODE' && event.mode === 'ACQUISITION' && context.plan !== null,
      hasPlan: ({ context }) => context.plan !== null,
      canRetryAcquisition: ({ context }) => context.attempt <= context.params.ACQ_RETRIES,
      canRetryCalibration: ({ context }) => context.calAttempt < 2,
      faultWantsSafe: ({ event }) => event.type === 'FAULT' && event.action === 'SAFE',
      faultWantsReacquire: ({ event }) => event.type === 'FAULT' && event.action === 'REACQUIRE',
      faultWantsRecalibrate: ({ event }) => event.type === 'FAULT' && event.action === 'RECALIBRATE',
    },
    actions: {
      enterMode: enqueueActions(({ context, enqueue }, params: { mode: PayloadMode }) => {
        if (context.mode === params.mode) return;
        enqueue.emit(tmEvent('MODE_CHANGED', { from: context.mode, to: params.mode }));
        enqueue.assign({ mode: params.mode });
      }),
      reportSelfTestPassed: emit(tmEvent('SELF_TEST_PASSED')),
      reportSelfTestFailed: enqueueActions(({ event, enqueue }) => {
        if (event.type !== 'SELF_TEST_FAIL') return;
        enqueue.emit(tmEvent('SELF_TEST_FAILED', { board: event.board }));
        enqueue.assign({ safeReason: `self-test failed: ${event.board}` });
      }),
      reportBankFailed: emit(({ event }) => tmEvent('CONFIG_CRC_FAILED', { bank: event.type === 'CONFIG_BANK_FAILED' ? event.bank : 'A' })),
      applyConfig: enqueueActions(({ event, enqueue }) => {
        if (event.type !== 'CONFIG_LOADED') return;
        enqueue.assign({ params: event.params, configBank: event.bank, configGeneration: event.generation });
        enqueue.emit(tmEvent('CONFIG_LOADED', { bank: event.bank, generation: event.generation }));
      }),
      applyDefaults: enqueueActions(({ enqueue }) => {
        enqueue.assign({ params: defaultParams(), configBank: null, configGeneration: 0 });
        enqueue.emit(tmEvent('CONFIG_DEFAULTS_USED'));
      }),
      storePlan: enqueueActions(({ event, enqueue }) => {
        if (event.type !== 'PLAN_UPLOADED') return;
        enqueue.assign({ plan: event.plan });
        enqueue.emit(tmEvent('PASS_PLAN_ACCEPTED', { station: event.plan.station, startS: event.plan.startS, endS: event.plan.endS }));
      }),
      dropPlan: assign({ plan: null }),
      storeParams: assign({ params: ({ context, event }) => (event.type === 'PARAMS_CHANGED' ? event.params : context.params) }),
      resetAttempts: assign({ attempt: 1 }),
      nextAttempt: assign({ attempt: ({ context }) => context.attempt + 1 }),
      reportAcquisitionStarted: emit(({ context }) => tmEvent('ACQUISITION_STARTED', { attempt: context.attempt })),
      reportAcquisitionTimeout: emit(({ context }) => tmEvent('ACQUISITION_TIMEOUT', { attempt: context.attempt })),
      reportAcquisitionFailed: emit(({ context }) => tmEvent('ACQUISITION_FAILED', { attempts: context.attempt })),
      reportBeaconAcquired: emit(({ context, event }) =>
        tmEvent('BEACON_ACQUIRED', { attempt: context.attempt, offsetUrad: event.type === 'BEACON_FOUND' ? Math.hypot(event.xUrad, event.yUrad) : 0 }),
      ),
      storeBeaconOffset: assign({
        beaconOffsetUrad: ({ context, event }) => (event.type === 'BEACON_FOUND' ? { xUrad: event.xUrad, yUrad: event.yUrad } : context.beaconOffsetUrad),
      }),
      reportFineLock: emit(({ event }) => tmEvent('FINE_LOCK_ACQUIRED', { errorUrad: event.type === 'FINE_LOCKED' ? event.errorUrad : 0 })),
      reportFineLost: emit(({ event }) => tmEvent('FINE_LOCK_LOST', { errorUrad: event.type === 'FINE_LOST' ? event.errorUrad : 0 })),
      reportRelockFailed: emit(tmEvent('RELOCK_FAILED')),
      resetCalibration: assign({ calAttempt: 1 }),
      nextCalibration: assign({ calAttempt: ({ context }) => context.calAttempt + 1 }),
      reportCalibrated: emit(({ event }) =>
        tmEvent('SOURCE_CALIBRATED', event.type === 'CAL_OK' ? { intensityErrorPct: event.errorPct, iterations: event.iterations } : { intensityErrorPct: 0, iterations: 0 }),
      ),
      reportTempNotStable: enqueueActions(({ event, enqueue }) => {
        if (event.type !== 'TEMP_FAIL') return;
        enqueue.emit(tmEvent('LASER_TEMP_NOT_STABLE', { tempC: event.tempC, setpointC: event.setpointC }));
        enqueue.assign({ safeReason: `laser at ${event.tempC.toFixed(2)} degC did not settle at ${event.setpointC} degC` });
      }),
      reportCalibrationFailed: enqueueActions(({ event, enqueue }) => {
        const errorPct = event.type === 'CAL_FAIL' ? event.errorPct : 0;
        enqueue.emit(tmEvent('SOURCE_CALIBRATION_FAILED', { intensityErrorPct: errorPct }));
        enqueue.assign({ safeReason: `source calibration failed twice (error ${errorPct.toFixed(2)} %)` });
      }),
      latchFault: assign(({ context, event }) =>
        event.type === 'FAULT'
          ? {
              faultsLatched: context.faultsLatched | faultBit(event.fault),
              causesActive: context.causesActive | faultBit(event.fault),
              safeReason: event.action === 'SAFE' ? `${event.fault}: ${event.detail}` : context.safeReason,
            }
          : {},
      ),
      noteCauseCleared: assign({
        causesActive: ({ context, event }) => (event.type === 'FAULT_CLEARED' ? context.causesActive & ~faultBit(event.fault) : context.causesActive),
      }),
      clearFaults: assign({ faultsLatched: ({ context }) => context.faultsLatched & context.causesActive }),
      noteCommandedSafe: assign({ safeReason: 'commanded by telecommand' }),
      noteSafeCause: assign({ safeOnFault: ({ event }) => event.type === 'FAULT' }),
      reportSafeEntered: emit(({ context }) => tmEvent('SAFE_ENTERED', { reason: context.safeReason.slice(0, 120) })),
      reportSafeExited: emit(tmEvent('SAFE_EXITED')),
    },
  }).createMachine({
    id: 'modeManager',
    context: ({ input }) => ({
      mode: 'OFF',
      params: input?.params ?? defaultParams(),
      plan: null,
      configBank: null,
      configGeneration: 0,
      beaconOffsetUrad: { xUrad: 0, yUrad: 0 },
      attempt: 1,
      calAttempt: 1,
      faultsLatched: 0,
      causesActive: 0,
      safeReason: '',
      safeOnFault: false,
    }),
    initial: 'OFF',
    on: {
      PARAMS_CHANGED: { actions: 'storeParams' },
    },
    states: {
      OFF: {
        tags: ['OFF'],
        entry: { type: 'enterMode', params: { mode: 'OFF' } },
        on: {
          POWER_ON: { target: 'ON.BOOT' },
          SET_MODE: { guard: 'wantsBoot', target: 'ON.BOOT' },
        },
      },
      ON: {
        initial: 'BOOT',
        invoke: { id: 'fdir', src: 'fdir', input: actorInput },
        on: {
          FAULT: [{ guard: 'faultWantsSafe', target: '.SAFE', actions: 'latchFault' }, { actions: 'latchFault' }],
          FAULT_CLEARED: { actions: 'noteCauseCleared' },
          CLEAR_FAULTS: { actions: 'clearFaults' },
          SET_MODE: { guard: 'wantsSafe', target: '.SAFE', actions: 'noteCommandedSafe' },
        },
        states: {
          BOOT: {
            tags: ['BOOT'],
            entry: { type: 'enterMode', params: { mode: 'BOOT' } },
            invoke: { id: 'boot', src: 'boot', input: actorInput },
            initial: 'selfTest',
            states: {
              selfTest: {
                on: {
                  SELF_TEST_OK: { target: 'loadingConfig', actions: 'reportSelfTestPassed' },
                  SELF_TEST_FAIL: { target: '#modeManager.ON.SAFE', actions: 'reportSelfTestFailed' },
                },
              },
              loadingConfig: {
                on: {
                  CONFIG_BANK_FAILED: { actions: 'reportBankFailed' },
                  CONFIG_LOADED: { target: '#modeManager.ON.STANDBY', actions: 'applyConfig' },
                  CONFIG_DEFAULTS: { target: '#modeManager.ON.STANDBY', actions: 'applyDefaults' },
                },
              },
            },
          },
          STANDBY: {
            tags: ['STANDBY'],
            entry: { type: 'enterMode', params: { mode: 'STANDBY' } },
            invoke: { id: 'passStartTimer', src: 'passStartTimer', input: actorInput },
            on: {
              PLAN_UPLOADED: { target: 'STANDBY', reenter: true, actions: 'storePlan' },
              PASS_START: { guard: 'hasPlan', target: 'PASS' },
              SET_MODE: [
                { guard: 'wantsAcquisitionWithPlan', target: 'PASS' },
                { guard: 'wantsOff', target: '#modeManager.OFF' },
              ],
            },
          },
          PASS: {
            initial: 'ACQUISITION',
            entry: 'resetAttempts',
            exit: 'dropPlan',
            invoke: { id: 'passEndTimer', src: 'passEndTimer', input: actorInput },
            on: {
              PASS_END: { target: 'STANDBY' },
              ABORT_PASS: { target: 'STANDBY' },
              SET_MODE: { guard: 'wantsStandby', target: 'STANDBY' },
            },
            states: {
              ACQUISITION: {
                tags: ['ACQUISITION'],
                entry: [{ type: 'enterMode', params: { mode: 'ACQUISITION' } }, 'reportAcquisitionStarted'],
                initial: 'slewing',
                after: {
                  acqTimeout: [
                    { guard: 'canRetryAcquisition', target: 'ACQUISITION', reenter: true, actions: ['reportAcquisitionTimeout', 'nextAttempt'] },
                    { target: '#modeManager.ON.STANDBY', actions: ['reportAcquisitionTimeout', 'reportAcquisitionFailed'] },
                  ],
                },
                states: {
                  slewing: {
                    invoke: { id: 'slew', src: 'slew', input: actorInput },
                    on: { SLEW_DONE: 'searching' },
                  },
                  searching: {
                    invoke: { id: 'beaconSearch', src: 'beaconSearch', input: actorInput },
                    on: { BEACON_FOUND: { target: '#modeManager.ON.PASS.ENGAGED', actions: ['storeBeaconOffset', 'reportBeaconAcquired'] } },
                  },
                },
              },
              ENGAGED: {
                initial: 'FINE_POINTING',
                invoke: { id: 'fineLoop', src: 'fineLoop', input: actorInput },
                on: {
                  FAULT: { guard: 'faultWantsReacquire', target: 'ACQUISITION', actions: ['latchFault', 'resetAttempts'] },
                },
                states: {
                  FINE_POINTING: {
                    tags: ['FINE_POINTING'],
                    entry: { type: 'enterMode', params: { mode: 'FINE_POINTING' } },
                    on: { FINE_LOCKED: { target: 'QKD', actions: 'reportFineLock' } },
                    after: { fineLockTimeout: { target: '#modeManager.ON.PASS.ACQUISITION', actions: ['reportRelockFailed', 'resetAttempts'] } },
                  },
                  QKD: {
                    tags: ['QKD'],
                    type: 'parallel',
                    entry: [{ type: 'enterMode', params: { mode: 'QKD' } }, 'resetCalibration'],
                    states: {
                      pointing: {
                        initial: 'locked',
                        states: {
                          locked: { on: { FINE_LOST: { target: 'relocking', actions: 'reportFineLost' } } },
                          relocking: {
                            on: { FINE_LOCKED: { target: 'locked', actions: 'reportFineLock' } },
                            after: { relockWindow: { target: '#modeManager.ON.PASS.ACQUISITION', actions: ['reportRelockFailed', 'resetAttempts'] } },
                          },
                        },
                      },
                      source: {
                        initial: 'stabilising',
                        on: {
                          FAULT: { guard: 'faultWantsRecalibrate', target: '.stabilising', actions: 'latchFault' },
                        },
                        states: {
                          stabilising: {
                            invoke: { id: 'tempControl', src: 'tempControl', input: actorInput },
                            on: {
                              TEMP_STABLE: 'calibrating',
                              TEMP_FAIL: { target: '#modeManager.ON.SAFE', actions: 'reportTempNotStable' },
                            },
                          },
                          calibrating: {
                            invoke: { id: 'calibration', src: 'calibration', input: actorInput },
                            on: {
                              CAL_OK: { target: 'running', actions: 'reportCalibrated' },
                              CAL_FAIL: [
                                { guard: 'canRetryCalibration', target: 'calibrating', reenter: true, actions: ['reportCalibrationFailed', 'nextCalibration'] },
                                { target: '#modeManager.ON.SAFE', actions: 'reportCalibrationFailed' },
                              ],
                            },
                          },
                          running: {
                            initial: 'held',
                            invoke: { id: 'frames', src: 'frameScheduler', input: actorInput },
                            on: { RECALIBRATE: 'calibrating' },
                            states: {
                              held: { on: { EMITTING: 'emitting' } },
                              emitting: { on: { HELD: 'held' } },
                            },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          SAFE: {
            tags: ['SAFE'],
            entry: [{ type: 'enterMode', params: { mode: 'SAFE' } }, 'noteSafeCause', 'reportSafeEntered'],
            invoke: { id: 'safing', src: 'safing', input: actorInput },
            on: {
              PLAN_UPLOADED: { actions: 'storePlan' },
              SET_MODE: [
                { guard: 'wantsStandbyFaultsCleared', target: 'STANDBY', actions: 'reportSafeExited' },
                { guard: 'wantsOffFaultsCleared', target: '#modeManager.OFF', actions: 'reportSafeExited' },
              ],
            },
          },
        },
      },
    },
  });
}

export type ModeMachine = ReturnType<typeof createModeMachine>;
export type ModeSnapshot = SnapshotFrom<ModeMachine>;

/** The payload mode a snapshot is in (from the mode tags). */
export function modeOf(s: { hasTag(tag: string): boolean }): PayloadMode {
  for (const m of PAYLOAD_MODES) if (s.hasTag(m)) return m;
  return 'OFF';
}

/** Why a SET_MODE the machine will not take is refused: the failure code and a sentence for ST01. */
export function explainRefusal(s: ModeSnapshot, to: PayloadMode): { code: FailureCode; detail: string } {
  const from = modeOf(s);
  const c = s.context;
  if (from === to) return { code: 'TRANSITION_NOT_ALLOWED', detail: `already in ${to}` };
  if (to === 'FINE_POINTING' || to === 'QKD') {
    return { code: 'TRANSITION_NOT_ALLOWED', detail: `${from} -> ${to} not allowed: ${to} is entered autonomously (${to === 'QKD' ? 'on fine lock' : 'on beacon acquisition'})` };
  }
  if (to === 'BOOT') return { code: 'TRANSITION_NOT_ALLOWED', detail: `${from} -> BOOT not allowed: BOOT only from OFF` };
  if (to === 'SAFE') return { code: 'TRANSITION_NOT_ALLOWED', detail: `${from} -> SAFE not allowed: payload is off` };
  if (to === 'ACQUISITION') {
    if (from !== 'STANDBY') return { code: 'MODE_NOT_ALLOWED', detail: `${from} -> ACQUISITION not allowed: only from STANDBY` };
    return { code: 'EXECUTION_FAILED', detail: 'STANDBY -> ACQUISITION not allowed: no pass plan uploaded' };
  }
  if (from === 'SAFE' && (to === 'STANDBY' || to === 'OFF') && c.faultsLatched !== 0) {
    return { code: 'FAULT_ACTIVE', detail: `SAFE -> ${to} not allowed: faults latched ${faultNames(c.faultsLatched).join(',')}; send CLEAR_FAULTS once the cause clears` };
  }
  if (to === 'STANDBY') {
    return { code: 'TRANSITION_NOT_ALLOWED', detail: `${from} -> STANDBY not allowed: ${from === 'OFF' ? 'boot first' : 'still booting'}` };
  }
  // to === 'OFF'
  return { code: 'TRANSITION_NOT_ALLOWED', detail: `${from} -> OFF not allowed: only from STANDBY or SAFE` };
}
