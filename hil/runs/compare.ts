/**
 * Two runs side by side (pure, no I/O): which tests changed verdict and which figures
 * moved beyond a relative tolerance. This is how a regression run answers "what did my
 * change do": `npm run runs -- compare A B`.
 */

export type Verdict = 'passed' | 'failed' | 'skipped';

/** What a run is, for a comparison: each test's verdict and each figure's value, by name. */
export interface RunSnapshot {
  /** The run's folder name. */
  id: string;
  tests: Readonly<Record<string, Verdict>>;
  /** Figures by name: "<test> | qber" (metrics), "link <suite>.<board> | retries" (board link statistics). */
  figures: Readonly<Record<string, number>>;
}

export interface VerdictChange {
  test: string;
  /** null: the test was not in that run. */
  from: Verdict | null;
  to: Verdict | null;
  /** passed -> failed: what makes `compare` exit 1. */
  regressed: boolean;
}

export interface FigureMove {
  figure: string;
  /** null: the figure was not in that run. */
  from: number | null;
  to: number | null;
  /** (to - from) / |from|; null when a side is missing, ±Infinity from 0. */
  relative: number | null;
}

export interface Comparison {
  a: string;
  b: string;
  tolerance: number;
  verdictChanges: VerdictChange[];
  moved: FigureMove[];
  /** Figures in both runs within the tolerance. */
  steady: number;
  regressed: boolean;
}

/** Default relative tolerance: a figure moved when it changed by more than 1 % of the larger value. */
export const DEFAULT_TOLERANCE = 0.01;

/**
 * A figure moved when |b - a| > tolerance x max(|a|, |b|): symmetric in a and b, and a
 * figure at 0 in one run moves for any change. Figures in one run only are listed too.
 */
export function figureMoved(a: number, b: number, tolerance: number): boolean {
  if (a === b) return false;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return true;
  return Math.abs(b - a) > tolerance * Math.max(Math.abs(a), Math.abs(b));
}

export function compareRuns(a: RunSnapshot, b: RunSnapshot, tolerance = DEFAULT_TOLERANCE): Comparison {
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be a number >= 0, got ${tolerance}`);
  const verdictChanges: VerdictChange[] = [];
  for (const test of union(Object.keys(a.tests), Object.keys(b.tests))) {
    const from = a.tests[test] ?? null;
    const to = b.tests[test] ?? null;
    if (from !== to) verdictChanges.push({ test, from, to, regressed: from === 'passed' && to === 'failed' });
  }
  const moved: FigureMove[] = [];
  let steady = 0;
  for (const figure of union(Object.keys(a.figures), Object.keys(b.figures))) {
    const from = a.figures[figure] ?? null;
    const to = b.figures[figure] ?? null;
    if (from !== null && to !== null) {
      if (!figureMoved(from, to, tolerance)) {
        steady++;
        continue;
      }
      moved.push({ figure, from, to, relative: from === 0 ? Math.sign(to) * Infinity : (to - from) / Math.abs(from) });
    } else {
      moved.push({ figure, from, to, relative: null });
    }
  }
  return { a: a.id, b: b.id, tolerance, verdictChanges, moved, steady, regressed: verdictChanges.some((c) => c.regressed) };
}

const union = (x: string[], y: string[]) => [...new Set([...x, ...y])].sort();
