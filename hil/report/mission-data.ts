import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { MissionPassResult } from '../mission/index.ts';
import { LimitMonitor } from '../bench/limits.ts';
import { TelemetryStore } from '../bench/store.ts';
import { ingestPayloadTm } from '../bench/tm-ingest.ts';
import type { SuiteData } from './suite-data.ts';

/**
 * Writes a mission pass's telemetry in the report's suite-data form, so the HTML
 * report plots it like any bench run: the TM the payload sent goes through the same
 * ingestion (items, events, limits on arrival) as live bench telemetry.
 */
export function writeMissionReportData(suite: string, name: string, seed: number, r: MissionPassResult): string {
  const store = new TelemetryStore();
  const limits = new LimitMonitor();
  limits.onTransition((tr) => store.addEvent({ t: tr.t, name: `limit:${tr.item}`, severity: tr.to, fields: { value: tr.value, from: tr.from, to: tr.to, detail: tr.detail } }));
  for (const tm of r.tm) ingestPayloadTm(store, limits, tm.tMs, tm.bytes);
  const items: Record<string, [number, number | string | boolean][]> = {};
  for (const n of store.names()) items[n] = store.history(n).map((s) => [Math.round(s.t * 1000) / 1000, s.value]);
  const root = process.env.HIL_ROOT ?? process.cwd();
  const dir = join(process.env.HIL_REPORT_DIR ?? join(root, 'reports', 'hil'), 'data');
  mkdirSync(dir, { recursive: true });
  const data: SuiteData = {
    suite: `${basename(suite)}: ${name}`,
    bench: `mission pass, in-process emulators (${r.summary.station})`,
    clock: 'sim',
    seed,
    endMs: r.tm.at(-1)?.tMs ?? 0,
    boards: Object.entries(r.summary.boardLinks).map(([b, s]) => ({
      name: b,
      port: 'in-process emulator',
      capture: null,
      identity: null,
      rejectedFrames: 0,
      driver: { requests: s.requests, retries: 0, timeouts: s.timeouts, telemetryFrames: s.telemetryFrames, telemetryLost: s.telemetryLost },
    })),
    items,
    events: store.events,
    limits: limits.transitions,
  };
  const path = join(dir, `${basename(suite).replace(/\.hil\.ts$/, '')}-${name.replace(/[^A-Za-z0-9_-]+/g, '_')}.json`);
  writeFileSync(path, JSON.stringify(data));
  return path;
}
