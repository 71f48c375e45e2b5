import type { FastifyInstance, FastifyReply } from 'fastify';
import { inWriteRange, type RegisterDef } from '../../boards/definitions.ts';
import type { Identity } from '../../protocols/board-link.ts';
import type { BenchBoard } from '../bench/bench.ts';
import { limitState } from '../bench/limits.ts';
import type { TelemetryStore } from '../bench/store.ts';
import { boardAddress } from '../runs/archive.ts';
import { identityData } from '../report/suite-data.ts';
import type { ConsoleBench } from './operations.ts';
import type { ItemGroup } from './group-watcher.ts';

/**
 * The console's Boards view, server side: each board of the bench with its identity, its
 * line and its registers (from its definition), reads on demand, writes under the write
 * policy, and the board telemetry frames for the batch messages. Reads and writes run
 * bench time (a request holds the clock), so they go through the server's BenchLock as
 * commands do.
 */

/** Whether the console may write a board's registers, and why not when it may not. */
export interface WriteDecision {
  allowed: boolean;
  reason: string | null;
}

/**
 * The write policy: an emulated board (the identity says `emulated`: in-process emulators,
 * emulator processes on ptys) may always be written; a real one only when the operator
 * started the console with --allow-writes, since a register write drives real hardware
 * (a mirror, a laser) behind the payload firmware's back. A board that never identified
 * itself counts as real.
 */
export function writePolicy(board: { name: string; identity: Pick<Identity, 'emulated'> | null }, allowWrites: boolean): WriteDecision {
  if (board.identity?.emulated) return { allowed: true, reason: null };
  if (allowWrites) return { allowed: true, reason: null };
  return { allowed: false, reason: `board ${board.name} is a real board: start the console with --allow-writes to write its registers` };
}

const readable = (r: RegisterDef) => r.access !== 'w';
const writable = (r: RegisterDef) => r.access !== 'r';

/** The engineering range a write must respect: the definition's min/max, else what the register's width holds. */
export function writeRange(r: RegisterDef): [number, number] {
  const lo = r.signed ? -(2 ** (r.width - 1)) : 0;
  const hi = r.signed ? 2 ** (r.width - 1) - 1 : 2 ** r.width - 1;
  const eng = (raw: number) => Number((raw * r.scale + r.offset).toPrecision(12));
  return [r.min ?? eng(lo), r.max ?? eng(hi)];
}

/** A refusal of a board request before anything is sent: HTTP status and the message naming what was wrong. */
export class BoardRequestError extends Error {
  override readonly name = 'BoardRequestError';
  constructor(
    readonly status: 400 | 403 | 404,
    message: string,
    readonly register: string | null = null,
  ) {
    super(message);
  }
}

function registerOf(b: Pick<BenchBoard, 'name' | 'def'>, name: unknown): RegisterDef {
  if (typeof name !== 'string') throw new BoardRequestError(400, `board ${b.name}: a register name must be a string, got ${JSON.stringify(name)}`);
  const r = b.def.registers.find((x) => x.name === name);
  if (!r) throw new BoardRequestError(400, `board ${b.name} has no register '${name}' (registers: ${b.def.registers.map((x) => x.name).join(', ')})`, name);
  return r;
}

/** The registers a read asks for (every readable one when none are named); refuses unknown and write-only ones. */
export function readRequest(b: Pick<BenchBoard, 'name' | 'def'>, names: unknown): string[] {
  if (names === undefined) return b.def.registers.filter(readable).map((r) => r.name);
  if (!Array.isArray(names)) throw new BoardRequestError(400, `board ${b.name}: 'registers' must be a list of register names`);
  return names.map((n) => {
    const r = registerOf(b, n);
    if (!readable(r)) throw new BoardRequestError(400, `board ${b.name}: register ${r.name} is write-only`, r.name);
    return r.name;
  });
}

const withUnit = (v: number, r: RegisterDef) => `${v}${r.unit ? ` ${r.unit}` : ''}`;

/**
 * The values a write asks for, checked against each register's access, type and range
 * before anything is sent: the first refusal names the register. Values are engineering
 * values (numbers, or decimal strings as a form sends them).
 */
export function writeRequest(b: Pick<BenchBoard, 'name' | 'def'>, values: unknown): Record<string, number> {
  if (typeof values !== 'object' || values === null || Array.isArray(values) || Object.keys(values).length === 0) {
    throw new BoardRequestError(400, `board ${b.name}: expected { values: { REGISTER: value } } with at least one register`);
  }
  const out: Record<string, number> = {};
  for (const [name, raw] of Object.entries(values)) {
    const r = registerOf(b, name);
    const where = `board ${b.name}: register ${r.name}`;
    if (!writable(r)) throw new BoardRequestError(400, `${where} is read-only`, r.name);
    const v = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(v)) throw new BoardRequestError(400, `${where}: expected a number${r.unit ? ` in ${r.unit}` : ''}, got ${JSON.stringify(raw)}`, r.name);
    const [lo, hi] = writeRange(r);
    if (!inWriteRange(r, v) || v < lo || v > hi) throw new BoardRequestError(400, `${where}: ${withUnit(v, r)} is out of range ${lo}..${withUnit(hi, r)}`, r.name);
    // The board holds raw = (value - offset) / scale: a value between two steps would be silently rounded.
    const steps = (v - r.offset) / r.scale;
    if (Math.abs(steps - Math.round(steps)) > 1e-6) throw new BoardRequestError(400, `${where}: ${withUnit(v, r)} is not a multiple of its resolution ${withUnit(r.scale, r)}`, r.name);
    out[r.name] = v;
  }
  return out;
}

export function registerJson(r: RegisterDef, telemetry: readonly string[]): Record<string, unknown> {
  return {
    name: r.name,
    address: r.address,
    width: r.width,
    signed: r.signed,
    access: r.access === 'r' ? 'read-only' : r.access === 'w' ? 'write-only' : 'read-write',
    unit: r.unit,
    scale: r.scale,
    offset: r.offset,
    ...(writable(r) ? { range: writeRange(r) } : {}),
    reset: r.reset,
    ...(r.limits ? { limits: r.limits } : {}),
    telemetry: telemetry.includes(r.name),
    description: r.description,
  };
}

/** One board as the page shows it: identity, line, write policy, registers, telemetry items. */
export function boardJson(cb: ConsoleBench, b: BenchBoard, allowWrites: boolean): Record<string, unknown> {
  const bc = cb.bench.config.boards[b.name];
  return {
    name: b.name,
    title: b.def.title,
    identity: b.identity ? { ...identityData(b.identity), boardIdHex: `0x${b.identity.boardId.toString(16).padStart(4, '0')}` } : null,
    address: bc ? boardAddress(bc) : null,
    port: b.port,
    writes: writePolicy(b, allowWrites),
    telemetry: { periodMs: b.def.telemetry.periodMs, items: b.def.telemetry.items },
    registers: b.def.registers.map((r) => registerJson(r, b.def.telemetry.items)),
  };
}

/** One board telemetry frame as the page gets it: engineering values, limit levels of those out of limits. */
export interface PageBoardFrame {
  board: string;
  t: number;
  values: Record<string, number>;
  limits: Record<string, 'yellow' | 'red'>;
}

export function frameOf(b: Pick<BenchBoard, 'name' | 'def'>, t: number, values: Record<string, number>): PageBoardFrame {
  const limits: Record<string, 'yellow' | 'red'> = {};
  for (const [name, v] of Object.entries(values)) {
    const l = b.def.registers.find((r) => r.name === name)?.limits;
    const state = l ? limitState(l, v).state : 'green';
    if (state !== 'green') limits[name] = state;
  }
  return { board: b.name, t, values, limits };
}

/** A frame from the store's histories: the latest sample of each telemetry item of the board ("apt.SPOT_X_URAD"). */
function latestFrame(store: TelemetryStore, b: Pick<BenchBoard, 'name' | 'def'>): PageBoardFrame | null {
  const first = store.latest(`${b.name}.${b.def.telemetry.items[0]}`);
  if (!first) return null;
  const values: Record<string, number> = {};
  for (const item of b.def.telemetry.items) {
    const s = store.latest(`${b.name}.${item}`);
    if (typeof s?.value === 'number') values[item] = s.value;
  }
  return frameOf(b, first.t, values);
}

/** Each board's telemetry frame as a group of items for the console's GroupWatcher (the driver stores a frame's items at once). */
export function boardFrameGroups(store: TelemetryStore, boards: readonly Pick<BenchBoard, 'name' | 'def'>[]): ItemGroup<PageBoardFrame>[] {
  return boards.map((b) => ({ firstItem: `${b.name}.${b.def.telemetry.items[0]}`, build: () => latestFrame(store, b) }));
}

/** The last frame of each board (what a page gets on connecting). */
export function latestBoardFrames(store: TelemetryStore, boards: readonly Pick<BenchBoard, 'name' | 'def'>[]): PageBoardFrame[] {
  return boards.flatMap((b) => latestFrame(store, b) ?? []);
}

/** One driver of bench time at a time (the server's BenchLock). */
interface Lock {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * The Boards API: GET /api/boards (every board, its registers and write policy),
 * POST /api/boards/:board/read { registers?: [...] } and POST /api/boards/:board/write
 * { values: { REGISTER: value } }. Refusals: 404 unknown board, 400 a bad register or value
 * (named), 403 a write the policy refuses; 502 when the board refuses or does not answer.
 */
export function registerBoardRoutes(app: FastifyInstance, cb: ConsoleBench, lock: Lock, o: { allowWrites: boolean }): void {
  const boardOf = (name: string): BenchBoard => {
    const b = cb.bench.boards.find((x) => x.name === name);
    if (!b) throw new BoardRequestError(404, `no board '${name}' on this bench (boards: ${cb.bench.boards.map((x) => x.name).join(', ')})`);
    return b;
  };
  const refuse = (reply: FastifyReply, e: unknown, board: string) => {
    if (e instanceof BoardRequestError) return reply.code(e.status).send({ error: e.message, register: e.register });
    return reply.code(502).send({ error: `board ${board}: ${(e as Error).message}`, register: null });
  };

  app.get('/api/boards', async () => ({ allowWrites: o.allowWrites, boards: cb.bench.boards.map((b) => boardJson(cb, b, o.allowWrites)) }));

  app.post('/api/boards/:board/read', async (req, reply) => {
    const name = (req.params as { board: string }).board;
    try {
      const b = boardOf(name);
      const names = readRequest(b, (req.body as { registers?: unknown } | undefined)?.registers);
      const values = await lock.run(() => b.read(...names));
      return { board: b.name, t: cb.bench.now(), values };
    } catch (e) {
      return refuse(reply, e, name);
    }
  });

  app.post('/api/boards/:board/write', async (req, reply) => {
    const name = (req.params as { board: string }).board;
    try {
      const b = boardOf(name);
      const policy = writePolicy(b, o.allowWrites);
      if (!policy.allowed) throw new BoardRequestError(403, policy.reason!);
      const values = writeRequest(b, (req.body as { values?: unknown } | undefined)?.values);
      const readBack = await lock.run(() => b.write(values));
      return { board: b.name, t: cb.bench.now(), values: readBack };
    } catch (e) {
      return refuse(reply, e, name);
    }
  });
}
