import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Figures a suite test reports for the regression summary table (pass duration, max
 * elevation, loss range, QBER, key bits, pointing RMS, ...). One JSON file per test in
 * <report dir>/metrics/, so the runner can read them after vitest has exited.
 */
export interface TestMetrics {
  test: string;
  durationS?: number;
  maxElevationDeg?: number;
  lossDbMin?: number;
  lossDbMax?: number;
  qber?: number;
  finalKeyBits?: number;
  pointingRmsUrad?: number;
  [extra: string]: string | number | boolean | undefined;
}

function metricsDir(): string {
  const root = process.env.HIL_ROOT ?? process.cwd();
  return join(process.env.HIL_REPORT_DIR ?? join(root, 'reports', 'hil'), 'metrics');
}

export function recordMetrics(m: TestMetrics): void {
  const dir = metricsDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${m.test.replace(/[^A-Za-z0-9_-]+/g, '_')}.json`), JSON.stringify(m));
}

export function readMetrics(reportDir: string): TestMetrics[] {
  const dir = join(reportDir, 'metrics');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as TestMetrics);
}
