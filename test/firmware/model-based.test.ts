import { createActor, SimulatedClock, type AnyStateNode } from 'xstate';
import { getAdjacencyMap, getShortestPaths, type StatePath } from 'xstate/graph';
import { afterAll, describe, expect, it } from 'vitest';
import { allStateNodes, allTransitions, transitionKey } from '../../firmware/diagram.ts';
import { createModeMachine, modeOf, type ModeEvent, type ModeSnapshot, type PassPlan, type TmEventEmitted } from '../../firmware/modes.ts';
import { defaultParams } from '../../firmware/params.ts';
import { TmWriter } from '../../firmware/telemetry.ts';
import { decodePacket, PAYLOAD_MODES } from '../../protocols/dictionary/index.ts';

/**
 * Model-based tests of the mode manager: xstate/graph enumerates the reachable
 * (state, event) pairs; for every edge we build the shortest path to its source state
 * plus that edge, replay it on a real actor (simulated clock for the delayed
 * transitions), and check the end state and the telemetry it emitted. Coverage of
 * state nodes and transition definitions is measured from what the actors actually
 * took (inspection microsteps), not from the model, and printed.
 */

const machine = createModeMachine();
const plan: PassPlan = { station: 'beijing', latDeg: 40, lonDeg: 116.4, altM: 50, startS: 100, endS: 400, minElevationDeg: 15, tleLine1: 'l1', tleLine2: 'l2' };
const params = defaultParams();

const EVENTS: ModeEvent[] = [
  { type: 'POWER_ON' },
  ...PAYLOAD_MODES.map((mode): ModeEvent => ({ type: 'SET_MODE', mode })),
  { type: 'SELF_TEST_OK' },
  { type: 'SELF_TEST_FAIL', board: 'apt' },
  { type: 'CONFIG_BANK_FAILED', bank: 'A', reason: 'CRC' },
  { type: 'CONFIG_LOADED', bank: 'B', generation: 3, params },
  { type: 'CONFIG_DEFAULTS' },
  { type: 'PLAN_UPLOADED', plan },
  { type: 'PASS_START' },
  { type: 'PASS_END' },
  { type: 'ABORT_PASS' },
  { type: 'SLEW_DONE' },
  { type: 'BEACON_FOUND', xUrad: 640, yUrad: 0 },
  { type: 'FINE_LOCKED', errorUrad: 1.2 },
  { type: 'FINE_LOST', errorUrad: 9 },
  { type: 'TEMP_STABLE' },
  { type: 'TEMP_FAIL', tempC: 20, setpointC: 25 },
  { type: 'CAL_OK', errorPct: 0.4, iterations: 4 },
  { type: 'CAL_FAIL', errorPct: 7.5 },
  { type: 'RECALIBRATE' },
  { type: 'EMITTING' },
  { type: 'HELD' },
  { type: 'FAULT', fault: 'OVER_TEMPERATURE', action: 'SAFE', detail: 'qsrc at 41 degC' },
  { type: 'FAULT', fault: 'LOCK_LOST_TOO_LONG', action: 'REACQUIRE', detail: 'no lock 10 s' },
  { type: 'FAULT', fault: 'INTENSITY_DRIFT', action: 'RECALIBRATE', detail: 'drift 6 %' },
  { type: 'FAULT', fault: 'BOARD_NOT_ANSWERING', action: 'RETRY', detail: 'lct silent' },
  { type: 'FAULT_CLEARED', fault: 'OVER_TEMPERATURE' },
  { type: 'CLEAR_FAULTS' },
  { type: 'PARAMS_CHANGED', params },
];

/** Abstraction for the traversal: the state value and the context facts guards read. */
const serializeState = (s: ModeSnapshot) =>
  JSON.stringify([s.value, s.context.plan !== null, s.context.faultsLatched !== 0, (s.context.faultsLatched & s.context.causesActive) !== 0, s.context.attempt, s.context.calAttempt]);
/** The events a state reacts to: the list above plus its delayed (after) events, each only where it does something. */
function eventsOf(s: ModeSnapshot): ModeEvent[] {
  const delayed = (s as unknown as { _nodes: AnyStateNode[] })._nodes.flatMap((n) =>
    [...n.transitions.keys()].filter((k) => k.startsWith('xstate.after.')).map((type) => ({ type }) as unknown as ModeEvent),
  );
  return [...EVENTS, ...delayed].filter((e) => s.can(e));
}
const traversal = { events: eventsOf as never, serializeState: serializeState as never, limit: 20_000 };

type Path = StatePath<ModeSnapshot, ModeEvent>;

interface RunResult {
  end: ModeSnapshot;
  emitted: TmEventEmitted[];
  tm: Uint8Array[];
  nodes: Set<string>;
  transitions: Set<unknown>;
}

/** Replays a path's events on a real actor; delayed events fire by advancing the simulated clock. */
function replay(steps: ModeEvent[], expectStates: ModeSnapshot[]): RunResult {
  const clock = new SimulatedClock();
  const emitted: TmEventEmitted[] = [];
  const tmWriter = new TmWriter(clock, 0);
  const tm: Uint8Array[] = [];
  tmWriter.onTm((p) => tm.push(p));
  const nodes = new Set<string>();
  const transitions = new Set<unknown>();
  const actor = createActor(machine, {
    clock,
    input: {},
    inspect: (ev: { type: string }) => {
      if (ev.type === '@xstate.microstep') for (const t of (ev as unknown as { _transitions: Parameters<typeof transitionKey>[0][] })._transitions) transitions.add(transitionKey(t));
    },
  });
  actor.on('tm.event', (e) => {
    emitted.push(e);
    tmWriter.event(e.name, e.fields);
  });
  const noteNodes = () => {
    for (const n of (actor.getSnapshot() as unknown as { _nodes: AnyStateNode[] })._nodes) nodes.add(n.id);
  };
  actor.start();
  noteNodes();
  steps.forEach((e, i) => {
    const m = /^xstate\.after\.([^.]+)\./.exec(e.type);
    if (m) {
      const delay = (machine.implementations.delays as Record<string, (a: { context: unknown }) => number>)[m[1]];
      clock.increment(delay({ context: actor.getSnapshot().context }));
    } else {
      actor.send(e);
    }
    noteNodes();
    expect(actor.getSnapshot().value, `step ${i} ${e.type}`).toEqual(expectStates[i].value);
  });
  const end = actor.getSnapshot();
  actor.stop();
  return { end, emitted, tm, nodes, transitions };
}

const adjacency = getAdjacencyMap(machine as never, traversal) as Record<string, { state: ModeSnapshot; transitions: Record<string, { event: ModeEvent; state: ModeSnapshot }> }>;
const shortest = new Map<string, Path>();
for (const p of getShortestPaths(machine as never, traversal) as unknown as Path[]) shortest.set(serializeState(p.state), p);

/** One path per adjacency edge: shortest path to the edge's source, then the edge. */
const seenEdges = new Set<string>();
const edgePaths: Array<{ name: string; events: ModeEvent[]; states: ModeSnapshot[]; end: ModeSnapshot }> = [];
const bySourceDepth = Object.entries(adjacency).sort(([a], [b]) => (shortest.get(a)?.steps.length ?? 1e9) - (shortest.get(b)?.steps.length ?? 1e9));
for (const [key, v] of bySourceDepth) {
  const head = shortest.get(key);
  if (!head) continue;
  for (const [evKey, t] of Object.entries(v.transitions)) {
    // One path per distinct (source state, event, target state): context variants of the same edge add nothing.
    const edgeId = `${JSON.stringify(v.state.value)}|${evKey}|${JSON.stringify(t.state.value)}`;
    if (seenEdges.has(edgeId)) continue;
    seenEdges.add(edgeId);
    edgePaths.push({
      name: `${key} --${evKey}`,
      events: [...head.steps.map((s) => s.event), t.event] as ModeEvent[],
      states: [...head.steps.map((s) => s.state), t.state] as ModeSnapshot[],
      end: t.state as ModeSnapshot,
    });
  }
}

const coveredNodes = new Set<string>();
const coveredTransitions = new Set<unknown>();
const stateTotal = allStateNodes(machine.root).map((n) => n.id);
const transitionTotal = allTransitions(machine);

describe('mode manager, model-based (xstate/graph)', () => {
  it('the traversal reaches every mode', () => {
    const modes = new Set(Object.values(adjacency).map((v) => modeOf(v.state as ModeSnapshot)));
    expect([...modes].sort()).toEqual([...PAYLOAD_MODES].sort());
    expect(edgePaths.length).toBeGreaterThan(100);
  });

  it('every generated path replays to its end state with consistent telemetry', () => {
    for (const p of edgePaths) {
      // The first step starts the path from its initial state.
      const states = p.states;
      const r = replay(p.events, states);
      expect(r.end.value, p.name).toEqual(p.end.value);
      for (const n of r.nodes) coveredNodes.add(n);
      for (const t of r.transitions) coveredTransitions.add(t);

      // Every mode change along the path is announced, in order, with from/to.
      const modes = [modeOf(machine.getInitialSnapshot(undefined as never) as never) as string, ...states.map((s) => modeOf(s))];
      const expected: Array<{ from: string; to: string }> = [];
      for (let i = 1; i < modes.length; i++) if (modes[i] !== modes[i - 1]) expected.push({ from: modes[i - 1], to: modes[i] });
      const announced = r.emitted.filter((e) => e.name === 'MODE_CHANGED').map((e) => e.fields as { from: string; to: string });
      // A SAFE re-entry or an ACQUISITION retry re-enters the same mode: no MODE_CHANGED, as expected.
      expect(announced, p.name).toEqual(expected);

      // Entering SAFE always says why; entering it the first time is announced.
      const safeEntries = r.emitted.filter((e) => e.name === 'SAFE_ENTERED');
      if (modeOf(r.end) === 'SAFE') expect(safeEntries.length, p.name).toBeGreaterThan(0);
      for (const s of safeEntries) expect(String(s.fields.reason).length, p.name).toBeGreaterThan(0);

      // Everything emitted encodes as valid dictionary TM and decodes back to the same event.
      expect(r.tm.length).toBe(r.emitted.length);
      r.tm.forEach((bytes, i) => {
        const d = decodePacket(bytes);
        expect(d.kind).toBe('event');
        expect(d.name).toBe(r.emitted[i].name);
      });
    }
  });

  it('covers every state and every transition of the mode manager and its regions', () => {
    const statesCovered = stateTotal.filter((id) => coveredNodes.has(id));
    const transitionsCovered = transitionTotal.filter((t) => coveredTransitions.has(t.key));
    const missingStates = stateTotal.filter((id) => !coveredNodes.has(id));
    const missingTransitions = transitionTotal.filter((t) => !coveredTransitions.has(t.key)).map((t) => t.key);
    console.log(
      `mode manager coverage: states ${statesCovered.length}/${stateTotal.length}, transitions ${transitionsCovered.length}/${transitionTotal.length} (${edgePaths.length} paths)`,
    );
    expect(missingStates).toEqual([]);
    expect(missingTransitions).toEqual([]);
  });
});

afterAll(() => undefined);
