import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readMetrics } from '../metrics-read.ts';
import { parseJunit } from '../report/html.ts';
import type { RunSnapshot, Verdict } from './compare.ts';

/**
 * A run folder as a RunSnapshot: verdicts from its junit.xml, figures from the metrics
 * the suites recorded (hil/metrics.ts: key bits, QBER, pointing RMS, ...) and the board
 * link statistics of each suite's data file (requests, retries, timeouts, rejected
 * frames, telemetry frames and gaps).
 */
export function readRunSnapshot(dir: string): RunSnapshot {
  const junit = join(dir, 'junit.xml');
  const tests: Record<string, Verdict> = {};
  if (existsSync(junit)) {
    for (const t of parseJunit(readFileSync(junit, 'utf8'))) tests[t.name] = t.failure !== undefined ? 'failed' : t.skipped ? 'skipped' : 'passed';
  }
  const figures: Record<string, number> = {};
  for (const m of readMetrics(dir)) {
    for (const [k, v] of Object.entries(m)) if (k !== 'test' && typeof v === 'number') figures[`${m.test} | ${k}`] = v;
  }
  Object.assign(figures, linkFigures(dir));
  return { id: basename(dir), tests, figures };
}

/** "link apt.apt | retries": each suite's board link counters. */
function linkFigures(dir: string): Record<string, number> {
  const dataDir = join(dir, 'data');
  const out: Record<string, number> = {};
  if (!existsSync(dataDir)) return out;
  for (const f of readdirSync(dataDir).filter((x) => x.endsWith('.json')).sort()) {
    let data: { boards?: { name: string; rejectedFrames?: number; driver?: Record<string, unknown> }[] };
    try {
      data = JSON.parse(readFileSync(join(dataDir, f), 'utf8'));
    } catch {
      continue;
    }
    for (const b of data.boards ?? []) {
      const stats: Record<string, unknown> = { rejectedFrames: b.rejectedFrames, ...(b.driver ?? {}) };
      for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') out[`link ${f.replace(/\.json$/, '')}.${b.name} | ${k}`] = v;
    }
  }
  return out;
}
