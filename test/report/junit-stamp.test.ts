import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../hil/report/html.ts';
import { parseJunit, stampJunit } from '../../hil/report/junit.ts';
import { JUNIT, makeRunDir, RUN_INFO } from './fixture-run.ts';

const properties = (xml: string) => [...xml.matchAll(/<property name="([^"]*)" value="([^"]*)"\/>/g)].map((m): [string, string] => [m[1], m[2]]);

describe('stampJunit: the JUnit XML carries the run identity', () => {
  it('names the root after the run and gives every testsuite the run properties', () => {
    const dir = makeRunDir();
    expect(stampJunit(dir, RUN_INFO)).toBe(join(dir, 'junit.xml'));
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(xml).toMatch(/<testsuites name="20261130T120000-regression" tests="4"/);
    expect(xml).not.toContain('vitest tests');
    expect(xml.match(/<properties>/g)).toHaveLength(2);
    const props = new Map(properties(xml.slice(0, xml.indexOf('</properties>'))));
    expect(Object.fromEntries(props)).toMatchObject({
      run: '20261130T120000-regression',
      commit: RUN_INFO.commit,
      dirty: 'true',
      bench: 'emulated',
      ports: 'apt=tcp:127.0.0.1:7002',
      seed: '7',
      startedAt: '2026-11-30T12:00:00.000Z',
      durationS: '63.3',
      command: 'npm start -- --seed 7',
      'board.apt.boardId': '0x5102',
      'board.apt.hwVersion': '1.1',
      'board.apt.fwVersion': '2.3.0',
      'board.apt.serialNumber': '3903176945',
      'board.apt.emulated': 'true',
      'board.qsrc.boardId': '0x5101',
    });
    // The results are untouched.
    expect(parseJunit(xml)).toEqual(parseJunit(JUNIT));
  });

  it('says the same as the report header', () => {
    const dir = makeRunDir();
    stampJunit(dir, RUN_INFO);
    const html = readFileSync(buildReport(dir), 'utf8');
    const head = html.slice(0, html.indexOf('<section'));
    for (const [k, v] of properties(readFileSync(join(dir, 'junit.xml'), 'utf8'))) {
      if (!k.startsWith('board.')) expect(head).toContain(`<th>${k}</th><td>`);
      expect(head).toContain(v);
    }
  });

  it('is idempotent and escapes what it writes', () => {
    const dir = makeRunDir();
    stampJunit(dir, { ...RUN_INFO, command: 'npm run hil -- --grep "a<b" & more' });
    stampJunit(dir, { ...RUN_INFO, command: 'npm run hil -- --grep "a<b" & more' });
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(xml.match(/<properties>/g)).toHaveLength(2);
    expect(xml).toContain('value="npm run hil -- --grep &quot;a&lt;b&quot; &amp; more"');
  });

  it('leaves a run without junit.xml alone', () => {
    expect(stampJunit(join(makeRunDir(), 'nowhere'), RUN_INFO)).toBeNull();
  });
});
