import type { File } from '@vitest/runner';
import { DefaultReporter } from 'vitest/reporters';
import { ptyLinesNote, SetupFailures } from './setup-failures.ts';
import type { TestModule } from 'vitest/node';

/**
 * The HIL runner's progress on a terminal: vitest's own reporter, except that a bench
 * which did not open (a BoardError from the fixture's beforeAll) is one line per board
 * instead of a "Failed Suites" block with a stack trace and a source excerpt.
 */
export default class TerminalReporter extends DefaultReporter {
  private readonly setup = new SetupFailures();

  override onTestModuleEnd(m: TestModule): void {
    super.onTestModuleEnd(m);
    const note = ptyLinesNote(m.moduleId);
    if (note) this.log(note);
  }

  override reportSummary(files: File[], errors: unknown[]): void {
    // The board errors are left out of vitest's error summary for its duration only: the
    // JUnit reporter reads the same tasks and keeps them.
    const kept = new Map<File, File['result']>();
    for (const f of files) {
      const errs = f.result?.errors;
      if (!f.result || !errs?.some((e) => e.name === 'BoardError')) continue;
      for (const line of this.setup.fresh(errs)) this.error(line);
      kept.set(f, f.result);
      const rest = errs.filter((e) => e.name !== 'BoardError');
      f.result = { ...f.result, errors: rest.length > 0 ? rest : undefined };
    }
    try {
      super.reportSummary(files, errors);
    } finally {
      for (const [f, r] of kept) f.result = r;
    }
  }
}
