import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { ConsoleArchiver, type ConsoleRun, createConsoleRun } from '../../hil/console/archive.ts';
import { parseCommandWords } from '../../hil/console/command-line.ts';
import { type ConsoleBench, openConsoleBench, sendCommand } from '../../hil/console/operations.ts';
import { loadRecording, RecordingError, replayPayload } from '../../hil/console/recording.ts';
import { startReplayServer } from '../../hil/console/replay-server.ts';
import type { ConsoleServer } from '../../hil/console/server.ts';
import { benchSuiteData, type ItemValue } from '../../hil/report/suite-data.ts';
import { createRunDir, readRunInfo, RunNotFoundError, writeRunInfo } from '../../hil/runs/archive.ts';
import { CHROMIUM, launchChromium, openConsolePage } from '../../hil/console/headless-page.ts';
import { toolTier } from '../tiers.ts';

/**
 * The console's run archive and replay (npm run console -- --replay RUN): a console run on
 * the in-process emulated bench archived as the console archives it (run.json,
 * data/console.json), read back; replayed in Debian's headless chromium through
 * playwright-core, the time slider moved: the views show what the recording says at t.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shots = join(root, 'reports/console');
const HAVE_CHROMIUM = toolTier('console replay browser tier', ['chromium'], existsSync(CHROMIUM));
const reportsRoot = mkdtempSync(join(tmpdir(), 'console-replay-'));
const config = loadBenchConfig(join(root, 'hil/benches/emulated.json'));

type History = [number, ItemValue][];
let cb: ConsoleBench;
let run: ConsoleRun;
/** A second run whose archiver only ever wrote periodically: what a killed console leaves. */
let killed: ConsoleRun;
let killedArchiver: ConsoleArchiver;
/** The store's histories and bench time when the run was archived. */
let storeItems: Record<string, History>;
let storeEvents: number;
let endMs: number;
let commandAtMs: number;

beforeAll(async () => {
  cb = await openConsoleBench(config, { seed: 1, root });
  killed = createConsoleRun({ root, reportsRoot, config, seed: 1, command: 'killed console' });
  killedArchiver = new ConsoleArchiver(killed, cb.bench, 20);
  run = createConsoleRun({ root, reportsRoot, config, seed: 1, command: 'npm run console (test)' });
  const archiver = new ConsoleArchiver(run, cb.bench, 60_000);
  // Bench time in steps, with wall time between them for the killed run's periodic writes.
  for (let i = 0; i < 6; i++) {
    await cb.bench.sleep(500);
    await new Promise((r) => setTimeout(r, 25));
  }
  commandAtMs = cb.bench.now();
  const out = await sendCommand(cb, parseCommandWords(['SET_MODE', 'mode=SAFE']));
  expect(out.status).toBe('completed');
  await cb.bench.sleep(3000);
  storeItems = Object.fromEntries(cb.bench.store.names().map((n) => [n, cb.bench.store.history(n).map((s): [number, ItemValue] => [Math.round(s.t * 1000) / 1000, s.value])]));
  storeEvents = cb.bench.store.events.length;
  endMs = cb.bench.now();
  archiver.close();
}, 60_000);

afterAll(async () => {
  killedArchiver?.close();
  await cb?.close();
});

/** The last sample at or before `t` (what was true at t). */
const at = (h: History, t: number) => h.filter(([ts]) => ts <= t).at(-1)?.[1];

describe('console run archive', () => {
  it('archives a console run: run.json, and data/console.json holding the store histories, events and end time', () => {
    const info = readRunInfo(run.dir)!;
    expect(info).toMatchObject({ name: 'console-emulated-seed1', kind: 'console', bench: 'emulated', seed: 1, verdicts: null, command: 'npm run console (test)' });
    expect(info.ports).toEqual({ qsrc: 'emulated', apt: 'emulated', lct: 'emulated', acs: 'emulated' });
    expect(info.durationS).toEqual(expect.any(Number));

    const rec = loadRecording(reportsRoot, 'latest');
    expect(rec.dir).toBe(run.dir);
    expect(rec.suite).toBe('console');
    expect(rec.data.endMs).toBe(endMs);
    expect(Object.keys(rec.data.items).sort()).toEqual(Object.keys(storeItems).sort());
    for (const [name, h] of Object.entries(storeItems)) expect(rec.data.items[name], name).toEqual(h);
    expect(rec.data.events).toHaveLength(storeEvents);
    expect(rec.data.events.some((e) => e.name === 'MODE_CHANGED' && e.t >= commandAtMs)).toBe(true);
    expect(rec.data.boards.map((b) => b.name)).toEqual(['qsrc', 'apt', 'lct', 'acs']);
    // The same run by folder name, unique prefix and path.
    expect(loadRecording(reportsRoot, basename(run.dir)).dir).toBe(run.dir);
    expect(loadRecording(reportsRoot, run.dir).dir).toBe(run.dir);
  });

  it('a killed console (only the periodic writes happened) leaves a recording that loads', () => {
    expect(readRunInfo(killed.dir)!.durationS).toBeNull();
    const rec = loadRecording(reportsRoot, killed.dir);
    expect(rec.data.endMs).toBeGreaterThan(0);
    expect(rec.data.endMs).toBeLessThanOrEqual(cb.bench.now());
    const mode = rec.data.items['PAYLOAD_HK.mode'];
    expect(mode.length).toBeGreaterThan(0);
    // What it holds is what the store held then: a prefix of the store's history.
    expect(storeItems['PAYLOAD_HK.mode'].slice(0, mode.length)).toEqual(mode);
  });

  it('the replay payload rebuilds the housekeeping packets and board frames from the histories', () => {
    const p = replayPayload(loadRecording(reportsRoot, 'latest'));
    const hk = p.tm.filter((x) => x.packet === 'PAYLOAD_HK');
    expect(hk.map((x) => x.t)).toEqual(storeItems['PAYLOAD_HK.mode'].map(([t]) => t));
    expect(hk.map((x) => x.fields.uptimeS)).toEqual(storeItems['PAYLOAD_HK.uptimeS'].map(([, v]) => v));
    expect(p.endMs).toBe(endMs);
    expect(p.boardTm.filter((f) => f.board === 'apt')).toHaveLength(storeItems['apt.SPOT_X_URAD'].length);
    expect(p.events.map((e) => e.t)).toEqual([...p.events.map((e) => e.t as number)].sort((a, b) => a - b));
  });

  it('replays a HIL run too: its data file with payload housekeeping by default, another with --suite', () => {
    // A run folder as npm run hil leaves one: run.json and one data file per suite.
    const dir = createRunDir(join(reportsRoot, 'runs'), 'hil-emulated-seed1', new Date());
    writeRunInfo(dir, { ...readRunInfo(run.dir)!, name: 'hil-emulated-seed1', kind: undefined, verdicts: { passed: 2, failed: 0, skipped: 0 } });
    mkdirSync(join(dir, 'data'));
    const payload = benchSuiteData('payload.hil.ts', cb.bench);
    const boardsOnly = { ...payload, suite: 'apt.hil.ts', items: Object.fromEntries(Object.entries(payload.items).filter(([k]) => k.startsWith('apt.'))) };
    writeFileSync(join(dir, 'data', 'apt.json'), JSON.stringify(boardsOnly));
    writeFileSync(join(dir, 'data', 'payload.json'), JSON.stringify(payload));
    const rec = loadRecording(reportsRoot, basename(dir));
    expect([rec.suite, rec.suites]).toEqual(['payload', ['apt', 'payload']]);
    expect(replayPayload(rec).tm.filter((p) => p.packet === 'PAYLOAD_HK').length).toBe(payload.items['PAYLOAD_HK.mode'].length);
    const apt = replayPayload(loadRecording(reportsRoot, dir, 'apt'));
    expect(apt.tm).toEqual([]);
    expect(apt.boardTm.length).toBe(payload.items['apt.SPOT_X_URAD'].length);
  });

  it('an unknown run or data file is refused naming it and where it was looked for', () => {
    expect(() => loadRecording(reportsRoot, 'nosuchrun')).toThrow(RunNotFoundError);
    expect(() => loadRecording(reportsRoot, 'nosuchrun')).toThrow(new RegExp(`no run 'nosuchrun'.*looked in ${join(reportsRoot, 'runs')}`));
    expect(() => loadRecording(reportsRoot, 'latest', 'passes')).toThrow(RecordingError);
    expect(() => loadRecording(reportsRoot, 'latest', 'passes')).toThrow("has no data file 'passes'; it has: console");
  });
});

describe.runIf(HAVE_CHROMIUM)('console replay in headless chromium', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    server = await startReplayServer(loadRecording(reportsRoot, 'latest'), { root });
    browser = await launchChromium();
    const opened = await openConsolePage(browser, server.url);
    page = opened.page;
    expect(opened.errors).toEqual([]);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const tab = (name: string) => page.click(`#tabs button[data-view="${name}"]`);
  const cell = (item: string) => page.locator(`td[data-item="${item}"]`).textContent();
  async function seek(t: number) {
    await page.locator('#replay-slider').fill(String(t));
    await page.waitForSelector(`body[data-replay-ms="${t}"]`);
  }
  /** What the page must show at t: PAYLOAD_HK as its recorded histories say, and the events up to t only. */
  async function expectShownAt(t: number) {
    await tab('telemetry');
    for (const f of ['mode', 'uptimeS', 'tcAccepted']) expect(await cell(`PAYLOAD_HK.${f}`), `${f} at ${t} ms`).toBe(String(at(storeItems[`PAYLOAD_HK.${f}`], t)));
    const count = storeItems['PAYLOAD_HK.mode'].filter(([ts]) => ts <= t).length;
    expect(await page.locator('section[data-packet="PAYLOAD_HK"] .meta').getAttribute('data-count')).toBe(String(count));
    await tab('events');
    const rec = replayPayload(loadRecording(reportsRoot, 'latest'));
    const upTo = rec.events.filter((e) => (e.t as number) <= t);
    expect(await page.locator('#event-count').textContent()).toMatch(new RegExp(` of ${upTo.length} events$`));
    const times = (await page.locator('#event-rows tr td:nth-child(1)').allTextContents()).map(Number);
    expect(times.every((x) => x <= t)).toBe(true);
    return upTo;
  }

  it('opens the recording: replay of the run, commands disabled, the slider over the run', async () => {
    expect(await page.locator('#status').textContent()).toBe(`replay of ${basename(run.dir)}`);
    expect(await page.locator('#replay-slider').getAttribute('max')).toBe(String(Math.ceil(endMs)));
    await tab('commands');
    expect(await page.locator('form[data-command="PING"] button[type=submit]').isDisabled()).toBe(true);
    expect(await page.locator('#view-commands .replay-note').textContent()).toContain('nothing is sent');
    const refused = await page.evaluate(async () => (await fetch('/api/command', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"PING"}' })).status);
    expect(refused).toBe(409);
  });

  it('at a time t shows the values the recorded history has at t and the events up to t; later and earlier times follow', async () => {
    const t1 = Math.round(commandAtMs - 700);
    await seek(t1);
    const before = await expectShownAt(t1);
    expect(await cell('PAYLOAD_HK.mode')).toBe('STANDBY');
    expect(before.some((e) => e.name === 'MODE_CHANGED')).toBe(false);
    await tab('telemetry');
    await page.screenshot({ path: join(shots, 'replay.png') });

    const t2 = Math.round(endMs - 200);
    await seek(t2);
    const after = await expectShownAt(t2);
    expect(after.some((e) => e.name === 'MODE_CHANGED')).toBe(true);
    expect(await page.locator('tr[data-event="MODE_CHANGED"]').count()).toBe(1);
    await tab('telemetry');
    expect(await cell('PAYLOAD_HK.mode')).toBe('SAFE');
    expect(await cell('PAYLOAD_HK.uptimeS')).not.toBe(String(at(storeItems['PAYLOAD_HK.uptimeS'], t1)));

    // Back in time: the views forget what came after t1.
    await seek(t1);
    await expectShownAt(t1);
    expect(await page.locator('tr[data-event="MODE_CHANGED"]').count()).toBe(0);
  });

  it('plays at 10x, pauses, and steps by a second', async () => {
    await seek(0);
    await page.selectOption('#replay-speed', '10');
    await page.click('#replay-play');
    await page.waitForFunction(`Number(document.body.dataset.replayMs) >= 2000`, undefined, { timeout: 10_000 });
    await page.click('#replay-play');
    expect(await page.locator('#replay-play').textContent()).toContain('play');
    const paused = Number(await page.evaluate('document.body.dataset.replayMs'));
    // Back first: play may have run to the end of a short recording, where +1 s would stop at the end.
    await page.click('#replay-back');
    await page.waitForSelector(`body[data-replay-ms="${paused - 1000}"]`);
    await page.click('#replay-forward');
    await page.waitForSelector(`body[data-replay-ms="${paused}"]`);
    expect(await page.locator('#bench-time').textContent()).toBe(`bench ${paused} ms`);
  });
});

describe('npm run console -- --replay', () => {
  const tsx = join(root, 'node_modules/.bin/tsx');
  const runCli = (args: string[]) => {
    const p = spawn(tsx, ['scripts/console.ts', ...args], { cwd: root });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((r) => p.on('exit', r));
    return { p, exit, out: () => out, err: () => err };
  };

  it('an unknown run exits 1 naming it and where it looked; with --bench exits 2', async () => {
    const unknown = runCli(['--replay', 'nosuchrun', '--reports-root', reportsRoot]);
    const bench = runCli(['--replay', 'latest', '--bench', 'hil/benches/emulated.json']);
    expect(await unknown.exit).toBe(1);
    expect(unknown.err()).toContain("no run 'nosuchrun'");
    expect(unknown.err()).toContain(join(reportsRoot, 'runs'));
    expect(unknown.err()).not.toMatch(/\n\s+at /);
    expect(await bench.exit).toBe(2);
    expect(bench.err()).toContain('--replay serves an archived run, no bench: it excludes --bench');
  });

  it('serves the run given by its path, prints its URL and stops on SIGINT', async () => {
    const c = runCli(['--replay', run.dir, '--reports-root', reportsRoot]);
    const url = await new Promise<string>((res, rej) => {
      c.p.stdout.on('data', () => {
        const m = /^console: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(c.out());
        if (m) res(m[1]);
      });
      c.p.on('exit', (code) => rej(new Error(`console exited ${code}: ${c.err()}`)));
    });
    const replay = (await (await fetch(`${url}api/replay`)).json()) as { run: { folder: string }; endMs: number };
    expect(replay.run.folder).toBe(basename(run.dir));
    expect(replay.endMs).toBe(endMs);
    c.p.kill('SIGINT');
    expect(await c.exit, c.err()).toBe(0);
  });
});
