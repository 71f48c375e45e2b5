import { relative } from 'node:path';
import type { SerializedError } from 'vitest';
import type { Reporter, TestCase, TestModule, TestRunEndReason } from 'vitest/node';
import { ptyLinesNote, SetupFailures } from './setup-failures.ts';

/**
 * The HIL runner's progress when stdout is not a terminal (CI logs, a pipe, a file): one
 * plain line per test as it ends, no ANSI codes and no redrawn lines, so a long suite is
 * never silent. Failures follow their line with the error; a bench that did not open is
 * one line per board (setup-failures.ts). The summary keeps vitest's wording
 * ("Tests  6 passed (6)").
 */
export default class LinesReporter implements Reporter {
  private readonly setup = new SetupFailures();
  private readonly counts = { passed: 0, failed: 0, skipped: 0 };
  private readonly files = { passed: 0, failed: 0, skipped: 0 };
  private startMs = 0;

  private out(line: string): void {
    process.stdout.write(`${line}\n`);
  }

  onTestRunStart(): void {
    this.startMs = performance.now();
  }

  onTestModuleStart(m: TestModule): void {
    this.out(`suite ${relative(process.cwd(), m.moduleId)}`);
  }

  onTestCaseResult(t: TestCase): void {
    const r = t.result();
    const ms = t.diagnostic()?.duration ?? 0;
    if (r.state === 'passed') {
      this.counts.passed++;
      this.out(`  pass  ${t.fullName} (${(ms / 1000).toFixed(1)} s)`);
    } else if (r.state === 'failed') {
      this.counts.failed++;
      this.out(`  FAIL  ${t.fullName} (${(ms / 1000).toFixed(1)} s)`);
      for (const e of r.errors ?? []) this.out(indent(errorText(e)));
    } else if (r.state === 'skipped') {
      this.counts.skipped++;
      this.out(`  skip  ${t.fullName}${r.note ? ` (${r.note})` : ''}`);
    }
  }

  onTestModuleEnd(m: TestModule): void {
    const errors = m.errors();
    for (const line of this.setup.fresh(errors)) this.out(line);
    for (const e of errors) if (e.name !== 'BoardError') this.out(`  error in ${relative(process.cwd(), m.moduleId)}:\n${indent(errorText(e))}`);
    const note = ptyLinesNote(m.moduleId);
    if (note) this.out(note);
    const state = m.state();
    if (state === 'failed' || errors.length > 0) this.files.failed++;
    else if (state === 'skipped') this.files.skipped++;
    else this.files.passed++;
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>, _reason: TestRunEndReason): void {
    for (const e of unhandled) this.out(`unhandled error:\n${indent(errorText(e))}`);
    const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    this.out('');
    this.out(` Test Files  ${summary(this.files)} (${total(this.files)})`);
    this.out(`      Tests  ${summary(this.counts)} (${total(this.counts)})`);
    this.out(`   Duration  ${((performance.now() - this.startMs) / 1000).toFixed(1)} s`);
  }
}

/** "1 failed | 5 passed | 2 skipped", non-zero parts only (as vitest prints it). */
function summary(c: { passed: number; failed: number; skipped: number }): string {
  const parts = [c.failed && `${c.failed} failed`, c.passed && `${c.passed} passed`, c.skipped && `${c.skipped} skipped`].filter(Boolean);
  return parts.length > 0 ? parts.join(' | ') : 'no tests';
}

/** An assertion's message, its diff and its stack, as text (never coloured). */
function errorText(e: { name?: string; message?: string; stack?: string; diff?: string }): string {
  const head = `${e.name ?? 'Error'}: ${e.message ?? ''}`;
  const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 8);
  // eslint-disable-next-line no-control-regex
  return [head, e.diff, ...frames].filter(Boolean).join('\n').replace(/\x1b\[[0-9;]*m/g, '');
}

const indent = (s: string) => s.split('\n').map((l) => `        ${l}`).join('\n');
