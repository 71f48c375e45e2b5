import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunIdentity, runProperties } from './run-info.ts';
import { readSuiteData } from './suite-data.ts';

/** Reading and stamping vitest's JUnit XML (reports/hil/junit.xml). */
export interface TestCase {
  suite: string;
  name: string;
  timeS: number;
  failure?: string;
  skipped: boolean;
}

export function parseJunit(xml: string): TestCase[] {
  const out: TestCase[] = [];
  const re = /<testcase\s+([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    // (?:^|\s): `name=` must not match inside `classname=`.
    const attr = (n: string) => new RegExp(`(?:^|\\s)${n}="([^"]*)"`).exec(m[1])?.[1] ?? '';
    const body = m[3] ?? '';
    const fail = /<failure[^>]*message="([^"]*)"/.exec(body)?.[1] ?? (/<failure/.test(body) ? 'failed' : undefined);
    out.push({ suite: attr('classname'), name: unxml(attr('name')), timeS: Number(attr('time')) || 0, failure: fail ? unxml(fail) : undefined, skipped: /<skipped/.test(body) });
  }
  return out;
}

/** The root's start (first testsuite timestamp) and total time, for runs without run.json. */
export function junitTiming(xml: string): { startedAt?: string; durationS?: number } {
  const ts = /<testsuite\s[^>]*timestamp="([^"]+)"/.exec(xml)?.[1];
  const time = /<testsuites\s[^>]*\stime="([^"]+)"/.exec(xml)?.[1];
  return { startedAt: ts, durationS: time !== undefined && Number.isFinite(Number(time)) ? Number(time) : undefined };
}

function unxml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * Names the JUnit root after the run (vitest writes "vitest tests") and gives every
 * <testsuite> the run's identity as <properties> (where JUnit readers look for them):
 * commit, dirty, bench, ports, seed, start, duration, command and each board's identity
 * as the suites recorded it in data/. Idempotent: properties already there are replaced.
 * Returns the path, or null when the run left no junit.xml (nothing to stamp).
 */
export function stampJunit(reportDir: string, runInfo: RunIdentity): string | null {
  const path = join(reportDir, 'junit.xml');
  if (!existsSync(path)) return null;
  let xml = readFileSync(path, 'utf8');
  if (!/<testsuites[\s>]/.test(xml)) return null;
  const name = runInfo.name ?? 'HIL run';
  const props = runProperties(runInfo, readSuiteData(reportDir));
  const block = ['<properties>', ...props.map(([k, v]) => `            <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`), '        </properties>'].join('\n');
  xml = xml.replace(/<testsuites(\s[^>]*)?>/, (open) => (/\sname="[^"]*"/.test(open) ? open.replace(/\sname="[^"]*"/, ` name="${xmlEscape(name)}"`) : open.replace('<testsuites', `<testsuites name="${xmlEscape(name)}"`)));
  xml = xml.replace(/(<testsuite\s[^>]*[^/]>)(\s*<properties>[\s\S]*?<\/properties>)?/g, (_m, open: string) => `${open}\n        ${block}`);
  writeFileSync(path, xml);
  return path;
}
