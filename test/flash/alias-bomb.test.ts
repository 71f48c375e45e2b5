import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Issue 11 item 10 (flash part): a YAML alias bomb ("billion laughs": nine levels of
 * nine aliases, 9^9 strings once expanded) as `flash --config`. The yaml library's alias
 * limit (maxAliasCount) stops the expansion; the CLI says so in one line, exit 1 (bad
 * data), no stack trace, and never opens the line.
 */
const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'alias-bomb-'));

function billionLaughs(): string {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 8; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]`);
  lines.push('board: qsrc', 'parameters: { MU_SIGNAL: 0.6 }', 'tables: { pattern: *a8 }');
  return lines.join('\n') + '\n';
}

describe('flash --config with a YAML alias bomb', () => {
  it('is refused in one line naming the file, exit 1, no stack trace, nothing opened', () => {
    const file = join(dir, 'bomb.yaml');
    writeFileSync(file, billionLaughs());
    // A port that does not exist: reaching it would fail differently (and name the port).
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/flash.ts', '--board', 'qsrc', '--port', join(dir, 'no-such-tty'), '--config', file, '--yes'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(1);
    const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^flash: refused ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, nothing sent to the board: .*alias`, 'i'));
    expect(lines.filter((l) => /^\s+at |Error:/.test(l))).toEqual([]);
    expect(r.stderr).not.toMatch(/no-such-tty/);
  });
});
