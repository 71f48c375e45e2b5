import { setTimeout as wallSleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { SimClock } from '../../boards/clock.ts';
import { checkLimits, DICTIONARY, type FieldValues } from '../../protocols/dictionary/index.ts';
import type { FieldDef } from '../../protocols/dictionary/types.ts';
import type { TelemetryStore } from '../bench/store.ts';
import { boardFrameGroups, latestBoardFrames, registerBoardRoutes } from './boards.ts';
import { CommandLineError, parseCommandWords } from './command-line.ts';
import { GroupWatcher, groupsFromHistories } from './group-watcher.ts';
import { createConsoleApp, listenConsoleApp } from './http.ts';
import { type ConsoleBench, sendCommand } from './operations.ts';
import { registerScenarioRoutes } from './scenario.ts';

/**
 * The operator console's server: a page (plain ES modules under hil/console/page/, uPlot
 * from node_modules: nothing from a CDN) over the one bench. The bench's histories go to
 * every page as one WebSocket message per batch (every `batchMs`): the housekeeping
 * packets that arrived, decoded to engineering values with their limit levels from the
 * dictionary, and the events. Commands come back as POST /api/command and go through
 * operations.ts sendCommand, as `npm run cmd` sends them.
 *
 * Bound to a loopback address the console is open to the local user; bound elsewhere
 * every request needs the token (query `token=`, header `x-console-token`, or the cookie
 * the page gets when opened with the token): 401 without one, 403 with a wrong one.
 */

export interface ConsoleServerOptions {
  /** Project root: the page and node_modules/uplot are served from it. */
  root: string;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** TCP port (default 0: a free one). */
  port?: number;
  /** Required on a non-loopback host; generated when not given. Ignored on loopback. */
  token?: string;
  /**
   * Batch period of the WebSocket updates, ms of wall time (default 50: a packet waits up to
   * one period for its batch, and the console benchmark's goal is p99 <= 100 ms to the page).
   */
  batchMs?: number;
  /** Let the Boards view write the registers of real (not emulated) boards (--allow-writes). */
  allowWrites?: boolean;
}

export interface ConsoleServer {
  /** `http://HOST:PORT/` (with `?token=` when a token is required). */
  url: string;
  port: number;
  /** The token requests need, or null on a loopback bind. */
  token: string | null;
  app: FastifyInstance;
  close(): Promise<void>;
}

export { ConsoleServerError, isLoopback } from './http.ts';

/** A value as JSON carries it: bytes in hex. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v === 'bigint') return Number(v);
  return v;
}
const plainFields = (f: Record<string, unknown>) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, plain(v)]));

/** The engineering range a form enforces: the dictionary's range, else what the type holds. */
function fieldRange(f: FieldDef): [number, number] | undefined {
  if (f.range) return [f.range[0], f.range[1]];
  const t = f.type;
  if (t.kind === 'uint' || t.kind === 'int') {
    const lo = t.kind === 'uint' ? 0 : -(2 ** (t.bits - 1));
    const hi = t.kind === 'uint' ? 2 ** t.bits - 1 : 2 ** (t.bits - 1) - 1;
    const k = t.scale?.factor ?? 1;
    const o = t.scale?.offset ?? 0;
    return k >= 0 ? [lo * k + o, hi * k + o] : [hi * k + o, lo * k + o];
  }
  return undefined;
}

function fieldJson(f: FieldDef): Record<string, unknown> {
  const t = f.type;
  return {
    name: f.name,
    kind: t.kind,
    integer: (t.kind === 'uint' || t.kind === 'int') && !t.scale,
    ...(f.unit ? { unit: f.unit } : {}),
    ...(t.kind === 'enum' ? { states: t.states } : {}),
    ...(fieldRange(f) ? { range: fieldRange(f) } : {}),
    ...((t.kind === 'bytes' || t.kind === 'string') && t.maxLength !== undefined ? { maxLength: t.maxLength } : {}),
    ...(f.limits ? { limits: f.limits } : {}),
    description: f.description,
  };
}

/** What the page builds its views from: the dictionary's housekeeping, commands and events. */
export function pageDictionary(): Record<string, unknown> {
  return {
    housekeeping: DICTIONARY.housekeeping.map((h) => ({ name: h.name, sid: h.sid, intervalMs: h.intervalMs, fields: h.fields.map(fieldJson) })),
    commands: DICTIONARY.commands.map((c) => ({ name: c.name, description: c.description, hazardous: c.hazardous ?? false, fields: c.fields.map(fieldJson) })),
    events: DICTIONARY.events.map((e) => ({ name: e.name, severity: e.severity, description: e.description })),
  };
}

/** One housekeeping packet as the page gets it: fields in engineering values, limit levels of the fields out of limits. */
export interface PagePacket {
  packet: string;
  t: number;
  fields: Record<string, unknown>;
  limits: Record<string, 'yellow' | 'red'>;
}

function packetOf(name: string, t: number, fields: Record<string, unknown>): PagePacket {
  const limits: Record<string, 'yellow' | 'red'> = {};
  for (const v of checkLimits(name, fields as FieldValues)) if (!limits[v.field] || v.level === 'red') limits[v.field] = v.level as 'yellow' | 'red';
  return { packet: name, t, fields: plainFields(fields), limits };
}

/** Watches the bench's store: the housekeeping packets and events that arrived since the last take. */
class Collector {
  private readonly packets: GroupWatcher<PagePacket>;
  private eventIndex: number;

  constructor(private readonly store: TelemetryStore) {
    this.eventIndex = store.events.length;
    this.packets = new GroupWatcher(
      store,
      DICTIONARY.housekeeping.map((h) => ({
        firstItem: `${h.name}.${h.fields[0].name}`,
        build: (first) => packetOf(h.name, first.t, Object.fromEntries(h.fields.map((f) => [f.name, store.latest(`${h.name}.${f.name}`)?.value]))),
      })),
    );
  }

  take(): { tm: PagePacket[]; events: Record<string, unknown>[] } {
    const tm = this.packets.take();
    const all = this.store.events;
    const events = all.slice(this.eventIndex).map(eventJson);
    this.eventIndex = all.length;
    return { tm, events };
  }

  stop(): void {
    this.packets.stop();
  }
}

const SEVERITY = new Map(DICTIONARY.events.map((e) => [e.name, e.severity]));
const LIMIT_SEVERITY: Record<string, string> = { green: 'info', yellow: 'medium', red: 'high' };
export function eventJson(e: { t: number; name: string; severity?: string; fields: Record<string, unknown> }): Record<string, unknown> {
  // A limit transition's store severity is its limit state: the event log's scale has info..high.
  const limitLevel = e.name.startsWith('limit:') ? LIMIT_SEVERITY[String(e.fields.to)] : undefined;
  const severity = limitLevel ?? e.severity ?? SEVERITY.get(e.name) ?? (e.name.startsWith('limit:') ? 'medium' : e.name.startsWith('VERIFY_') && e.name.endsWith('_FAIL') ? 'low' : 'info');
  return { t: e.t, name: e.name, severity, fields: plainFields(e.fields) };
}

/**
 * The housekeeping packets (the last `maxPackets` of each structure) rebuilt from the
 * items' histories (`history(item)`: the bench's store, or an archived run's items), by time.
 */
export function packetsFromHistories(history: (item: string) => readonly { t: number; value: unknown }[], maxPackets = Infinity): PagePacket[] {
  const tm: PagePacket[] = [];
  for (const h of DICTIONARY.housekeeping) {
    for (const g of groupsFromHistories(h.fields.map((f) => history(`${h.name}.${f.name}`)), maxPackets)) {
      tm.push(packetOf(h.name, g.t, Object.fromEntries(h.fields.map((f, j) => [f.name, g.values[j]]))));
    }
  }
  return tm.sort((a, b) => a.t - b.t);
}

/** What a page gets on connecting: the recent history (packets and events), then batches. */
function snapshot(cb: ConsoleBench, maxPackets = 600, maxEvents = 1000): Record<string, unknown> {
  const store = cb.bench.store;
  const tm = packetsFromHistories((item) => store.history(item), maxPackets);
  return { type: 'snapshot', benchTimeMs: cb.bench.now(), tm, events: store.events.slice(-maxEvents).map(eventJson) };
}

/**
 * Serves the console over `cb`. Commands are serialised (one at a time) through `lock`,
 * which the live runner (runLive) shares, so bench time has one driver at a time.
 */
export async function startConsoleServer(cb: ConsoleBench, o: ConsoleServerOptions, lock: BenchLock = new BenchLock()): Promise<ConsoleServer> {
  const base = await createConsoleApp(o);
  const { app, token } = base;

  app.get('/api/dictionary', async () => pageDictionary());

  app.post('/api/command', async (req, reply) => {
    const body = req.body as { name?: unknown; fields?: unknown; confirm?: unknown } | undefined;
    if (!body || typeof body.name !== 'string' || (body.fields !== undefined && (typeof body.fields !== 'object' || body.fields === null))) {
      return reply.code(400).send({ error: 'expected { name, fields: { field: value } }' });
    }
    const words = [body.name, ...Object.entries((body.fields ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`)];
    let cmd;
    try {
      cmd = parseCommandWords(words);
    } catch (e) {
      if (e instanceof CommandLineError) return reply.code(400).send({ error: e.message, code: e.code, field: e.details.field ?? null });
      throw e;
    }
    if (cmd.hazardous && body.confirm !== true) return reply.code(409).send({ error: `${cmd.name} is hazardous (${cmd.def.description}): confirm to send it`, code: 'NOT_CONFIRMED', field: null });
    try {
      const outcome = await lock.run(() => sendCommand(cb, cmd));
      return { ...outcome, args: plainFields(outcome.args), reports: outcome.reports.map((r) => ({ ...r, fields: plainFields(r.fields) })) };
    } catch (e) {
      return reply.code(500).send({ error: `${cmd.name}: ${(e as Error).message}` });
    }
  });

  registerBoardRoutes(app, cb, lock, { allowWrites: o.allowWrites ?? false });
  registerScenarioRoutes(app, cb, lock);

  // One collector, one timer: every page gets the same batch.
  const sockets = new Set<WebSocket>();
  const collector = new Collector(cb.bench.store);
  const boardCollector = new GroupWatcher(cb.bench.store, boardFrameGroups(cb.bench.store, cb.bench.boards));
  const timer = setInterval(() => {
    const { tm, events } = collector.take();
    const boardTm = boardCollector.take();
    if (sockets.size === 0 || (tm.length === 0 && events.length === 0 && boardTm.length === 0)) return;
    const msg = JSON.stringify({ type: 'batch', benchTimeMs: cb.bench.now(), tm, events, boardTm });
    for (const s of sockets) if (s.readyState === s.OPEN) s.send(msg);
  }, o.batchMs ?? 50);

  app.get('/ws', { websocket: true }, (socket) => {
    sockets.add(socket);
    socket.send(JSON.stringify({ ...snapshot(cb), boardTm: latestBoardFrames(cb.bench.store, cb.bench.boards) }));
    socket.on('close', () => sockets.delete(socket));
  });

  let listening: { url: string; port: number };
  try {
    listening = await listenConsoleApp(base, o.port);
  } catch (e) {
    clearInterval(timer);
    collector.stop();
    boardCollector.stop();
    throw e;
  }
  return {
    ...listening,
    token,
    app,
    async close() {
      clearInterval(timer);
      collector.stop();
      boardCollector.stop();
      for (const s of sockets) s.close();
      await app.close();
    },
  };
}

/** One driver of bench time at a time: the live runner waits while a command runs the clock. */
export class BenchLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

/**
 * Runs the bench live until `signal` aborts: on a simulated clock bench time follows the
 * wall clock (`pace` 1 = live, as `npm run tlm -- --follow`), in steps of `stepMs`; on the
 * wall clock the boards set the pace and this only keeps the loop alive.
 */
export async function runLive(cb: ConsoleBench, signal: AbortSignal, o: { pace?: number; stepMs?: number; lock?: BenchLock } = {}): Promise<void> {
  const { bench } = cb;
  const pace = o.pace ?? 1;
  const step = o.stepMs ?? 50;
  const lock = o.lock ?? new BenchLock();
  if (!(bench.clock instanceof SimClock)) {
    await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
    return;
  }
  const wall0 = performance.now();
  const bench0 = bench.now();
  let behind = 0;
  while (!signal.aborted) {
    await lock.run(async () => {
      // A command may have run bench time ahead: the wall clock catches up (bench0 moves with it).
      const target = bench0 + behind + (performance.now() - wall0) * pace;
      if (target > bench.now()) await bench.sleep(Math.min(step, target - bench.now()));
    });
    const target = bench0 + behind + (performance.now() - wall0) * pace;
    if (target <= bench.now()) await wallSleep(Math.max(1, Math.min(step, (bench.now() - target) / pace)), undefined, { signal }).catch(() => undefined);
    // Never run more than a second behind (a slow machine, a long command): drop the backlog.
    if (target - bench.now() > 1000) behind -= target - bench.now() - 1000;
  }
}
