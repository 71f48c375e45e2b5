import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJunit } from '../../hil/report/junit.ts';
import { parseShard, type RunInfo, ShardSpecError, shardRunName } from '../../hil/runs/archive.ts';
import { checkShards, MergeError, mergeJunit } from '../../hil/runs/merge.ts';
import { runScriptAsync, STACK_LINE } from '../cli/run.ts';

/**
 * Issue 15: a selection spread over benches or machines with vitest's sharding
 * (npm run hil -- --shard K/N), each shard its own run of the archive, joined by
 * npm run runs -- merge into one run with the verdicts of one unsharded run.
 */
const out = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
const info = (shard: RunInfo['shard'], extra: Partial<RunInfo> = {}): RunInfo => ({ name: 'r', commit: 'c', dirty: false, bench: 'emulated', ports: {}, seed: 1, startedAt: '2025-01-01T00:00:00.000Z', durationS: 1, command: '', verdicts: { passed: 1, failed: 0, skipped: 0 }, shard, ...extra });

describe('--shard K/N spelling', () => {
  it('property: every 1 <= K <= N parses back; K > N, 0 and other spellings are refused naming the spelling', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 9999 }), (a, b) => {
        const [k, n] = a <= b ? [a, b] : [b, a];
        expect(parseShard(`${k}/${n}`)).toEqual({ index: k, count: n });
        if (a !== b) expect(() => parseShard(`${Math.max(a, b)}/${Math.min(a, b)}`)).toThrow(ShardSpecError);
      }),
      { seed: 15, numRuns: 300 },
    );
    for (const bad of ['0/2', '1/0', '1.5/2', ' 1/2', '1/2/3', '1', '01/2', 'a/b', '']) expect(() => parseShard(bad)).toThrow(`--shard must be K/N with 1 <= K <= N <= 9999 (e.g. 1/2), got '${bad}'`);
    expect(shardRunName('hil-emulated-seed1', { index: 2, count: 3 })).toBe('hil-emulated-seed1-shard2of3');
    expect(shardRunName('hil-emulated-seed1', null)).toBe('hil-emulated-seed1');
  });
});

describe('merging runs: the checks and the JUnit join', () => {
  const run = (dir: string, shard: RunInfo['shard'], extra: Partial<RunInfo> = {}) => ({ dir, info: info(shard, extra) });

  it('shards come back in shard order; a missing, doubled or differently split shard is refused naming it', () => {
    const { ordered, warnings } = checkShards([run('/b', { index: 2, count: 2 }), run('/a', { index: 1, count: 2 })]);
    expect(ordered.map((r) => r.dir)).toEqual(['/a', '/b']);
    expect(warnings).toEqual([]);
    expect(() => checkShards([run('/a', { index: 1, count: 3 }), run('/c', { index: 3, count: 3 })])).toThrow(new MergeError('shard 2/3 missing: the merge would not hold the whole selection'));
    expect(() => checkShards([run('/a', { index: 1, count: 2 }), run('/b', { index: 1, count: 2 })])).toThrow(/shard 1\/2 given twice: a and b/);
    expect(() => checkShards([run('/a', { index: 1, count: 2 }), run('/b', { index: 2, count: 3 })])).toThrow(/shards of different splits \(of 2, 3\)/);
    expect(() => checkShards([run('/a', { index: 1, count: 1 }), run('/x', null)])).toThrow(/mixes sharded and unsharded runs: x ran no --shard/);
    expect(() => checkShards([run('/a', null, { verdicts: null })])).toThrow(/a did not finish/);
  });

  it('runs that differ in commit or seed are merged with a warning', () => {
    const { warnings } = checkShards([run('/a', { index: 1, count: 2 }), run('/b', { index: 2, count: 2 }, { commit: 'd', seed: 2 })]);
    expect(warnings).toEqual(['the runs differ in commit: c, d', 'the runs differ in seed: 1, 2']);
  });

  it('JUnit: every testsuite under one root whose counts are the sums', () => {
    const a = '<?xml version="1.0" encoding="UTF-8" ?>\n<testsuites name="x" tests="2" failures="1" errors="0" time="1.5">\n    <testsuite name="s1" tests="2" failures="1"><testcase classname="s1" name="t1" time="1"/><testcase classname="s1" name="t2" time="0.5"><failure message="boom"/></testcase></testsuite>\n</testsuites>\n';
    const b = '<testsuites name="y" tests="1" failures="0" errors="0" time="0.25">\n<testsuite name="s2" tests="1"><testcase classname="s2" name="t3" time="0.25"><skipped/></testcase></testsuite>\n<testsuite name="empty" tests="0"/>\n</testsuites>';
    const merged = mergeJunit([a, b]);
    expect(merged).toMatch(/<testsuites name="merged" tests="3" failures="1" errors="0" time="1.75">/);
    expect(parseJunit(merged).map((t) => [t.suite, t.name, t.failure ?? (t.skipped ? 'skipped' : 'pass')])).toEqual([
      ['s1', 't1', 'pass'],
      ['s1', 't2', 'boom'],
      ['s2', 't3', 'skipped'],
    ]);
    expect(merged).toContain('<testsuite name="empty" tests="0"/>');
  });
});

describe('npm run hil -- --shard K/N, npm run runs -- merge', () => {
  it('two shards of apt boards uplink-security, merged, give the verdicts of one unsharded run; the merge is a run of the archive with its report', async () => {
    const root = mkdtempSync(join(tmpdir(), 'shard-merge-'));
    const suites = ['apt', 'boards', 'uplink-security'];
    const one = await runScriptAsync('hil', ['--reports-root', root, '--shard', '1/2', ...suites]);
    expect(one.code, out(one)).toBe(0);
    const two = await runScriptAsync('hil', ['--reports-root', root, '--shard', '2/2', ...suites]);
    expect(two.code, out(two)).toBe(0);
    const whole = await runScriptAsync('hil', ['--reports-root', join(root, 'unsharded'), ...suites]);
    expect(whole.code, out(whole)).toBe(0);

    const shards = readdirSync(join(root, 'runs')).sort();
    expect(shards).toEqual([expect.stringMatching(/-hil-emulated-seed1-apt_boards_uplink-security-shard1of2$/), expect.stringMatching(/-shard2of2$/)]);
    const shardInfo = shards.map((s) => JSON.parse(readFileSync(join(root, 'runs', s, 'run.json'), 'utf8')) as RunInfo);
    expect(shardInfo.map((i) => i.shard)).toEqual([{ index: 1, count: 2 }, { index: 2, count: 2 }]);
    // Each shard ran part of the suites, none twice, all of them between the two.
    const suitesOf = (dir: string) => [...new Set(parseJunit(readFileSync(join(dir, 'junit.xml'), 'utf8')).map((t) => t.suite))];
    const parts = shards.map((s) => suitesOf(join(root, 'runs', s)));
    expect(parts.every((p) => p.length > 0)).toBe(true);
    expect(parts.flat().sort()).toEqual(suites.map((s) => `hil/suites/${s}.hil.ts`).sort());

    // The shard folders as another machine hands them over: copied elsewhere, merged by path.
    const handed = shards.map((s) => {
      const to = join(root, 'from-machine', s);
      cpSync(join(root, 'runs', s), to, { recursive: true });
      return to;
    });
    rmSync(join(root, 'runs', shards[1]), { recursive: true });
    const merged = await runScriptAsync('runs', ['merge', '--reports-root', root, ...handed.reverse()]);
    expect(merged.code, out(merged)).toBe(0);
    expect(merged.stdout).toMatch(/^merged 2 run\(s\) \(.*shard1of2, .*shard2of2\) into .*-hil-emulated-seed1-apt_boards_uplink-security-merged: 12 passed, 0 failed, 0 skipped$/m);
    const mergedDir = join(root, 'runs', readdirSync(join(root, 'runs')).find((d) => d.endsWith('-merged'))!);
    expect(readFileSync(join(root, 'latest', 'run.json'), 'utf8')).toBe(readFileSync(join(mergedDir, 'run.json'), 'utf8'));

    const verdicts = (dir: string) => parseJunit(readFileSync(join(dir, 'junit.xml'), 'utf8')).map((t) => `${t.suite} > ${t.name}: ${t.failure !== undefined ? 'failed' : t.skipped ? 'skipped' : 'passed'}`).sort();
    const unshardedDir = join(root, 'unsharded', 'runs', readdirSync(join(root, 'unsharded', 'runs'))[0]);
    expect(verdicts(mergedDir)).toEqual(verdicts(unshardedDir));
    expect(verdicts(mergedDir)).toHaveLength(12);

    const mi = JSON.parse(readFileSync(join(mergedDir, 'run.json'), 'utf8')) as RunInfo;
    expect(mi).toMatchObject({ name: 'hil-emulated-seed1-apt+boards+uplink-security-merged', bench: 'emulated', seed: 1, shard: null, verdicts: { passed: 12, failed: 0, skipped: 0 }, mergedFrom: shards, filters: suites });
    // JUnit stamped as the merged run; the report covers every suite; data point at the merged captures.
    const junit = readFileSync(join(mergedDir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="hil-emulated-seed1-apt\+boards\+uplink-security-merged" tests="12" failures="0"/);
    expect(junit.match(/<property name="run" value="hil-emulated-seed1-apt\+boards\+uplink-security-merged"\/>/g)).toHaveLength(3);
    const html = readFileSync(join(mergedDir, 'report.html'), 'utf8');
    for (const s of suites) expect(html).toContain(`id="suite-${s}"`);
    const data = JSON.parse(readFileSync(join(mergedDir, 'data', 'apt.json'), 'utf8'));
    expect(data.boards[0].capture).toBe(join(mergedDir, 'captures', 'apt-seed1.apt.cap.jsonl'));
    expect(existsSync(data.boards[0].capture)).toBe(true);

    // Merging one shard alone is refused (exit 1), naming the missing one; nothing is left behind.
    const before = readdirSync(join(root, 'runs')).length;
    const alone = await runScriptAsync('runs', ['merge', '--reports-root', root, handed[1]]);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/^runs: cannot merge: shard 2\/2 missing: the merge would not hold the whole selection$/m);
    expect(out(alone)).not.toMatch(STACK_LINE);
    expect(readdirSync(join(root, 'runs'))).toHaveLength(before);
  }, 180_000);
});
