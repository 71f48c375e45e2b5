import fc from 'fast-check';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunDir, resolveRun, RunNotFoundError, runStamp, safeRunName } from '../../hil/runs/archive.ts';
import { compareRuns, DEFAULT_TOLERANCE, figureMoved, type RunSnapshot } from '../../hil/runs/compare.ts';
import { comparisonHtml, comparisonText } from '../../hil/runs/compare-format.ts';
import { repeatTally, repeatText } from '../../hil/runs/repeat.ts';

const run = (id: string, tests: RunSnapshot['tests'], figures: RunSnapshot['figures']): RunSnapshot => ({ id, tests, figures });

describe('compareRuns: verdict changes and moved figures', () => {
  const a = run('A', { 'p > nominal': 'passed', 'p > lock loss': 'passed', 'p > skipped one': 'skipped', 'p > gone': 'passed' }, { 'p > nominal | qber': 0.02, 'p > nominal | finalKeyBits': 500_000, 'p > nominal | pointingRmsUrad': 1.5, 'link apt.apt | retries': 0 });
  const b = run('B', { 'p > nominal': 'passed', 'p > lock loss': 'failed', 'p > skipped one': 'passed', 'p > new': 'passed' }, { 'p > nominal | qber': 0.0201, 'p > nominal | finalKeyBits': 450_000, 'p > nominal | pointingRmsUrad': 1.5, 'link apt.apt | retries': 2 });

  it('lists each test whose verdict changed, passed -> failed as a regression', () => {
    const c = compareRuns(a, b);
    expect(c.verdictChanges).toEqual([
      { test: 'p > gone', from: 'passed', to: null, regressed: false },
      { test: 'p > lock loss', from: 'passed', to: 'failed', regressed: true },
      { test: 'p > new', from: null, to: 'passed', regressed: false },
      { test: 'p > skipped one', from: 'skipped', to: 'passed', regressed: false },
    ]);
    expect(c.regressed).toBe(true);
    expect(compareRuns(b, a).regressed).toBe(false); // failed -> passed is a fix
  });

  it('lists the figures that moved beyond the relative tolerance, from 0 included', () => {
    const c = compareRuns(a, b, 0.01);
    expect(c.moved).toEqual([
      { figure: 'link apt.apt | retries', from: 0, to: 2, relative: Infinity },
      { figure: 'p > nominal | finalKeyBits', from: 500_000, to: 450_000, relative: -0.1 },
    ]);
    expect(c.steady).toBe(2); // QBER moved 0.5 %, pointing not at all
    expect(compareRuns(a, b, 0.2).moved.map((m) => m.figure)).toEqual(['link apt.apt | retries']);
    expect(compareRuns(a, b, 0.001).moved.map((m) => m.figure)).toContain('p > nominal | qber');
  });

  it('a figure in one run only is listed with the other side null', () => {
    const c = compareRuns(run('A', {}, { x: 1 }), run('B', {}, { y: 2 }));
    expect(c.moved).toEqual([
      { figure: 'x', from: 1, to: null, relative: null },
      { figure: 'y', from: null, to: 2, relative: null },
    ]);
  });

  it('refuses a negative or NaN tolerance', () => {
    expect(() => compareRuns(a, b, -0.1)).toThrow(RangeError);
    expect(() => compareRuns(a, b, Number.NaN)).toThrow(RangeError);
  });

  const snapshot = fc.record({
    tests: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('passed' as const, 'failed' as const, 'skipped' as const)),
    figures: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.double({ noNaN: true, min: -1e9, max: 1e9 })),
  });

  it('a run compared with itself: no change, no regression (property)', () => {
    fc.assert(
      fc.property(snapshot, fc.double({ min: 0, max: 1, noNaN: true }), (s, tol) => {
        const c = compareRuns({ id: 'X', ...s }, { id: 'X', ...s }, tol);
        return c.verdictChanges.length === 0 && c.moved.length === 0 && !c.regressed && c.steady === Object.keys(s.figures).length;
      }),
      { seed: 13 },
    );
  });

  it('moved is symmetric in the two runs, and a larger tolerance never moves more figures (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.double({ min: 0, max: 1, noNaN: true }), (x, y, tol) => {
        expect(figureMoved(x, y, tol)).toBe(figureMoved(y, x, tol));
        if (!figureMoved(x, y, tol)) expect(figureMoved(x, y, tol * 2)).toBe(false);
      }),
      { seed: 13 },
    );
  });

  it('prints the changes as text and as a page', () => {
    const c = compareRuns(a, b);
    const text = comparisonText(c);
    expect(text).toContain('compare A -> B (tolerance 1 %)');
    expect(text).toContain('REGRESSED p > lock loss: passed -> failed');
    expect(text).toMatch(/p > nominal \| finalKeyBits\s+500000 -> 450000\s+-10\.0 %/);
    expect(text).toContain('REGRESSION: 1 test(s) passed in A and failed in B');
    const page = comparisonHtml(c);
    expect(page).toContain('<tr class="regressed"><td>p &gt; lock loss</td><td>passed</td><td>failed</td></tr>');
    expect(page).toContain('REGRESSION');
    const same = compareRuns(a, a);
    expect(comparisonText(same)).toContain('no change: every verdict the same, 4 figures within the tolerance');
    expect(comparisonHtml(same)).toContain('No change');
    expect(DEFAULT_TOLERANCE).toBe(0.01);
  });
});

describe('--repeat: pass counts per test', () => {
  const t = (name: string, failed = false, skipped = false) => ({ suite: 's', name, timeS: 0, failure: failed ? 'x' : undefined, skipped });
  it('counts each test over the repetitions and names the flaky ones', () => {
    const tally = repeatTally([[t('a'), t('b')], [t('a'), t('b', true)], [t('a'), t('b')]]);
    expect(tally).toEqual([
      { test: 'a', passed: 3, failed: 0, skipped: 0 },
      { test: 'b', passed: 2, failed: 1, skipped: 0 },
    ]);
    const text = repeatText(tally, 3);
    expect(text.split('\n')[1]).toMatch(/^\s+2\/3 passed {2}b$/);
    expect(text).toContain('1 flaky test(s)');
    expect(repeatText(repeatTally([[t('a')], [t('a')]]), 2)).toContain('no flaky test');
  });
});

describe('the run archive: folder names and run references', () => {
  it('names a run folder by its UTC start (ISO 8601 basic) and a safe name', () => {
    expect(runStamp(new Date('2025-11-30T16:12:05.123Z'))).toBe('20251130T161205Z');
    expect(safeRunName('hil emulated/seed 1 apt+boards')).toBe('hil_emulated_seed_1_apt_boards');
    expect(safeRunName('///')).toBe('run');
  });

  it('two runs in the same second get two folders; latest, names and unique prefixes resolve; unknown ones are refused', () => {
    const root = mkdtempSync(join(tmpdir(), 'runs-unit-'));
    const at = new Date('2025-11-30T16:12:05Z');
    const one = createRunDir(join(root, 'runs'), 'x', at);
    const two = createRunDir(join(root, 'runs'), 'x', at);
    const three = createRunDir(join(root, 'runs'), 'y', new Date('2025-12-01T08:00:00Z'));
    expect([one, two].map((d) => d.slice(root.length))).toEqual(['/runs/20251130T161205Z-x', '/runs/20251130T161205Z-x-2']);
    for (const d of [one, two, three]) writeFileSync(join(d, 'run.json'), '{}');
    mkdirSync(join(root, 'runs', 'not-a-run')); // no run.json: not a run
    expect(resolveRun(root, '20251130T161205Z-x')).toBe(one);
    expect(resolveRun(root, '20251201')).toBe(three);
    expect(resolveRun(root, 'latest')).toBe(three); // no link yet: the newest
    symlinkSync('runs/20251130T161205Z-x-2', join(root, 'latest'));
    expect(resolveRun(root, 'latest')).toBe(two);
    expect(() => resolveRun(root, '20251130')).toThrow(/ambiguous: 20251130T161205Z-x, 20251130T161205Z-x-2/);
    expect(() => resolveRun(root, 'not-a-run')).toThrow(RunNotFoundError);
    expect(() => resolveRun(root, 'zzz')).toThrow(/no run 'zzz'; runs: 20251130T161205Z-x, 20251130T161205Z-x-2, 20251201T080000Z-y/);
  });
});
