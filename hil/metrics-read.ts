import { join } from 'node:path';
import { readJsonDir } from './json-dir.ts';
import type { TestMetrics } from './metrics.ts';

/** Reads what suites recorded (kept apart from metrics.ts, which needs vitest at import). */
export function readMetrics(reportDir: string): TestMetrics[] {
  return readJsonDir<TestMetrics>(join(reportDir, 'metrics'));
}
