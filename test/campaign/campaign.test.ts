import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import { CSV_COLUMNS, parseCsv } from '../../hil/campaign/csv.ts';
import { campaignPasses } from '../../hil/campaign/plan.ts';
import { runCampaign } from '../../hil/campaign/run.ts';
import { ROOT, runScript, runScriptAsync } from '../cli/run.ts';

/**
 * npm run campaign as real processes on a short campaign (1 day, two stations, 20 s
 * QKD windows: two high night passes), on piscina worker threads loading TypeScript.
 */
const dir = mkdtempSync(join(tmpdir(), 'campaign-'));
const CAMPAIGN = ['--days', '1', '--stations', 'shanghai,stellenbosch', '--duration-s', '20'];
const read = (d: string, f: string) => readFileSync(join(d, f), 'utf8');

describe('npm run campaign', () => {
  it('writes one row per night pass (the issue\'s columns first), the page and progress; the shards, each on 1 worker, merge into the CSV and page of the run on 2 workers, byte for byte', async () => {
    const whole = join(dir, 'whole');
    const [s1, s2] = [join(dir, 'shard1'), join(dir, 'shard2')];
    const a = runScript('campaign', [...CAMPAIGN, '--workers', '2', '--out', whole]);
    expect(a.code, a.stderr).toBe(0);
    const csv = read(whole, 'campaign.csv');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines[0].startsWith('station,startUtc,maxElevationDeg,finalKeyBits,qber,')).toBe(true);
    const rows = parseCsv(csv);
    const planned = campaignPasses({ tle: EXAMPLE_TLE, fromUtc: '2026-11-22T12:00:00.000Z', days: 1 }, ['shanghai', 'stellenbosch'], 1);
    expect(rows.map((r) => `${r.station} ${r.startUtc}`)).toEqual(planned.map((p) => `${p.station} ${p.startUtc}`));
    expect(rows).toHaveLength(2);
    // The two high passes (Shanghai 47.5 deg, Stellenbosch 74.9 deg) make key.
    for (const r of rows) expect(r.result).toMatchObject({ durationS: 20, finalKeyBits: expect.any(Number), qber: expect.any(Number) });
    for (const r of rows) expect('finalKeyBits' in r.result && r.result.finalKeyBits).toBeGreaterThan(0);
    expect(a.stderr).toMatch(/\[campaign\] 2 night passes over shanghai, stellenbosch, 1 day from 2026-11-22T12:00:00\.000Z, 20 s each, physics-only engine, 2 workers/);
    expect(a.stderr).toMatch(/\[campaign\] 1\/2 passes \(0 failed\), ETA \d+ s: /);
    expect(a.stderr).toMatch(/\[campaign\] 2\/2 passes \(0 failed\), ETA 0 s: /);
    const html = read(whole, 'campaign.html');
    expect(html).toMatch(/<svg/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    for (const s of ['shanghai', 'stellenbosch', 'all']) expect(html).toContain(`<td>${s}</td>`);
    expect(a.stdout).toMatch(/^all\s+2\s+2\s+0\s+100 %/m);

    // The shards on one worker each, merged: the bytes of the run on two workers.
    const [c1, c2] = await Promise.all([
      runScriptAsync('campaign', [...CAMPAIGN, '--workers', '1', '--shard', '1/2', '--out', s1]),
      runScriptAsync('campaign', [...CAMPAIGN, '--workers', '1', '--shard', '2/2', '--out', s2]),
    ]);
    for (const r of [c1, c2]) expect(r.code, r.stderr).toBe(0);
    expect(parseCsv(read(s1, 'campaign.csv'))).toHaveLength(1);
    expect(c1.stderr).toMatch(/1 night passes \(shard 1\/2 of 2\)/);
    const merged = join(dir, 'merged');
    const m = runScript('campaign', ['merge', s2, s1, '--out', merged]);
    expect(m.code, m.stderr).toBe(0);
    expect(read(merged, 'campaign.csv')).toBe(csv);
    expect(read(merged, 'campaign.html')).toBe(html);
  }, 120_000);

  it('merging shards of different campaigns is refused naming the folder', () => {
    // Shard 2 of a campaign with another seed.
    const other = join(dir, 'seed2');
    mkdirSync(other);
    copyFileSync(join(dir, 'shard2', 'campaign.csv'), join(other, 'campaign.csv'));
    writeFileSync(join(other, 'campaign.json'), read(join(dir, 'shard2'), 'campaign.json').replace('"seed": 1,', '"seed": 2,'));
    const m = runScript('campaign', ['merge', join(dir, 'shard1'), other, '--out', join(dir, 'bad-merge')]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/cannot merge: .*seed2 is another campaign than .*shard1/);
  });

  it('Ctrl-C: the passes that finished are written (CSV and page), exit 130', async () => {
    const out = join(dir, 'interrupted');
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/campaign.ts', ...CAMPAIGN, '--workers', '1', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      p.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (/\] 1\/\d+ passes/.test(stderr) && !p.killed) p.kill('SIGINT');
      });
      p.on('exit', (c) => resolve(c));
    });
    expect(code, stderr).toBe(130);
    const total = Number(/(\d+) night passes/.exec(stderr)![1]);
    const rows = parseCsv(read(out, 'campaign.csv'));
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThan(total);
    expect(read(out, 'campaign.html')).toContain(`interrupted: ${rows.length} of ${total} passes`);
    expect(stderr).toMatch(new RegExp(`interrupted: ${rows.length} of ${total} passes written`));
  }, 60_000);
});

describe('runCampaign: a pass that throws', () => {
  it('is a row with its error; the other passes go on', async () => {
    const window = { tle: EXAMPLE_TLE, fromUtc: '2026-11-22T12:00:00.000Z', days: 1 };
    const [good] = campaignPasses(window, ['stellenbosch'], 1);
    // A pass numbered beyond the station's list: the engine's pass selection throws in the worker.
    const bad = { ...good, station: 'shanghai', number: 99 };
    const r = await runCampaign({ passes: [good, bad], window, durationS: 20, workers: 2 });
    expect(r.failed).toBe(1);
    expect(r.aborted).toBe(false);
    const failedRow = r.rows.find((x) => x.station === 'shanghai')!;
    expect(failedRow.result).toEqual({ error: expect.stringMatching(/pass 99: the window from 2026-11-22T12:00:00\.000Z \(1 day\) has \d+ passes over Shanghai/) });
    const okRow = r.rows.find((x) => x.station === 'stellenbosch')!;
    expect('finalKeyBits' in okRow.result && okRow.result.finalKeyBits).toBeGreaterThan(0);
  }, 60_000);
});

it('a usage error writes nothing: no --out folder is made', () => {
  const out = join(dir, 'never');
  const r = runScript('campaign', ['--days', '0', '--out', out]);
  expect(r.code).toBe(2);
  expect(existsSync(out)).toBe(false);
});
