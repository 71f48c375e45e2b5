import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from '../cli/run.ts';

describe('npm start (the README main command)', () => {
  it('runs the default regression suite green with seed 1: summary table, JUnit XML, HTML report with plots', () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-'));
    const r = runScript('start', ['--report-dir', dir]);
    expect(r.stdout).toMatch(/\n(\d+) passed, 0 failed\n/);
    expect(r.code).toBe(0);
    // Every part the issue lists is in the table.
    for (const group of ['payload boot and self-test', 'payload telecommand round trips', 'payload FDIR on the emulated boards', 'config flash', 'passes over Beijing', 'uplink security', 'trusted relay']) {
      expect(r.stdout).toContain(group);
    }
    // The nominal pass row carries its figures: duration, max elevation, loss range, QBER, key bits, pointing RMS.
    // (vitest's own progress lines come first; the table row is the last one naming the test)
    const nominal = r.stdout.split('\n').filter((l) => l.includes('nominal pass')).at(-1)!;
    const key = /\spass\s.*\s(\d{6,7})\s/.exec(nominal)?.[1];
    expect(Number(key)).toBeGreaterThanOrEqual(250_000);
    expect(Number(key)).toBeLessThanOrEqual(1_100_000);
    expect(existsSync(join(dir, 'junit.xml'))).toBe(true);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/<svg/);
  }, 400_000);
});
