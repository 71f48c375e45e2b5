import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from './run.ts';

/**
 * Issue 11 item 11: impossible or non-finite numbers are refused naming the field,
 * exit 2 for a bad option, exit 1 for bad data read from a file or stdin, and never a
 * stack trace. Each CLI runs as a real process.
 */
const STACK_LINE = /^\s+at .*(\(.*:\d+:\d+\)|:\d+:\d+)$/m;
const dir = mkdtempSync(join(tmpdir(), 'numeric-input-'));

const GOOD = {
  mu: [0.8, 0.1, 0],
  p: [0.5, 0.25, 0.25],
  key: { n: [1700000, 93000, 150], m: [17500, 1050, 75] },
  test: { n: [1700000, 93000, 150], m: [17600, 1040, 74] },
  f_ec: 1.16,
};
const keyrateInput = (patch: Record<string, unknown>) => JSON.stringify({ ...GOOD, ...patch });

interface Case {
  name: string;
  script: string;
  args: string[];
  stdin?: string;
  code: number;
  /** What stderr must say: the field and the value. */
  says: RegExp;
}

const cases: Case[] = [
  // keyrate: bad data on stdin or in a file -> exit 1, the field named.
  { name: 'keyrate n = 1e308', script: 'keyrate', args: ['-'], stdin: keyrateInput({ key: { n: [1e308, 93000, 150], m: [0, 0, 0] } }), code: 1, says: /key\.n\[0\].*1e\+308/ },
  { name: 'keyrate fractional detections', script: 'keyrate', args: ['-'], stdin: keyrateInput({ test: { n: [1700000, 93000.5, 150], m: [0, 0, 0] } }), code: 1, says: /test\.n\[1\].*93000\.5/ },
  { name: 'keyrate fractional errors', script: 'keyrate', args: ['-'], stdin: keyrateInput({ key: { n: [1700000, 93000, 150], m: [0.5, 0, 0] } }), code: 1, says: /key\.m\[0\].*0\.5/ },
  { name: 'keyrate decoy conditions broken', script: 'keyrate', args: ['-'], stdin: keyrateInput({ mu: [0.3, 0.25, 0.1] }), code: 1, says: /mu.*mu1 > mu2 \+ mu3.*mu1=0\.3, mu2=0\.25, mu3=0\.1/ },
  { name: 'keyrate eps_sec underflows', script: 'keyrate', args: ['-'], stdin: keyrateInput({ eps_sec: 1e-320 }), code: 1, says: /eps_sec/ },
  { name: 'keyrate f_ec overflows', script: 'keyrate', args: ['-'], stdin: keyrateInput({ f_ec: 1e308 }), code: 1, says: /f_ec/ },
  { name: 'keyrate not JSON', script: 'keyrate', args: ['-'], stdin: '{"mu": [0.8,', code: 1, says: /not JSON/ },
  { name: 'keyrate no input', script: 'keyrate', args: [], code: 2, says: /exactly one input/ },
  { name: 'keyrate unknown option', script: 'keyrate', args: ['--n', '5'], code: 2, says: /--n/ },
  // pass: bad options -> exit 2, the option named.
  { name: 'pass --duration-s 0.001', script: 'pass', args: ['--duration-s', '0.001'], code: 2, says: /--duration-s.*0\.001/ },
  { name: 'pass --duration-s NaN', script: 'pass', args: ['--duration-s', 'NaN'], code: 2, says: /--duration-s.*NaN/ },
  { name: 'pass --duration-s Infinity', script: 'pass', args: ['--duration-s', 'Infinity'], code: 2, says: /--duration-s.*Infinity/ },
  { name: "pass --seed ''", script: 'pass', args: ['--seed', ''], code: 2, says: /--seed.*''/ },
  { name: 'pass --seed 1e3', script: 'pass', args: ['--seed', '1e3'], code: 2, says: /--seed.*'1e3'/ },
  { name: 'pass --seed 0x10', script: 'pass', args: ['--seed', '0x10'], code: 2, says: /--seed.*'0x10'/ },
  { name: 'pass --seed -1', script: 'pass', args: ['--seed=-1'], code: 2, says: /--seed.*'-1'/ },
  { name: 'pass --seed 1.5', script: 'pass', args: ['--seed', '1.5'], code: 2, says: /--seed.*'1\.5'/ },
  // Every other CLI with a --seed parses it the same way (shared seedOption).
  { name: "downlink --seed ''", script: 'downlink', args: ['--seed', '', '--out', join(dir, 'dl.bin')], code: 2, says: /--seed.*''/ },
  { name: "start --seed ''", script: 'start', args: ['--seed', ''], code: 2, says: /--seed.*''/ },
  { name: "emulate --seed ''", script: 'emulate', args: ['qsrc', '--seed', ''], code: 2, says: /--seed.*''/ },
  { name: 'emulate --seed 1e30', script: 'emulate', args: ['qsrc', '--seed', '1e30'], code: 2, says: /--seed.*'1e30'/ },
  { name: "hil --seed ''", script: 'hil', args: ['--seed', ''], code: 2, says: /--seed.*''/ },
];

describe('numeric input of the CLIs', () => {
  for (const c of cases) {
    it(`${c.name}: exit ${c.code}, names the field, no stack trace`, () => {
      const r = runScript(c.script, c.args, c.stdin);
      expect(r.code, r.stderr).toBe(c.code);
      expect(r.stderr).toMatch(c.says);
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(STACK_LINE);
      expect(r.stdout).not.toMatch(/\bnull\b/);
    });
  }

  it('keyrate reads a file with fractional counts as bad data (exit 1), the fixture as good (exit 0)', () => {
    const file = join(dir, 'frac.json');
    writeFileSync(file, keyrateInput({ key: { n: [1700000, 93000, 150.25], m: [17500, 1050, 75] } }));
    const bad = runScript('keyrate', [file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/key\.n\[2\].*150\.25/);
    const good = runScript('keyrate', ['test/qkd/fixtures/keyrate-example.json']);
    expect(good.code).toBe(0);
    expect(Object.values(JSON.parse(good.stdout) as Record<string, number>).every(Number.isFinite)).toBe(true);
  });

  it('a pass too short to pay for its authentication nets 0 key, never negative, and says so', () => {
    const json = runScript('pass', ['--duration-s', '1', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const s = JSON.parse(json.stdout) as Record<string, number>;
    expect(s.finalKeyBits).toBe(0);
    expect(s.authKeyConsumedBits).toBeGreaterThan(0);
    expect(s.netKeyBits).toBe(0);
    expect(s.authDeficitBits).toBe(s.authKeyConsumedBits);
    expect(Object.values(s).some((v) => v === null)).toBe(false);
    const text = runScript('pass', ['--duration-s', '1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/net 0 \(the pass did not pay for its authentication: \d+ bits of stored key spent\)/);
  });
});
