import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type BoardDefinition, type BoardName, isBoardName, loadBoardDefinition } from '../../boards/definitions.ts';
import type { SuiteData } from '../report/suite-data.ts';
import { type RunInfo, readRunInfo, resolveRunFolder } from '../runs/archive.ts';
import { frameOf, type PageBoardFrame, registerJson } from './boards.ts';
import { groupsFromHistories } from './group-watcher.ts';
import { eventJson, type PagePacket, packetsFromHistories } from './server.ts';

/**
 * An archived run as the console replays it: one data file of the run folder (data/*.json
 * in the suite-data form: a console run's console.json, or one suite of a HIL run), and
 * what the page gets of it (GET /api/replay): the housekeeping packets rebuilt from the
 * items' histories as the live snapshot rebuilds them, the events, the limit transitions,
 * the boards and their telemetry items.
 */

export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}

export interface Recording {
  /** The run folder. */
  dir: string;
  info: RunInfo | null;
  /** The data file replayed (its name without .json: "console", "passes", ...). */
  suite: string;
  /** Every data file of the run, same spelling. */
  suites: string[];
  data: SuiteData;
}

const readData = (dir: string, suite: string) => JSON.parse(readFileSync(join(dir, 'data', `${suite}.json`), 'utf8')) as SuiteData;

/**
 * The run `ref` names (as resolveRunFolder takes it: `latest`, a folder name or unique
 * prefix of one, a folder path), its data file `suite` (default: console.json when there,
 * else the first data file with payload housekeeping, else the first). Throws
 * RunNotFoundError or RecordingError naming the run and what it has.
 */
export function loadRecording(reportsRoot: string, ref: string, suite?: string): Recording {
  const dir = resolveRunFolder(reportsRoot, ref);
  const dataDir = join(dir, 'data');
  const suites = existsSync(dataDir) ? readdirSync(dataDir).filter((f) => f.endsWith('.json')).sort().map((f) => f.slice(0, -'.json'.length)) : [];
  if (suites.length === 0) throw new RecordingError(`run ${basename(dir)} has no recording (no data/*.json in ${dir})`);
  let chosen: string;
  let data: SuiteData;
  try {
    if (suite !== undefined) {
      if (!suites.includes(suite)) throw new RecordingError(`run ${basename(dir)} has no data file '${suite}'; it has: ${suites.join(', ')}`);
      chosen = suite;
      data = readData(dir, suite);
    } else if (suites.includes('console')) {
      chosen = 'console';
      data = readData(dir, chosen);
    } else {
      const loaded = suites.map((s) => [s, readData(dir, s)] as const);
      [chosen, data] = loaded.find(([, d]) => Object.keys(d.items ?? {}).some((k) => k.startsWith('PAYLOAD_HK.'))) ?? loaded[0];
    }
  } catch (e) {
    if (e instanceof RecordingError) throw e;
    throw new RecordingError(`run ${basename(dir)}: cannot read its recording: ${(e as Error).message}`);
  }
  if (typeof data.endMs !== 'number' || typeof data.items !== 'object' || !Array.isArray(data.events)) {
    throw new RecordingError(`run ${basename(dir)}: data/${chosen}.json is not a recording (endMs, items, events expected)`);
  }
  return { dir, info: readRunInfo(dir), suite: chosen, suites, data };
}

/** What the replaying page gets: the run, the time span, and every message's content in time order. */
export interface ReplayPayload {
  run: { folder: string; name: string | null; command: string | null; bench: string; seed: number; startedAt: string | null; durationS: number | null; kind: string | null };
  suite: string;
  suites: string[];
  endMs: number;
  tm: PagePacket[];
  events: Record<string, unknown>[];
  limits: SuiteData['limits'];
  /** The boards as the run met them, with their line statistics. */
  boards: SuiteData['boards'];
  /** Board telemetry frames rebuilt from the board items' histories ("apt.SPOT_X_URAD"), by time. */
  boardTm: PageBoardFrame[];
}

/** The recorded boards with a known definition. */
function boardDefs(data: SuiteData): [BoardName, BoardDefinition][] {
  return data.boards.flatMap((b) => (isBoardName(b.name) ? [[b.name, loadBoardDefinition(b.name)] as [BoardName, BoardDefinition]] : []));
}

/** An archived item's history as the store keeps one. */
const historyOf = (data: SuiteData, item: string) => (data.items[item] ?? []).map(([t, value]) => ({ t, value }));

/** Every telemetry frame of the recorded boards, by time. */
function boardFrames(data: SuiteData): PageBoardFrame[] {
  const frames: PageBoardFrame[] = [];
  for (const [name, def] of boardDefs(data)) {
    const names = def.telemetry.items;
    for (const g of groupsFromHistories(names.map((item) => historyOf(data, `${name}.${item}`)))) {
      const values: Record<string, number> = {};
      g.values.forEach((v, j) => {
        if (typeof v === 'number') values[names[j]] = v;
      });
      frames.push(frameOf({ name, def }, g.t, values));
    }
  }
  return frames.sort((a, b) => a.t - b.t);
}

/** GET /api/boards of a replay: the recorded boards as the Boards view lists them; no writes (no bench). */
export function replayBoards(rec: Recording): Record<string, unknown> {
  const recorded = new Map(rec.data.boards.map((b) => [b.name, b]));
  return {
    allowWrites: false,
    boards: boardDefs(rec.data).map(([name, def]) => {
      const b = recorded.get(name)!;
      return {
        name,
        title: def.title,
        identity: b.identity ? { ...b.identity, boardIdHex: `0x${b.identity.boardId.toString(16).padStart(4, '0')}` } : null,
        address: rec.info?.ports[name] ?? null,
        port: b.port,
        writes: { allowed: false, reason: `replay of ${basename(rec.dir)}: no bench to read or write` },
        telemetry: { periodMs: def.telemetry.periodMs, items: def.telemetry.items },
        registers: def.registers.map((r) => registerJson(r, def.telemetry.items)),
      };
    }),
  };
}

export function replayPayload(rec: Recording): ReplayPayload {
  const { data, info } = rec;
  const lastT = data.events.reduce((m, e) => Math.max(m, e.t), 0);
  return {
    run: {
      folder: basename(rec.dir),
      name: info?.name ?? null,
      command: info?.command ?? null,
      bench: info?.bench ?? data.bench,
      seed: info?.seed ?? data.seed,
      startedAt: info?.startedAt ?? null,
      durationS: info?.durationS ?? null,
      kind: info?.kind ?? null,
    },
    suite: rec.suite,
    suites: rec.suites,
    endMs: Math.max(data.endMs, lastT),
    tm: packetsFromHistories((item) => historyOf(data, item)),
    events: data.events.map(eventJson).sort((a, b) => (a.t as number) - (b.t as number)),
    limits: data.limits ?? [],
    boards: data.boards,
    boardTm: boardFrames(data),
  };
}
