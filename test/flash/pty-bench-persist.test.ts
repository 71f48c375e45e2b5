import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchFlashFile } from '../../hil/emulator-host.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { ROOT, runScriptAsync } from '../cli/run.ts';
import { toolTier } from '../tiers.ts';

/**
 * Issue 13: `flash --bench <pty bench> --verify-only` started a blank emulator and so always
 * reported MISMATCH. A pty bench's board now keeps its flash in
 * reports/flash/<bench>/<board>.flash across runs: flash, then verify, agree.
 */
const HAVE_SOCAT = toolTier('flash on a pty bench', ['socat'], socatAvailable());

describe.runIf(HAVE_SOCAT)('flash --bench (pty) keeps the board flash across runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pty-bench-'));
  // A bench of its own, so its flash file is this test's alone.
  const name = `test-persist-${process.pid}`;
  const bench = join(dir, 'bench.json');
  writeFileSync(bench, JSON.stringify({ name, boards: { qsrc: { mode: 'pty', baud: 921600 } } }));
  const config = join(ROOT, 'boards/config/examples/qsrc.yaml');
  const flashFile = benchFlashFile(ROOT, name, 'qsrc');
  afterAll(() => rmSync(join(flashFile, '..'), { recursive: true, force: true }));

  it('a blank board MISMATCHes; after flash --yes, --verify-only in a new process says MATCH', async () => {
    const before = await runScriptAsync('flash', ['--board', 'qsrc', '--bench', bench, '--config', config, '--verify-only']);
    expect(before.code, before.stderr).toBe(1);
    expect(before.stdout).toMatch(/verify: MISMATCH/);
    expect(existsSync(flashFile)).toBe(true);

    const flashed = await runScriptAsync('flash', ['--board', 'qsrc', '--bench', bench, '--config', config, '--yes']);
    expect(flashed.code, flashed.stderr).toBe(0);
    expect(flashed.stdout).toMatch(/flashed qsrc on .*-> generation 1/);

    const verified = await runScriptAsync('flash', ['--board', 'qsrc', '--bench', bench, '--config', config, '--verify-only']);
    expect(verified.code, `${verified.stdout}\n${verified.stderr}`).toBe(0);
    expect(verified.stdout).toMatch(/verify: the board runs exactly .*qsrc\.yaml/);
  }, 120_000);
});
