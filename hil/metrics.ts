import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/**
 * Figures a suite test reports for the regression summary table (pass duration, max
 * elevation, loss range, QBER, key bits, pointing RMS, ...). One JSON file per test in
 * <report dir>/metrics/, so the runner can read them after vitest has exited.
 */
export interface TestMetrics {
  /** The test's full name as the JUnit report has it ("describe > test"). */
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

/** Records figures for the test that is running (its name comes from vitest). */
export function recordMetrics(figures: Omit<TestMetrics, 'test'>): void {
  const name = expect.getState().currentTestName;
  if (!name) throw new Error('recordMetrics must be called inside a test');
  const m: TestMetrics = { ...figures, test: name };
  const dir = metricsDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${m.test.replace(/[^A-Za-z0-9_-]+/g, '_')}.json`), JSON.stringify(m));
}
