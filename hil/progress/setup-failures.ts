import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * What the HIL reporters say about a suite whose bench did not open (a port that does not
 * open, a board that does not answer: a BoardError thrown by Bench.open in the fixture's
 * beforeAll). That is the rig's state, not a bug in the code, so it gets one line per
 * board, never a stack trace with a source excerpt.
 */
export interface ReportedError {
  readonly name?: string;
  readonly message?: string;
}

/** "hil: setup failed: board apt on port /dev/ttyUSB99: ...", or null when `e` is not a board's setup failure. */
export function setupFailureLine(e: ReportedError): string | null {
  return e.name === 'BoardError' ? `hil: setup failed: ${e.message ?? '(no message)'}` : null;
}

/** Each setup-failure line once: every suite opens the bench, and fails alike on the same board. */
export class SetupFailures {
  private readonly seen = new Set<string>();

  /** The lines among `errors` not printed yet (the caller prints them). */
  fresh(errors: readonly ReportedError[]): string[] {
    const lines: string[] = [];
    for (const e of errors) {
      const line = setupFailureLine(e);
      if (line && !this.seen.has(line)) {
        this.seen.add(line);
        lines.push(line);
      }
    }
    return lines;
  }
}

/**
 * Where the boards of a suite that ran were, from the data file the fixture wrote
 * (HIL_REPORT_DIR/data/<suite>.json): "  lines: qsrc port /dev/pts/4, apt ...". Only for
 * boards the bench started on a pty, whose path the runner's header cannot know.
 */
export function ptyLinesNote(moduleId: string): string | null {
  const reportDir = process.env.HIL_REPORT_DIR;
  const benchFile = process.env.HIL_BENCH;
  if (!reportDir || !benchFile || !existsSync(benchFile)) return null;
  const file = join(reportDir, 'data', `${basename(moduleId).replace(/\.hil\.ts$/, '')}.json`);
  if (!existsSync(file)) return null;
  try {
    const bench = JSON.parse(readFileSync(benchFile, 'utf8')) as { boards?: Record<string, { mode?: string }> };
    const data = JSON.parse(readFileSync(file, 'utf8')) as { boards?: { name: string; port: string }[] };
    const pty = (data.boards ?? []).filter((b) => bench.boards?.[b.name]?.mode === 'pty');
    return pty.length === 0 ? null : `  lines: ${pty.map((b) => `${b.name} ${b.port}`).join(', ')}`;
  } catch {
    return null;
  }
}
