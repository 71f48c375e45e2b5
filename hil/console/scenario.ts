import type { FastifyInstance, FastifyReply } from 'fastify';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import { STATIONS } from '../../boards/sim/stations.ts';
import { DICTIONARY } from '../../protocols/dictionary/index.ts';
import { parseCommandWords } from './command-line.ts';
import { type CommandOutcome, type ConsoleBench, sendCommand } from './operations.ts';
import type { BenchLock } from './server.ts';

/**
 * Scenario controls of the operator console, for benches on simulated time: start a pass
 * over a ground station (UPLOAD_PASS_PLAN by telecommand, as the command form sends it),
 * hide the beacon or cut the laser link (the bench world, as the payload suite does), set
 * and clear the faults the board emulators know (SIM FAULT over the board link). Every
 * action is an event `scenario:<what>` in the bench's store, so it is in the event log
 * and the run's archive. On the wall clock (real boards) there is no world to drive: 409.
 */

/** A refused scenario request: HTTP status and the field named. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    readonly status: 400 | 409,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

/** A ground station a pass can be planned over: the UPLOAD_PASS_PLAN station enum, positioned from boards/sim/stations.ts. */
export interface ScenarioStation {
  name: string;
  latDeg: number;
  lonDeg: number;
  altM: number;
}

const planDef = DICTIONARY.commands.find((c) => c.name === 'UPLOAD_PASS_PLAN')!;
const stationField = planDef.fields.find((f) => f.name === 'station')!;
const STATION_NAMES: readonly string[] = stationField.type.kind === 'enum' ? stationField.type.states : [];

export const SCENARIO_STATIONS: readonly ScenarioStation[] = STATION_NAMES.filter((n) => STATIONS[n]).map((n) => ({
  name: n,
  latDeg: STATIONS[n].latitudeDeg,
  lonDeg: STATIONS[n].longitudeDeg,
  altM: Math.round(STATIONS[n].heightKm * 1000),
}));

/** What the controls act on now: null reason when the bench keeps simulated time. */
export interface ScenarioState {
  simulated: boolean;
  /** Why the controls are off (wall clock), else null. */
  reason: string | null;
  stations: readonly ScenarioStation[];
  faults: { board: string; id: number; name: string; description: string; active: boolean }[];
  beaconVisible: boolean | null;
  linkDropout: boolean | null;
}

/** Faults set from the console, per bench: the emulators do not report theirs back. */
const activeFaults = new WeakMap<ConsoleBench, Set<string>>();
const faultKey = (board: string, fault: string) => `${board}.${fault}`;
const activeOf = (cb: ConsoleBench) => activeFaults.get(cb) ?? activeFaults.set(cb, new Set()).get(cb)!;

function unavailable(cb: ConsoleBench): string | null {
  if (cb.world) return null;
  return `scenario controls need simulated time: bench '${cb.bench.config.name}' runs on the ${cb.bench.clock.kind === 'sim' ? 'simulated clock without a bench world' : 'wall clock (real boards)'}`;
}

export function scenarioState(cb: ConsoleBench): ScenarioState {
  const active = activeOf(cb);
  return {
    simulated: cb.world !== null,
    reason: unavailable(cb),
    stations: SCENARIO_STATIONS,
    faults: cb.bench.boards.flatMap((b) => b.def.faults.map((f) => ({ board: b.name, id: f.id, name: f.name, description: f.description, active: active.has(faultKey(b.name, f.name)) }))),
    beaconVisible: cb.world?.beaconVisible ?? null,
    linkDropout: cb.world?.linkDropout ?? null,
  };
}

function requireWorld(cb: ConsoleBench) {
  const why = unavailable(cb);
  if (why) throw new ScenarioError(409, why);
  return cb.world!;
}

/** Logs a scenario action in the bench's store (event log, archive). */
function logAction(cb: ConsoleBench, what: string, fields: Record<string, unknown>): void {
  cb.bench.store.addEvent({ t: cb.bench.now(), name: `scenario:${what}`, severity: 'info', fields });
  cb.bench.store.notify();
}

function numberField(body: Record<string, unknown>, name: string, what: string, o: { min: number; strictMin?: boolean }): number {
  const raw = body[name];
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ScenarioError(400, `field '${name}': expected ${what}, got ${JSON.stringify(raw ?? null)}`, name);
  if (o.strictMin ? v <= o.min : v < o.min) throw new ScenarioError(400, `field '${name}': ${v} is ${v < 0 ? 'negative' : 'too small'} (${what}, ${o.strictMin ? 'more than' : 'at least'} ${o.min})`, name);
  return v;
}

function boolField(body: Record<string, unknown>, name: string): boolean {
  const v = body[name];
  if (typeof v !== 'boolean') throw new ScenarioError(400, `field '${name}': expected true or false, got ${JSON.stringify(v ?? null)}`, name);
  return v;
}

export interface PassRequest {
  station: string;
  /** Bench time from now to the pass start, s. */
  startInS: number;
  /** Pass length, s. */
  lengthS: number;
}

/** Reads a pass request (400 naming the field). */
export function readPassRequest(body: Record<string, unknown>): PassRequest {
  const station = body.station;
  if (typeof station !== 'string' || !SCENARIO_STATIONS.some((s) => s.name === station)) {
    throw new ScenarioError(400, `field 'station': unknown station ${JSON.stringify(station ?? null)} (known: ${SCENARIO_STATIONS.map((s) => s.name).join(', ')})`, 'station');
  }
  const startInS = numberField(body, 'startInS', 'a start delay in s', { min: 0 });
  const lengthS = numberField(body, 'lengthS', 'a pass length in s', { min: 0, strictMin: true });
  return { station, startInS, lengthS };
}

/**
 * Uploads the plan of a pass over `station` starting `startInS` from now, `lengthS` long
 * (the example TLE, as the payload suite's plans), by telecommand through sendCommand.
 * The payload enters ACQUISITION on its own at the start; SET_MODE ACQUISITION starts it sooner.
 */
export async function startPass(cb: ConsoleBench, req: PassRequest): Promise<CommandOutcome> {
  requireWorld(cb);
  const s = SCENARIO_STATIONS.find((x) => x.name === req.station)!;
  // Mission time is the payload clock's seconds (epoch offset 0 on the console's bench).
  const startS = Math.ceil(cb.bench.now() / 1000 + req.startInS);
  const endS = startS + Math.max(1, Math.round(req.lengthS));
  const args = { station: s.name, latDeg: s.latDeg, lonDeg: s.lonDeg, altM: s.altM, startS, endS, minElevationDeg: 15, tleLine1: EXAMPLE_TLE[0], tleLine2: EXAMPLE_TLE[1] };
  logAction(cb, 'pass', { station: s.name, startInS: req.startInS, lengthS: req.lengthS, startS, endS });
  return sendCommand(cb, parseCommandWords(['UPLOAD_PASS_PLAN', ...Object.entries(args).map(([k, v]) => `${k}=${v}`)]));
}

export function setBeaconVisible(cb: ConsoleBench, visible: boolean): void {
  requireWorld(cb).beaconVisible = visible;
  logAction(cb, 'beacon', { visible });
}

export function setLinkDropout(cb: ConsoleBench, dropout: boolean): void {
  requireWorld(cb).linkDropout = dropout;
  logAction(cb, 'link', { dropout });
}

/** Sets or clears one emulator fault (400 naming 'board' or 'fault' when unknown). */
export async function setFault(cb: ConsoleBench, board: unknown, fault: unknown, active: boolean): Promise<void> {
  requireWorld(cb);
  const b = cb.bench.boards.find((x) => x.name === board);
  if (typeof board !== 'string' || !b) throw new ScenarioError(400, `field 'board': unknown board ${JSON.stringify(board ?? null)} (known: ${cb.bench.boards.map((x) => x.name).join(', ')})`, 'board');
  if (typeof fault !== 'string' || !b.def.faults.some((f) => f.name === fault)) {
    throw new ScenarioError(400, `field 'fault': board ${b.name} knows no fault ${JSON.stringify(fault ?? null)} (known: ${b.def.faults.map((f) => f.name).join(', ')})`, 'fault');
  }
  await cb.bench.board(b.name).fault(fault, active);
  const set = activeOf(cb);
  if (active) set.add(faultKey(b.name, fault));
  else set.delete(faultKey(b.name, fault));
  logAction(cb, 'fault', { board: b.name, fault, active });
}

/** Clears every fault the console set. */
export async function clearAllFaults(cb: ConsoleBench): Promise<string[]> {
  requireWorld(cb);
  const set = activeOf(cb);
  const cleared = [...set];
  for (const key of cleared) {
    const [board, fault] = key.split('.');
    const b = cb.bench.boards.find((x) => x.name === board)!;
    await cb.bench.board(b.name).fault(fault, false);
    set.delete(key);
  }
  logAction(cb, 'clear-faults', { cleared: cleared.join(' ') });
  return cleared;
}

/**
 * The scenario routes: GET /api/scenario (stations, faults, world state; `reason` when off),
 * POST /api/scenario/pass { station, startInS, lengthS }, /beacon { visible }, /link
 * { dropout }, /fault { board, fault, active }, /clear-faults. Each answers the new state
 * (the pass also the telecommand's outcome); 400 { error, field } on bad input, 409 on the wall clock.
 */
export function registerScenarioRoutes(app: FastifyInstance, cb: ConsoleBench, lock: BenchLock): void {
  const body = (b: unknown): Record<string, unknown> => (b && typeof b === 'object' ? (b as Record<string, unknown>) : {});
  const answer = async (reply: FastifyReply, fn: () => Promise<Record<string, unknown>>) => {
    try {
      return { ...(await lock.run(fn)), state: scenarioState(cb) };
    } catch (e) {
      if (e instanceof ScenarioError) return reply.code(e.status).send({ error: `scenario: ${e.message}`, field: e.field });
      return reply.code(500).send({ error: `scenario: ${(e as Error).message}` });
    }
  };
  app.get('/api/scenario', async () => scenarioState(cb));
  app.post('/api/scenario/pass', async (req, reply) =>
    answer(reply, async () => {
      requireWorld(cb);
      return { outcome: await startPass(cb, readPassRequest(body(req.body))) };
    }),
  );
  app.post('/api/scenario/beacon', async (req, reply) => answer(reply, async () => (setBeaconVisible(cb, boolField(body(req.body), 'visible')), {})));
  app.post('/api/scenario/link', async (req, reply) => answer(reply, async () => (setLinkDropout(cb, boolField(body(req.body), 'dropout')), {})));
  app.post('/api/scenario/fault', async (req, reply) =>
    answer(reply, async () => {
      const b = body(req.body);
      requireWorld(cb);
      await setFault(cb, b.board, b.fault, boolField(b, 'active'));
      return {};
    }),
  );
  app.post('/api/scenario/clear-faults', async (_req, reply) => answer(reply, async () => ({ cleared: await clearAllFaults(cb) })));
}
