import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../hil/report/html.ts';
import { stampJunit } from '../../hil/report/junit.ts';
import { runIdentity } from '../../hil/report/run-info.ts';
import { runScript } from '../cli/run.ts';

/**
 * A real `npm run hil` of two quick suites: its report has a section per suite that ran
 * and the run's identity in the header, and its JUnit file (stamped, as the runner does
 * after vitest) the same identity as <properties> under a root named after the run.
 */
describe('the report and JUnit file of a real hil run', () => {
  it('hold a section per suite that ran and the run identity', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-run-'));
    const r = runScript('hil', ['--report-dir', dir, 'uplink-security', 'config-flash']);
    expect(r.code, r.stderr).toBe(0);
    const run = runIdentity(dir);
    expect(run.name).toBeTruthy();
    // The runner stamps the JUnit file; stamping again changes nothing (idempotent).
    stampJunit(dir, run);
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
    const suitesRan = [...xml.matchAll(/<testsuite name="hil\/suites\/([a-z-]+)\.hil\.ts"/g)].map((m) => m[1]);
    expect(suitesRan.sort()).toEqual(['config-flash', 'uplink-security']);
    expect(xml).toMatch(new RegExp(`<testsuites name="${run.name!.replace(/[+]/g, '\\+')}"`));
    for (const p of ['commit', 'bench', 'seed', 'startedAt', 'board.qsrc.fwVersion', 'board.qsrc.serialNumber', 'board.qsrc.emulated']) expect(xml).toContain(`<property name="${p}" value="`);

    const html = readFileSync(buildReport(dir), 'utf8');
    expect([...html.matchAll(/<section class="suite" id="suite-([^"]+)"/g)].map((m) => m[1]).sort()).toEqual(suitesRan.sort());
    const head = html.slice(0, html.indexOf('<section'));
    expect(head).toContain(run.commit!);
    expect(head).toMatch(/<td>qsrc<\/td><td>0x[0-9a-f]{4}<\/td><td>\d+\.\d+<\/td><td>\d+\.\d+\.\d+<\/td><td>\d+<\/td><td>emulated<\/td>/);
  }, 120_000);
});
