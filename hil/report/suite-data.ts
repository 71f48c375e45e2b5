import { readJsonDir } from '../json-dir.ts';
import { basename, join } from 'node:path';
import type { Bench } from '../bench/bench.ts';
import type { EngineStats } from '../request-engine.ts';
import { formatFwVersion, formatHwVersion, type Identity } from '../../protocols/board-link.ts';

/**
 * What a suite leaves for the HTML report (reports/hil/data/<suite>.json): written by
 * the bench fixture (hil/fixture.ts) and by mission passes (mission-data.ts), read by
 * html.ts. One definition so writer and reader cannot drift.
 */
export interface BoardIdentityData {
  boardId: number;
  /** "1.2" (major.minor as the board reports it). */
  hwVersion: string;
  /** "2.0.3" (major.minor.patch). */
  fwVersion: string;
  serialNumber: number;
  emulated: boolean;
}

export interface SuiteBoardData {
  name: string;
  port: string;
  capture: string | null;
  rejectedFrames: number;
  /** The driver's request-engine counters (requests, retries, timeouts, telemetry frames, ...). */
  driver: Partial<EngineStats>;
  /** As read from the board at the bench's identity check; null when never read. */
  identity?: BoardIdentityData | null;
}

export type ItemValue = number | string | boolean;

export interface SuiteData {
  suite: string;
  bench: string;
  clock: string;
  seed: number;
  endMs: number;
  boards: SuiteBoardData[];
  items: Record<string, [number, ItemValue][]>;
  events: { t: number; name: string; severity?: string; fields: Record<string, unknown> }[];
  limits: { t: number; item: string; value: number; from: string; to: string; detail: string }[];
  commands?: { t: number; name: string; seq: number; args: Record<string, unknown> }[];
}

/** The board-link identity in report form (versions spelled as engineers read them). */
export function identityData(id: Identity): BoardIdentityData {
  return {
    boardId: id.boardId,
    hwVersion: formatHwVersion(id.hwVersion),
    fwVersion: formatFwVersion(id.fwVersion),
    serialNumber: id.serialNumber,
    emulated: id.emulated,
  };
}

/** What `bench` recorded so far (histories, events, limit transitions, boards, commands) as a suite's data. */
export function benchSuiteData(suite: string, bench: Bench): SuiteData {
  const items: Record<string, [number, ItemValue][]> = {};
  for (const n of bench.store.names()) items[n] = bench.store.history(n).map((s) => [Math.round(s.t * 1000) / 1000, s.value]);
  return {
    suite,
    bench: bench.config.name,
    clock: bench.clock.kind,
    seed: bench.seed,
    endMs: bench.now(),
    boards: bench.boards.map((b) => ({ name: b.name, port: b.port, capture: b.capture?.path ?? null, rejectedFrames: b.rejectedFrames, driver: b.driver.stats, identity: b.identity ? identityData(b.identity) : null })),
    items,
    events: bench.store.events,
    limits: bench.limits.transitions,
    commands: bench.tcLog,
  };
}

/** Every suite-data file of a run (data/*.json in the report dir), in file-name order. */
export function readSuiteData(reportDir: string): SuiteData[] {
  return readJsonDir<SuiteData>(join(reportDir, 'data'));
}

/** The suite a data file or JUnit classname belongs to: "hil/suites/passes.hil.ts: nominal" -> "passes". */
export function suiteId(name: string): string {
  return basename(name.split(':')[0].trim()).replace(/\.hil\.ts$/, '');
}
