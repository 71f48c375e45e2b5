import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestMetrics } from './metrics.ts';

/** Reads what suites recorded (kept apart from metrics.ts, which needs vitest at import). */
export function readMetrics(reportDir: string): TestMetrics[] {
  const dir = join(reportDir, 'metrics');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as TestMetrics);
}
