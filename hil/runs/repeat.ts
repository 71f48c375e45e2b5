import type { parseJunit } from '../report/html.ts';

type TestCase = ReturnType<typeof parseJunit>[number];

/** `npm run hil -- --repeat N`: each test's verdicts over the repetitions (pure). */
export interface RepeatCount {
  test: string;
  passed: number;
  failed: number;
  skipped: number;
}

/** Per-test counts over the repetitions' JUnit results, in first-seen order. */
export function repeatTally(repetitions: readonly (readonly TestCase[])[]): RepeatCount[] {
  const counts = new Map<string, RepeatCount>();
  for (const tests of repetitions) {
    for (const t of tests) {
      const c = counts.get(t.name) ?? { test: t.name, passed: 0, failed: 0, skipped: 0 };
      if (t.failure !== undefined) c.failed++;
      else if (t.skipped) c.skipped++;
      else c.passed++;
      counts.set(t.name, c);
    }
  }
  return [...counts.values()];
}

/** "  3/5 passed  name" lines, the unsteady tests (some failed) first, then the verdict. */
export function repeatText(tally: readonly RepeatCount[], repetitions: number): string {
  const flaky = tally.filter((c) => c.failed > 0 && c.passed > 0);
  const sorted = [...tally].sort((a, b) => b.failed - a.failed);
  const lines = [`pass counts over ${repetitions} repetitions:`];
  for (const c of sorted) lines.push(`  ${`${c.passed}/${repetitions}`.padStart(7)} passed${c.skipped ? `, ${c.skipped} skipped` : ''}  ${c.test}`);
  const alwaysFailed = tally.filter((c) => c.failed > 0 && c.passed === 0).length;
  lines.push(flaky.length > 0 ? `${flaky.length} flaky test(s): passed in some repetitions and failed in others` : alwaysFailed > 0 ? `no flaky test; ${alwaysFailed} failed in every repetition` : 'no flaky test: every test had the same verdict in every repetition');
  return lines.join('\n');
}
