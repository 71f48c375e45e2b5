import { randomBytes, timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import { setTimeout as wallSleep } from 'node:timers/promises';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { SimClock } from '../../boards/clock.ts';
import { checkLimits, DICTIONARY, type FieldValues } from '../../protocols/dictionary/index.ts';
import type { FieldDef } from '../../protocols/dictionary/types.ts';
import { CommandLineError, parseCommandWords } from './command-line.ts';
import { type ConsoleBench, sendCommand } from './operations.ts';

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
  /** Batch period of the WebSocket updates, ms of wall time (default 100). */
  batchMs?: number;
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

export class ConsoleServerError extends Error {
  override readonly name = 'ConsoleServerError';
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

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
  private readonly lastSeen = new Map<string, unknown>();
  private eventIndex: number;
  private packets: PagePacket[] = [];
  private readonly unsub: () => void;

  constructor(private readonly cb: ConsoleBench) {
    const store = cb.bench.store;
    this.eventIndex = store.events.length;
    for (const h of DICTIONARY.housekeeping) this.lastSeen.set(h.name, store.latest(`${h.name}.${h.fields[0].name}`));
    this.unsub = store.subscribe(() => this.check());
  }

  private check(): void {
    const store = this.cb.bench.store;
    for (const h of DICTIONARY.housekeeping) {
      const s = store.latest(`${h.name}.${h.fields[0].name}`);
      if (!s || s === this.lastSeen.get(h.name)) continue;
      this.lastSeen.set(h.name, s);
      const fields = Object.fromEntries(h.fields.map((f) => [f.name, store.latest(`${h.name}.${f.name}`)?.value]));
      this.packets.push(packetOf(h.name, s.t, fields));
    }
  }

  take(): { tm: PagePacket[]; events: Record<string, unknown>[] } {
    this.check();
    const tm = this.packets;
    this.packets = [];
    const all = this.cb.bench.store.events;
    const events = all.slice(this.eventIndex).map(eventJson);
    this.eventIndex = all.length;
    return { tm, events };
  }

  stop(): void {
    this.unsub();
  }
}

const SEVERITY = new Map(DICTIONARY.events.map((e) => [e.name, e.severity]));
function eventJson(e: { t: number; name: string; severity?: string; fields: Record<string, unknown> }): Record<string, unknown> {
  const severity = e.severity ?? SEVERITY.get(e.name) ?? (e.name.startsWith('limit:') ? 'medium' : e.name.startsWith('VERIFY_') && e.name.endsWith('_FAIL') ? 'low' : 'info');
  return { t: e.t, name: e.name, severity, fields: plainFields(e.fields) };
}

/** What a page gets on connecting: the recent history (packets and events), then batches. */
function snapshot(cb: ConsoleBench, maxPackets = 600, maxEvents = 1000): Record<string, unknown> {
  const store = cb.bench.store;
  const tm: PagePacket[] = [];
  for (const h of DICTIONARY.housekeeping) {
    const hist = h.fields.map((f) => store.history(`${h.name}.${f.name}`));
    const n = Math.min(...hist.map((x) => x.length));
    for (let i = Math.max(0, n - maxPackets); i < n; i++) {
      // Every field of a packet is stored at once: the i-th from the end of each history belong together.
      const fields = Object.fromEntries(h.fields.map((f, j) => [f.name, hist[j][hist[j].length - n + i].value]));
      tm.push(packetOf(h.name, hist[0][hist[0].length - n + i].t, fields));
    }
  }
  tm.sort((a, b) => a.t - b.t);
  return { type: 'snapshot', benchTimeMs: cb.bench.now(), tm, events: store.events.slice(-maxEvents).map(eventJson) };
}

function tokenOf(req: FastifyRequest): string | undefined {
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  if (typeof q === 'string') return q;
  const h = req.headers['x-console-token'];
  if (typeof h === 'string') return h;
  const m = /(?:^|;\s*)console_token=([^;]+)/.exec(req.headers.cookie ?? '');
  return m ? decodeURIComponent(m[1]) : undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Serves the console over `cb`. Commands are serialised (one at a time) through `lock`,
 * which the live runner (runLive) shares, so bench time has one driver at a time.
 */
export async function startConsoleServer(cb: ConsoleBench, o: ConsoleServerOptions, lock: BenchLock = new BenchLock()): Promise<ConsoleServer> {
  const host = o.host ?? '127.0.0.1';
  const token = isLoopback(host) ? null : (o.token ?? randomBytes(16).toString('hex'));
  const app = Fastify({ logger: false });
  await app.register(fastifyWebsocket);

  // Another web site open in the operator's browser must not drive the console: a request
  // that says it comes from a page of another origin (Origin header) is refused, and on a
  // loopback bind so is a Host header other than the loopback address (DNS rebinding).
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const hostHeader = req.headers.host ?? '';
    if (token === null && !isLoopback(hostHeader.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'))) {
      return reply.code(403).type('text/plain').send(`console: refused Host ${hostHeader} (this console serves ${host} only)\n`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let originHost = '';
      try {
        originHost = new URL(origin).host;
      } catch {
        /* an unreadable Origin is refused below */
      }
      if (originHost !== hostHeader) return reply.code(403).type('text/plain').send(`console: refused a request from another origin (${origin})\n`);
    }
  });

  if (token !== null) {
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const given = tokenOf(req);
      if (given === undefined) return reply.code(401).type('text/plain').send('console: this console needs its token (?token=... as printed at start)\n');
      if (!sameToken(given, token)) return reply.code(403).type('text/plain').send('console: wrong token\n');
      // The page's own requests (modules, styles, WebSocket) then carry the cookie.
      if (typeof (req.query as Record<string, unknown> | undefined)?.token === 'string') {
        reply.header('set-cookie', `console_token=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);
      }
    });
  }

  await app.register(fastifyStatic, { root: resolve(o.root, 'hil/console/page'), prefix: '/', index: ['index.html'] });
  await app.register(fastifyStatic, { root: resolve(o.root, 'node_modules/uplot/dist'), prefix: '/vendor/uplot/', decorateReply: false });

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

  // One collector, one timer: every page gets the same batch.
  const sockets = new Set<WebSocket>();
  const collector = new Collector(cb);
  const timer = setInterval(() => {
    const { tm, events } = collector.take();
    if (sockets.size === 0 || (tm.length === 0 && events.length === 0)) return;
    const msg = JSON.stringify({ type: 'batch', benchTimeMs: cb.bench.now(), tm, events });
    for (const s of sockets) if (s.readyState === s.OPEN) s.send(msg);
  }, o.batchMs ?? 100);

  app.get('/ws', { websocket: true }, (socket) => {
    sockets.add(socket);
    socket.send(JSON.stringify(snapshot(cb)));
    socket.on('close', () => sockets.delete(socket));
  });

  let address: string;
  try {
    address = await app.listen({ host, port: o.port ?? 0 });
  } catch (e) {
    clearInterval(timer);
    collector.stop();
    throw new ConsoleServerError(`cannot serve on ${host}:${o.port ?? 0}: ${(e as Error).message}`);
  }
  const port = Number(new URL(address).port);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/${token ? `?token=${token}` : ''}`,
    port,
    token,
    app,
    async close() {
      clearInterval(timer);
      collector.stop();
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
