import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { type ConsoleBench, openConsoleBench } from '../../hil/console/operations.ts';
import { BenchLock, type ConsoleServer, runLive, startConsoleServer } from '../../hil/console/server.ts';
import { CHROMIUM, launchChromium, openConsolePage } from '../../hil/console/headless-page.ts';
import { toolTier } from '../tiers.ts';

/**
 * The operator console (npm run console) driven in Debian's headless chromium through
 * playwright-core (no downloaded browser), on the in-process emulated bench run at 5x the
 * wall clock's pace; screenshots of every view go to reports/console/. Plus the HTTP
 * checks of a non-local bind (token) and the CLI's start line.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shots = join(root, 'reports/console');
const HAVE_CHROMIUM = toolTier('console browser tier', ['chromium'], existsSync(CHROMIUM));

let cb: ConsoleBench;
const stop = new AbortController();
let live: Promise<void>;
const lock = new BenchLock();

beforeAll(async () => {
  cb = await openConsoleBench(loadBenchConfig(join(root, 'hil/benches/emulated.json')), { seed: 1, root });
  live = runLive(cb, stop.signal, { pace: 5, lock });
});

afterAll(async () => {
  stop.abort();
  await live;
  await cb?.close();
});

describe.runIf(HAVE_CHROMIUM)('operator console in headless chromium', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    server = await startConsoleServer(cb, { root }, lock);
    browser = await launchChromium();
    const opened = await openConsolePage(browser, server.url);
    page = opened.page;
    expect(opened.errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const count = async () => Number((await page.locator('section[data-packet="PAYLOAD_HK"] .meta').getAttribute('data-count')) ?? 0);
  const tab = (name: string) => page.click(`#tabs button[data-view="${name}"]`);

  it('loads on the emulated bench and shows PAYLOAD_HK updating, limits coloured', async () => {
    await page.waitForFunction(`Number(document.querySelector('section[data-packet="PAYLOAD_HK"] .meta')?.getAttribute('data-count') ?? 0) >= 1`);
    const first = await count();
    await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(first);
    expect(await page.locator('td[data-item="PAYLOAD_HK.mode"]').textContent()).toBe('STANDBY');
    // laserTempC has limits in the dictionary: a nominal value is green.
    expect(await page.locator('tr:has(td[data-item="PAYLOAD_HK.laserTempC"])').getAttribute('class')).toBe('limit-green');
    expect(await page.locator('#status').textContent()).toBe('live');
    await page.screenshot({ path: join(shots, 'telemetry.png'), fullPage: true });
  });

  it('sends PING and SET_MODE from the forms and shows their ST01 reports', async () => {
    await tab('commands');
    const ping = page.locator('form[data-command="PING"]');
    await ping.locator('button[type=submit]').click();
    const pingReports = page.locator('.command:has(form[data-command="PING"]) .reports');
    await pingReports.locator('[data-status="completed"]').waitFor();
    for (const r of ['VERIFY_ACCEPT_OK', 'VERIFY_START_OK', 'PONG', 'VERIFY_COMPLETE_OK']) await expect.poll(() => pingReports.locator(`[data-report="${r}"]`).count()).toBe(1);

    // ACQUISITION on a fresh payload: no pass plan, refused at start.
    const setMode = page.locator('form[data-command="SET_MODE"]');
    const modeReports = page.locator('.command:has(form[data-command="SET_MODE"]) .reports');
    await setMode.locator('select[name="mode"]').selectOption('ACQUISITION');
    await setMode.locator('button[type=submit]').click();
    await modeReports.locator('[data-status="failed"]').waitFor();
    expect(await modeReports.locator('[data-report="VERIFY_START_FAIL"]').textContent()).toContain('no pass plan');

    await setMode.locator('select[name="mode"]').selectOption('SAFE');
    await setMode.locator('button[type=submit]').click();
    await modeReports.locator('[data-status="completed"]').waitFor();
    for (const r of ['VERIFY_ACCEPT_OK', 'VERIFY_START_OK', 'VERIFY_COMPLETE_OK']) expect(await modeReports.locator(`[data-report="${r}"]`).count()).toBe(1);
    await page.screenshot({ path: join(shots, 'commands.png') });

    await tab('telemetry');
    await page.waitForFunction(`document.querySelector('td[data-item="PAYLOAD_HK.mode"]')?.textContent === 'SAFE'`, undefined, { timeout: 10_000 });
  });

  it('refuses an out-of-range value in the form, naming the field, and sends nothing', async () => {
    await tab('commands');
    const posted: string[] = [];
    const onRequest = (r: { url(): string; method(): string }) => {
      if (r.method() === 'POST') posted.push(r.url());
    };
    page.on('request', onRequest);
    const form = page.locator('form[data-command="SET_HK_INTERVAL"]');
    await form.locator('[name="sid"]').fill('1');
    await form.locator('[name="intervalMs"]').fill('99999999');
    await form.locator('button[type=submit]').click();
    const error = form.locator('.error');
    await expect.poll(() => error.textContent()).toContain("field 'intervalMs'");
    expect(await error.textContent()).toContain('out of range');
    expect(await error.getAttribute('data-field')).toBe('intervalMs');
    await form.locator('[name="intervalMs"]').fill('abc');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => error.textContent()).toContain('expected a number');
    page.off('request', onRequest);
    expect(posted).toEqual([]);
  });

  it('shows the events with a severity filter and a search, and the plots', async () => {
    await tab('events');
    await page.locator('tr[data-event="MODE_CHANGED"]').first().waitFor();
    await page.fill('#event-search', 'MODE_CHANGED');
    const names = await page.locator('#event-rows tr td:nth-child(3)').allTextContents();
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names)).toEqual(new Set(['MODE_CHANGED']));
    await page.fill('#event-search', '');
    await page.screenshot({ path: join(shots, 'events.png') });
    await page.selectOption('#event-severity', 'high');
    const sev = await page.locator('#event-rows tr td:nth-child(2)').allTextContents();
    expect(sev.every((s) => s === 'high')).toBe(true);
    await page.selectOption('#event-severity', 'info');

    await tab('plots');
    await expect.poll(() => page.locator('#plots .plot canvas').count()).toBe(5);
    expect(await page.locator('.plot[data-plot="Mode timeline"] .empty').textContent()).toBe('');
    await page.screenshot({ path: join(shots, 'plots.png'), fullPage: true });
  });
});

describe('operator console over HTTP', () => {
  it('bound to a non-local address, refuses requests without the token', async () => {
    const server = await startConsoleServer(cb, { root, host: '0.0.0.0' }, lock);
    try {
      expect(server.token).toMatch(/^[0-9a-f]{32}$/);
      const base = `http://127.0.0.1:${server.port}`;
      expect((await fetch(`${base}/`)).status).toBe(401);
      expect((await fetch(`${base}/api/dictionary`)).status).toBe(401);
      expect((await fetch(`${base}/ws`)).status).toBe(401);
      expect((await fetch(`${base}/api/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"PING"}' })).status).toBe(401);
      expect((await fetch(`${base}/?token=nope`)).status).toBe(403);
      const ok = await fetch(`${base}/?token=${server.token}`);
      expect(ok.status).toBe(200);
      const cookie = ok.headers.get('set-cookie')!.split(';')[0];
      expect((await fetch(`${base}/app.js`, { headers: { cookie } })).status).toBe(200);
      expect((await fetch(`${base}/api/dictionary`, { headers: { 'x-console-token': server.token! } })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('on loopback needs no token; a refused command names the field, a hazardous one needs confirming', async () => {
    const server = await startConsoleServer(cb, { root }, lock);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const post = (body: unknown) => fetch(`${server.url}api/command`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const bad = await post({ name: 'SET_HK_INTERVAL', fields: { sid: '1', intervalMs: '99999999' } });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: 'OUT_OF_RANGE', field: 'intervalMs' });
      const hazard = await post({ name: 'RESET_BOARD', fields: { board: 'apt' } });
      expect(hazard.status).toBe(409);
      expect(((await hazard.json()) as { code: string }).code).toBe('NOT_CONFIRMED');
      // Another site's page (Origin) or a rebound DNS name (Host) is refused.
      const foreign = await fetch(`${server.url}api/command`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{"name":"PING"}' });
      expect(foreign.status).toBe(403);
      const rebound = await new Promise<number>((res, rej) => {
        get({ host: '127.0.0.1', port: server.port, path: '/api/dictionary', headers: { host: `evil.example:${server.port}` } }, (r) => {
          r.resume();
          res(r.statusCode!);
        }).on('error', rej);
      });
      expect(rebound).toBe(403);
    } finally {
      await server.close();
    }
  });

  it('npm run console prints its URL on a line of its own, serves the page and stops on SIGINT; bad options exit 2', async () => {
    const tsx = join(root, 'node_modules/.bin/tsx');
    const bad = spawn(tsx, ['scripts/console.ts', '--http-port', 'abc'], { cwd: root });
    let badErr = '';
    bad.stderr.on('data', (d) => (badErr += d));
    expect(await new Promise((r) => bad.on('exit', r))).toBe(2);
    expect(badErr).toContain('--http-port');
    expect(badErr).not.toMatch(/\n\s+at /);

    // Its run archive goes to a folder of its own, not the project's reports/runs.
    const reportsRoot = mkdtempSync(join(tmpdir(), 'console-cli-'));
    const p = spawn(tsx, ['scripts/console.ts', '--reports-root', reportsRoot], { cwd: root });
    let out = '';
    const url = await new Promise<string>((res, rej) => {
      p.stdout.on('data', (d) => {
        out += d;
        const m = /^console: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
        if (m) res(m[1]);
      });
      p.on('exit', (c) => rej(new Error(`console exited ${c}: ${out}`)));
    });
    expect((await fetch(url)).status).toBe(200);
    p.kill('SIGINT');
    expect(await new Promise((r) => p.on('exit', r))).toBe(0);
    // The run is archived: its run.json and recording are in the reports root's runs folder.
    const runs = readdirSync(join(reportsRoot, 'runs')).filter((d) => d.includes('-console-'));
    expect(runs).toHaveLength(1);
    expect(existsSync(join(reportsRoot, 'runs', runs[0], 'data', 'console.json'))).toBe(true);
  });
});
