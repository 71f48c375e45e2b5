import { createActor } from 'xstate';
import { TestModel } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import { allStateNodes, allTransitions, type TransitionInfo } from '../../firmware/diagram.ts';
import { createModeMachine, faultBit, modeOf, type ModeEvent, type ModeSnapshot, type PassPlan } from '../../firmware/modes.ts';
import { missionParams, DEFAULT_LOOP_RATE_HZ } from '../../hil/mission/rig.ts';
import { encodeConfigImage } from '../../protocols/config-image.ts';
import { encodeCommand, PAYLOAD_MODES, parameterDef, type DecodedPacket, type PayloadMode } from '../../protocols/dictionary/index.ts';
import { CONFIG_GENERATION, createTestRig, planArgs, type TestRig } from './helpers.ts';

/**
 * Model-based tests of the assembled payload. xstate/graph's TestModel (what createTestModel builds) walks the
 * mode manager's statechart; for every distinct edge (source state, event, target state)
 * we take the shortest path to its source plus that edge and run it against the payload
 * firmware hosted on the four emulated boards (in-memory lines, simulated time). Each
 * event of a path is a real stimulus: a telecommand, a change of the bench world (beacon,
 * link), an emulator fault or temperature by SIM control, a board's power, or time. Each
 * step is checked from outside: the step's witness appears in TM (or in the payload's
 * status), and the mode the payload reports in TM at that point, and payload.mode() at
 * the end, are the model's. Coverage counts the state nodes and transition definitions
 * of the paths that ran and checked out on the bench.
 */

/** Machine parameters the rig flashes: short acquisition attempts, one retry, so paths stay short. */
const FLASHED = { ACQ_TIMEOUT_S: 2, ACQ_RETRIES: 1 };
const params = missionParams(DEFAULT_LOOP_RATE_HZ, FLASHED);
/** A pass plan of the model (only whether there is one matters to the machine). */
const plan: PassPlan = { station: 'beijing', latDeg: 40, lonDeg: 116.4, altM: 50, startS: 1, endS: 2, minElevationDeg: 15, tleLine1: 'l1', tleLine2: 'l2' };
/** When an uploaded plan starts and how long it runs (s from the upload). */
const PLAN_START_IN_S = 4;
const PLAN_LENGTH_S = 30;

const machine = createModeMachine();
const transitions = allTransitions(machine);
const DELAYED = [...new Set(transitions.map((t) => t.eventType).filter((e) => e.startsWith('xstate.after.')))];

/** A state node's path as a state value (for snapshot.matches, the public way to ask whether it is active). */
function valueOf(path: readonly string[]): string | Record<string, unknown> {
  return path.length === 1 ? path[0] : { [path[0]]: valueOf(path.slice(1)) };
}
const active = (s: ModeSnapshot, path: readonly string[]) => path.length === 0 || s.matches(valueOf(path) as never);

const EVENTS: ModeEvent[] = [
  { type: 'POWER_ON' },
  ...PAYLOAD_MODES.map((mode): ModeEvent => ({ type: 'SET_MODE', mode })),
  { type: 'SELF_TEST_OK' },
  { type: 'SELF_TEST_FAIL', board: 'apt' },
  { type: 'CONFIG_BANK_FAILED', bank: 'A', reason: 'CRC' },
  { type: 'CONFIG_LOADED', bank: 'A', generation: CONFIG_GENERATION, params },
  { type: 'CONFIG_DEFAULTS' },
  { type: 'PLAN_UPLOADED', plan },
  { type: 'PASS_START' },
  { type: 'PASS_END' },
  { type: 'ABORT_PASS' },
  { type: 'SLEW_DONE' },
  { type: 'BEACON_FOUND', xUrad: 300, yUrad: -200 },
  { type: 'FINE_LOCKED', errorUrad: 1 },
  { type: 'FINE_LOST', errorUrad: 9 },
  { type: 'TEMP_STABLE' },
  { type: 'TEMP_FAIL', tempC: 20, setpointC: 25 },
  { type: 'CAL_OK', errorPct: 0.4, iterations: 4 },
  { type: 'CAL_FAIL', errorPct: 7.5 },
  { type: 'RECALIBRATE' },
  { type: 'EMITTING' },
  { type: 'HELD' },
  { type: 'FAULT', fault: 'OVER_TEMPERATURE', action: 'SAFE', detail: 'qsrc hot' },
  { type: 'FAULT', fault: 'LOCK_LOST_TOO_LONG', action: 'REACQUIRE', detail: 'no lock' },
  { type: 'FAULT', fault: 'INTENSITY_DRIFT', action: 'RECALIBRATE', detail: 'laser degraded' },
  { type: 'FAULT', fault: 'BOARD_NOT_ANSWERING', action: 'RETRY', detail: 'lct power blip' },
  { type: 'FAULT_CLEARED', fault: 'OVER_TEMPERATURE' },
  { type: 'CLEAR_FAULTS' },
  { type: 'PARAMS_CHANGED', params },
  ...DELAYED.map((type) => ({ type }) as unknown as ModeEvent),
];

const hot = (s: ModeSnapshot) => (s.context.causesActive & faultBit('OVER_TEMPERATURE')) !== 0;
const inState = (s: ModeSnapshot, value: object) => s.matches(value as never);
const QKD = (v: object) => ({ ON: { PASS: { ENGAGED: { QKD: v } } } });
/** States where a timer of the machine runs out within seconds: only quick stimuli keep the bench in step there. */
const timed = (s: ModeSnapshot) => ['ACQUISITION', 'FINE_POINTING'].includes(modeOf(s)) || inState(s, QKD({ pointing: 'relocking' }));
/** Stimuli that take a second or more of bench time (FDIR persistence, the source's progress, the plan's end). */
const slow = (e: ModeEvent) => ['PASS_END', 'TEMP_STABLE', 'TEMP_FAIL', 'CAL_OK', 'CAL_FAIL', 'EMITTING', 'HELD'].includes(e.type) || (e.type === 'FAULT' && e.fault !== 'LOCK_LOST_TOO_LONG');

/** Where each stimulus can be applied on the bench so that the payload and the model stay in step (the model alone offers more). */
function feasible(s: ModeSnapshot, e: ModeEvent): boolean {
  // BOOT runs to STANDBY within milliseconds on its own: only its own events are steps there.
  if (modeOf(s) === 'BOOT') return ['SELF_TEST_OK', 'SELF_TEST_FAIL', 'CONFIG_BANK_FAILED', 'CONFIG_LOADED', 'CONFIG_DEFAULTS'].includes(e.type);
  if (timed(s) && slow(e) && !(e.type === 'FAULT' && e.fault === 'OVER_TEMPERATURE' && modeOf(s) === 'ACQUISITION')) return false;
  switch (e.type) {
    case 'SET_MODE':
      return e.mode !== modeOf(s); // "already in X" is refused by the TC handler before the machine sees it
    case 'EMITTING':
      return inState(s, QKD({ pointing: 'locked' })); // the source's gate needs fine lock
    case 'FINE_LOST':
      return !inState(s, QKD({ source: { running: 'emitting' } })); // the bench would also hold the source (HELD)
    case 'CAL_OK':
      return s.context.calAttempt === 1; // a source that failed its calibration fails the retry too
    case 'FAULT':
      if (e.fault === 'OVER_TEMPERATURE') return ['STANDBY', 'SAFE', 'ACQUISITION', 'QKD'].includes(modeOf(s)) && !hot(s);
      if (e.fault === 'LOCK_LOST_TOO_LONG') return inState(s, QKD({ pointing: 'relocking' }));
      if (e.fault === 'INTENSITY_DRIFT') return inState(s, QKD({ source: { running: 'emitting' } }));
      return ['STANDBY', 'SAFE'].includes(modeOf(s)); // BOARD_NOT_ANSWERING
    case 'FAULT_CLEARED':
      return hot(s);
    default:
      return true;
  }
}
/** Dead ends: the payload there runs on broken hardware or defaults; only the edge into them is tested. */
const deadEnd = (s: ModeSnapshot) => s.context.safeReason.startsWith('self-test') || (modeOf(s) !== 'OFF' && modeOf(s) !== 'BOOT' && s.context.configBank === null);

/** The traversal's abstraction: the state value and the context facts guards (and the feasibility above) read. */
const serializeState = (s: ModeSnapshot) =>
  JSON.stringify([
    s.value,
    s.context.plan !== null,
    s.context.faultsLatched !== 0,
    (s.context.faultsLatched & s.context.causesActive) !== 0,
    hot(s),
    modeOf(s) === 'ACQUISITION' ? s.context.attempt : 0,
    modeOf(s) === 'QKD' ? s.context.calAttempt : 0,
    deadEnd(s),
  ]);

// createTestModel refuses machines with invocations (ours invokes the hardware actors, inert
// here); TestModel itself traverses the machine the same way.
const model = new TestModel(machine as never, {
  events: ((s: ModeSnapshot) => (deadEnd(s) ? [] : EVENTS.filter((e) => s.can(e) && feasible(s, e)))) as never,
  serializeState: serializeState as never,
  limit: 20_000,
});

type Step = { event: ModeEvent; state: ModeSnapshot };
interface EdgePath {
  name: string;
  steps: Step[];
}

/** One path per distinct (source state, event, target state): the shortest path to the source, then the edge. */
function edgePaths(): EdgePath[] {
  const adjacency = model.getAdjacencyMap() as unknown as Record<string, { state: ModeSnapshot; transitions: Record<string, Step> }>;
  const shortest = new Map<string, Step[]>();
  // A TestModel path starts with the machine's initial state, reached by xstate.init: nothing to stimulate.
  for (const p of model.getShortestPaths({ allowDuplicatePaths: true })) shortest.set(serializeState(p.state as ModeSnapshot), (p.steps as unknown as Step[]).filter((s) => (s.event.type as string) !== 'xstate.init'));
  const seen = new Set<string>();
  const out: EdgePath[] = [];
  const bySourceDepth = Object.entries(adjacency).sort(([a], [b]) => (shortest.get(a)?.length ?? 1e9) - (shortest.get(b)?.length ?? 1e9));
  for (const [key, v] of bySourceDepth) {
    const head = shortest.get(key);
    if (!head) continue;
    for (const [evKey, t] of Object.entries(v.transitions)) {
      const edgeId = `${JSON.stringify(v.state.value)}|${evKey}|${JSON.stringify(t.state.value)}`;
      if (seen.has(edgeId)) continue;
      seen.add(edgeId);
      out.push({ name: `${modeOf(v.state)} ${JSON.stringify(v.state.value)} --${t.event.type}`, steps: [...head, t] });
    }
  }
  return out;
}

/** The transition definition a step took: the deepest active source handling the event whose targets the next state matches. */
function takenTransition(prev: ModeSnapshot, step: Step): TransitionInfo | undefined {
  const candidates = transitions
    .filter((t) => t.eventType === step.event.type && active(prev, t.source.path))
    .sort((a, b) => b.source.path.length - a.source.path.length);
  return candidates.find((t) =>
    t.targets.length === 0 ? JSON.stringify(prev.value) === JSON.stringify(step.state.value) : t.targets.every((g) => active(step.state, g.path)),
  );
}

// ------------------------------------------------------------------ stimuli on the bench

type Board = 'qsrc' | 'apt' | 'lct' | 'acs';

/** One path run on a fresh rig: the stimuli, the TM cursor witnesses are searched from, and the checks. */
class PathRun {
  readonly rig: TestRig;
  /** TM index after the last witness found. */
  private cursor = 0;
  private seq = 0;

  constructor(readonly path: EdgePath) {
    const has = (p: (e: ModeEvent) => boolean) => path.steps.some((s) => p(s.event));
    const extra: Record<string, number> = {};
    // Parameters the machine does not read (only actors do), flashed for the stimulus a path needs.
    if (has((e) => e.type === 'TEMP_FAIL')) extra.LASER_STABILISE_TIMEOUT_MS = 1000;
    if (has((e) => e.type === 'CAL_FAIL')) extra.LASER_TEMP_SETPOINT_C = 35; // 10 degC off optimum: beyond the modulator's range
    if (has((e) => e.type === 'FAULT' && e.fault === 'LOCK_LOST_TOO_LONG')) extra.LOCK_LOST_MAX_MS = 1000; // before the 2 s relock window
    // The station stays high over the bench's hour (the elevation profile peaks at clock 0).
    this.rig = createTestRig({ params: { ...FLASHED, ...extra }, passStartMs: -1_800_000, passEndMs: 1_800_000 });
    this.rig.world.beaconVisible = false;
    // Hardware set up before power-on for the stimuli that act at BOOT.
    if (has((e) => e.type === 'SELF_TEST_FAIL')) this.rig.boards.apt.emu.cutPower(-1);
    if (has((e) => e.type === 'CONFIG_BANK_FAILED' || e.type === 'CONFIG_DEFAULTS')) {
      const image = this.rig.flash.readBank('A');
      this.rig.flash.banks.A[21] ^= 0x40;
      if (!has((e) => e.type === 'CONFIG_DEFAULTS')) this.rig.flash.writeBank('B', 0, image);
    }
    if (has((e) => e.type === 'TEMP_FAIL')) this.sim('qsrc', 'TEC_FAIL');
  }

  private sim(board: Board, fault: string, on = true): void {
    this.rig.fault(board, fault, on);
  }

  private tc(name: string, args: Record<string, unknown> = {}): number {
    const seq = this.seq++;
    this.rig.sendTc(encodeCommand(name, args, { seq }));
    return seq;
  }

  private packets(): DecodedPacket[] {
    return this.rig.decoded();
  }

  /** Runs until a TM packet from the cursor on satisfies `pred` (1 ms steps); moves the cursor past it and returns its index. */
  private until(what: string, pred: (d: DecodedPacket) => boolean, limitMs: number): number {
    const find = () => this.packets().findIndex((d, i) => i >= this.cursor && pred(d));
    if (this.rig.runUntil(() => find() >= 0, limitMs, 1) < 0) throw new Error(`no ${what} within ${limitMs} ms (mode ${this.rig.payload.mode()})`);
    const i = find();
    this.cursor = i + 1;
    return i;
  }

  private event(name: string, limitMs: number, where: (f: Record<string, unknown>) => boolean = () => true): number {
    return this.until(name, (d) => d.kind === 'event' && d.name === name && where(d.fields ?? {}), limitMs);
  }

  /** A TC's end: its completion report (success or failure) names its sequence count. */
  private completed(seq: number): number {
    return this.until(`completion of TC ${seq}`, (d) => d.kind === 'report' && (d.name === 'VERIFY_COMPLETE_OK' || d.name === 'VERIFY_COMPLETE_FAIL') && d.fields?.tcSeq === seq, 100);
  }

  /** Runs until `pred` holds (a condition seen from outside with no TM of its own); null: no TM witness. */
  private condition(what: string, pred: () => boolean, limitMs: number): null {
    if (this.rig.runUntil(pred, limitMs, 1) < 0) throw new Error(`${what} not within ${limitMs} ms (mode ${this.rig.payload.mode()})`);
    return null;
  }

  /** Applies one step's stimulus and returns the index of its TM witness (null when its witness is a condition); `next` is the model's state after it. */
  stimulus(e: ModeEvent, next: ModeSnapshot): number | null {
    const rig = this.rig;
    const recovery = (fault: string) => this.event('RECOVERY_ACTION', 3000, (f) => f.fault === fault);
    switch (e.type) {
      case 'POWER_ON':
        rig.payload.powerOn();
        return this.event('MODE_CHANGED', 10, (f) => f.to === 'BOOT');
      case 'SET_MODE':
        return this.completed(this.tc('SET_MODE', { mode: e.mode }));
      case 'SELF_TEST_OK':
        return this.event('SELF_TEST_PASSED', 1500);
      case 'SELF_TEST_FAIL':
        return this.event('SELF_TEST_FAILED', 1500, (f) => f.board === 'apt');
      case 'CONFIG_BANK_FAILED':
        return this.event('CONFIG_CRC_FAILED', 100, (f) => f.bank === 'A');
      case 'CONFIG_LOADED':
        return this.event('CONFIG_LOADED', 100);
      case 'CONFIG_DEFAULTS':
        return this.event('CONFIG_DEFAULTS_USED', 100);
      case 'PLAN_UPLOADED':
        return this.completed(this.tc('UPLOAD_PASS_PLAN', planArgs(rig, PLAN_START_IN_S, PLAN_START_IN_S + PLAN_LENGTH_S)));
      case 'PASS_START':
        return this.event('MODE_CHANGED', (PLAN_START_IN_S + 1) * 1000, (f) => f.to === 'ACQUISITION');
      case 'PASS_END':
        return this.event('MODE_CHANGED', (PLAN_START_IN_S + PLAN_LENGTH_S + 1) * 1000, (f) => f.to === 'STANDBY');
      case 'ABORT_PASS':
        return this.completed(this.tc('ABORT_PASS'));
      case 'SLEW_DONE': {
        // The acs board reports the body on target; the port sees it on its next telemetry sample.
        const acs = rig.boards.acs.emu;
        this.condition('acs slew done', () => acs.readRegister('POINT_MODE') === 2 && acs.readRegister('SLEWING') === 0, 5000);
        rig.advanceMs(250);
        return null;
      }
      case 'BEACON_FOUND':
        rig.world.beaconVisible = true;
        return this.event('BEACON_ACQUIRED', 5000);
      case 'FINE_LOCKED':
        rig.world.beaconVisible = true;
        return this.event('FINE_LOCK_ACQUIRED', 2000);
      case 'FINE_LOST':
        rig.world.beaconVisible = false;
        return this.event('FINE_LOCK_LOST', 1000);
      case 'TEMP_STABLE':
        // Calibration starts by switching the laser and the pattern on at the qsrc board.
        return this.condition('laser switched on', () => rig.boards.qsrc.emu.readRegister('LASER_ENABLE') === 1, 10_000);
      case 'TEMP_FAIL':
        return this.event('LASER_TEMP_NOT_STABLE', 3000);
      case 'CAL_OK':
        return this.event('SOURCE_CALIBRATED', 5000);
      case 'CAL_FAIL':
        return this.event('SOURCE_CALIBRATION_FAILED', 5000);
      case 'RECALIBRATE':
        return this.completed(this.tc('CALIBRATE_SOURCE'));
      case 'EMITTING':
        rig.world.linkDropout = false;
        return this.condition('source emitting', () => rig.payload.status.emitting, 3000);
      case 'HELD':
        rig.world.linkDropout = true;
        return this.event('SOURCE_FRAME', 1000, (f) => f.reason === 'PAUSED_LINK');
      case 'FAULT':
        if (e.fault === 'OVER_TEMPERATURE') rig.ambient('qsrc', 38);
        else if (e.fault === 'INTENSITY_DRIFT') this.sim('qsrc', 'LASER_DEGRADED');
        else if (e.fault === 'BOARD_NOT_ANSWERING') {
          rig.boards.lct.emu.cutPower(200);
          const i = recovery(e.fault);
          // The reset brings the board back: it streams again before the next step.
          this.condition('lct answering again', () => rig.ports.lct.lastAnswerAgeMs() < 200, 2000);
          rig.advanceMs(500); // FDIR_PERSISTENCE good samples: the monitor is armed again
          return i;
        }
        // LOCK_LOST_TOO_LONG: the beacon is already gone (relocking); FDIR's limit is shorter than the relock window.
        return recovery(e.fault);
      case 'FAULT_CLEARED':
        rig.ambient('qsrc', 20);
        rig.advanceMs(600); // FDIR_PERSISTENCE good samples
        return null;
      case 'CLEAR_FAULTS':
        return this.completed(this.tc('CLEAR_FAULTS'));
      case 'PARAMS_CHANGED':
        return this.completed(this.tc('SET_PARAM', { paramId: parameterDef('WATCHDOG_TIMEOUT_MS').id, value: params.WATCHDOG_TIMEOUT_MS }));
      default: {
        // The delayed events (xstate.after.<delay>.<state>): time runs with the beacon gone.
        const type = (e as { type: string }).type;
        const delay = /^xstate\.after\.([^.]+)\./.exec(type)?.[1];
        rig.world.beaconVisible = false;
        // The last attempt's timeout reports the failure too, before the mode change.
        if (delay === 'acqTimeout') return this.event(modeOf(next) === 'STANDBY' ? 'ACQUISITION_FAILED' : 'ACQUISITION_TIMEOUT', FLASHED.ACQ_TIMEOUT_S * 1000 + 500);
        if (delay === 'relockWindow' || delay === 'fineLockTimeout') return this.event('RELOCK_FAILED', params.RELOCK_WINDOW_MS + 1500);
        throw new Error(`no stimulus for ${type}`);
      }
    }
  }

  /** TM index witnesses are searched from. */
  get mark(): number {
    return this.cursor;
  }

  /**
   * Checks the step from outside: where the model changes mode, the payload announces
   * that change (MODE_CHANGED from -> to, after the step began) at the witness's time;
   * where it does not, the last mode announced up to the witness (or up to now, for a
   * condition) is the model's. Returns a complaint, or null.
   */
  checkMode(from: PayloadMode, to: PayloadMode, witness: number | null, stepMark: number): string | null {
    const tm = this.packets();
    if (from !== to && witness !== null) {
      const at = this.rig.tm[witness].tMs;
      const i = tm.findIndex((d, k) => k >= stepMark && d.name === 'MODE_CHANGED' && d.fields!.from === from && d.fields!.to === to && this.rig.tm[k].tMs === at);
      if (i < 0) return `no MODE_CHANGED ${from}->${to} at ${tm[witness].name}`;
      this.cursor = Math.max(this.cursor, i + 1);
      return null;
    }
    let mode: PayloadMode = 'OFF';
    for (let i = 0; i <= (witness ?? tm.length - 1); i++) if (tm[i].name === 'MODE_CHANGED') mode = tm[i].fields!.to as PayloadMode;
    return mode === to ? null : `TM reports ${mode}, model ${to}`;
  }
}

// ------------------------------------------------------------------ the tests

const paths = edgePaths();
const stateNodes = allStateNodes(machine.root);
const coveredNodes = new Set<string>();
const coveredTransitions = new Set<string>();
const failures: string[] = [];

describe('mode manager, model-based on the assembled payload (xstate/graph TestModel)', () => {
  it('the model reaches every mode and yields a path per edge', () => {
    const modes = new Set(paths.flatMap((p) => p.steps.map((s) => modeOf(s.state))));
    expect([...modes].sort()).toEqual([...PAYLOAD_MODES].sort());
    expect(paths.length).toBeGreaterThan(50);
  });

  it('every path runs on the bench: each stimulus gets its witness and the reported mode is the model\'s', { timeout: 300_000 }, () => {
    for (const p of paths) {
      const run = new PathRun(p);
      let prev: ModeSnapshot = createActor(machine, { input: {} }).getSnapshot();
      const taken: string[] = [];
      const nodes = new Set<string>(stateNodes.filter((n) => active(prev, n.path)).map((n) => n.id));
      try {
        p.steps.forEach((step, i) => {
          const stepMark = run.mark;
          const witness = run.stimulus(step.event, step.state);
          const complaint = run.checkMode(modeOf(prev), modeOf(step.state), witness, stepMark);
          if (complaint) throw new Error(`step ${i} ${step.event.type}: ${complaint}`);
          const t = takenTransition(prev, step);
          if (t) taken.push(t.key);
          for (const n of stateNodes) if (active(step.state, n.path)) nodes.add(n.id);
          prev = step.state;
        });
        // Where the path ends in a state the payload holds, it is still there (BOOT moves on by itself).
        const end = modeOf(prev);
        if (end !== 'BOOT' && run.rig.payload.mode() !== end) throw new Error(`ends in ${run.rig.payload.mode()}, model ${end}`);
        for (const t of taken) coveredTransitions.add(t);
        for (const n of nodes) coveredNodes.add(n);
      } catch (e) {
        failures.push(`${p.name} [${p.steps.map((s) => s.event.type).join(' ')}]: ${(e as Error).message}`);
      } finally {
        run.rig.stop();
      }
    }
    expect(failures).toEqual([]);
  });

  it('covers every state and every transition of the mode manager on the bench', () => {
    const missingStates = stateNodes.filter((n) => !coveredNodes.has(n.id)).map((n) => n.id);
    const missingTransitions = transitions.filter((t) => !coveredTransitions.has(t.key)).map((t) => t.key);
    console.log(
      `mode manager coverage on the bench: states ${stateNodes.length - missingStates.length}/${stateNodes.length}, transitions ${transitions.length - missingTransitions.length}/${transitions.length} (${paths.length} paths)`,
    );
    expect(missingStates).toEqual([]);
    expect(missingTransitions).toEqual([]);
  });
});
