import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { GROUND_STATIONS } from '../../protocols/dictionary/mission.ts';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { type ConsoleBench, openConsoleBench } from '../../hil/console/operations.ts';
import { BenchLock, type ConsoleServer, runLive, startConsoleServer } from '../../hil/console/server.ts';
import { CHROMIUM, launchChromium, openConsolePage } from '../../hil/console/headless-page.ts';
import { toolTier } from '../tiers.ts';

/**
 * The console's scenario controls and limits panel: the HTTP API's answers to bad input
 * (400 naming the field) and on the wall clock (409), then the page in Debian's headless
 * chromium (playwright-core) on the in-process emulated bench run at 10x the wall clock:
 * a pass planned over a station and started from the command form, a fault that drives
 * an item red and back (telemetry, limits panel, event log), the beacon lost, the link
 * cut, and the per-frame event filter during QKD. Screenshots to reports/console/.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shots = join(root, 'reports/console');
const HAVE_CHROMIUM = toolTier('console scenario browser tier', ['chromium'], existsSync(CHROMIUM));
const emulated = () => loadBenchConfig(join(root, 'hil/benches/emulated.json'));

let cb: ConsoleBench;
let server: ConsoleServer;
const stop = new AbortController();
let live: Promise<void>;
const lock = new BenchLock();

beforeAll(async () => {
  cb = await openConsoleBench(emulated(), { seed: 1, root });
  live = runLive(cb, stop.signal, { pace: 10, lock });
  server = await startConsoleServer(cb, { root }, lock);
});

afterAll(async () => {
  stop.abort();
  await live;
  await server?.close();
  await cb?.close();
});

const post = async (base: string, path: string, body: unknown) => {
  const res = await fetch(`${base}api/scenario/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: string; field?: string | null; state?: Record<string, unknown> } };
};

describe('scenario controls over HTTP', () => {
  it('lists the mission stations and every fault the emulated boards know', async () => {
    const state = (await (await fetch(`${server.url}api/scenario`)).json()) as { simulated: boolean; stations: { name: string }[]; faults: { board: string; name: string; active: boolean }[]; beaconVisible: boolean };
    expect(state.simulated).toBe(true);
    expect(state.beaconVisible).toBe(true);
    expect(state.stations.map((s) => s.name)).toEqual([...GROUND_STATIONS]);
    const known = (['qsrc', 'apt', 'lct', 'acs'] as const).flatMap((b) => loadBoardDefinition(b).faults.map((f) => `${b}.${f.name}`));
    expect(state.faults.map((f) => `${f.board}.${f.name}`).sort()).toEqual(known.sort());
    expect(state.faults.every((f) => !f.active)).toBe(true);
  });

  it('refuses bad input with 400 naming the field, and changes nothing', async () => {
    const station = await post(server.url, 'pass', { station: 'atlantis', startInS: 10, lengthS: 600 });
    expect(station.status).toBe(400);
    expect(station.body.field).toBe('station');
    expect(station.body.error).toContain('"atlantis"');
    const negative = await post(server.url, 'pass', { station: 'beijing', startInS: -5, lengthS: 600 });
    expect(negative).toMatchObject({ status: 400, body: { field: 'startInS' } });
    expect(negative.body.error).toContain('negative');
    const length = await post(server.url, 'pass', { station: 'beijing', startInS: 5, lengthS: 'long' });
    expect(length).toMatchObject({ status: 400, body: { field: 'lengthS' } });
    const fault = await post(server.url, 'fault', { board: 'qsrc', fault: 'LASER_MELTED', active: true });
    expect(fault).toMatchObject({ status: 400, body: { field: 'fault' } });
    expect(fault.body.error).toContain('TEC_FAIL'); // the known ones are named
    const board = await post(server.url, 'fault', { board: 'gps', fault: 'TEC_FAIL', active: true });
    expect(board).toMatchObject({ status: 400, body: { field: 'board' } });
    const visible = await post(server.url, 'beacon', { visible: 'yes' });
    expect(visible).toMatchObject({ status: 400, body: { field: 'visible' } });
    expect(cb.world!.beaconVisible).toBe(true);
    expect(cb.bench.store.events.some((e) => e.name.startsWith('scenario:'))).toBe(false);
  });
});

describe('scenario controls on the wall clock', () => {
  it('answer 409 naming simulated time; the page says so', async () => {
    const wall = await openConsoleBench({ ...emulated(), clock: 'wall' }, { seed: 1, root });
    const wallServer = await startConsoleServer(wall, { root });
    try {
      expect(wall.world).toBeNull();
      const state = (await (await fetch(`${wallServer.url}api/scenario`)).json()) as { simulated: boolean; reason: string };
      expect(state.simulated).toBe(false);
      expect(state.reason).toContain('simulated time');
      const r = await post(wallServer.url, 'beacon', { visible: false });
      expect(r.status).toBe(409);
      expect(r.body.error).toContain('need simulated time');
      expect((await post(wallServer.url, 'pass', { station: 'beijing', startInS: 5, lengthS: 60 })).status).toBe(409);
      if (HAVE_CHROMIUM) {
        const browser = await launchChromium();
        try {
          const { page } = await openConsolePage(browser, wallServer.url);
          await page.click('#tabs button[data-view="scenario"]');
          expect(await page.locator('#view-scenario .scenario-unavailable').textContent()).toContain('simulated time');
        } finally {
          await browser.close();
        }
      }
    } finally {
      await wallServer.close();
      await wall.close();
    }
  });
});

describe.runIf(HAVE_CHROMIUM)('scenario controls and limits panel in headless chromium', () => {
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await launchChromium();
    ({ page, errors } = await openConsolePage(browser, server.url));
  });

  afterAll(async () => {
    expect(errors).toEqual([]);
    await browser?.close();
  });

  const tab = (name: string) => page.click(`#tabs button[data-view="${name}"]`);
  const modeIs = (modes: string[], timeout = 20_000) =>
    page.waitForFunction(`${JSON.stringify(modes)}.includes(document.querySelector('td[data-item="PAYLOAD_HK.mode"]')?.textContent ?? '')`, undefined, { timeout });
  /** Bench time (ms) of the newest event of that name in the store. */
  const lastEventT = (name: string) => cb.bench.store.events.filter((e) => e.name === name).at(-1)!.t;

  it('plans a pass over a station with a long delay; SET_MODE ACQUISITION from the form starts it now', async () => {
    await tab('scenario');
    await page.selectOption('#scenario-pass select[name="station"]', 'jinan');
    await page.fill('#scenario-pass input[name="startInS"]', '600');
    await page.fill('#scenario-pass input[name="lengthS"]', '900');
    await page.click('#scenario-pass button[type=submit]');
    await page.locator('#scenario-pass-reports [data-status="completed"]').waitFor();
    expect(await page.locator('#scenario-pass-reports [data-report="VERIFY_COMPLETE_OK"]').count()).toBe(1);
    expect(await page.locator('#scenario-pass-reports [data-status]').textContent()).toContain('jinan');
    // The plan starts 600 s of bench time from now: the payload waits in STANDBY.
    await tab('telemetry');
    await modeIs(['STANDBY'], 5000);

    await tab('commands');
    const form = page.locator('form[data-command="SET_MODE"]');
    const reports = page.locator('.command:has(form[data-command="SET_MODE"]) .reports');
    await form.locator('select[name="mode"]').selectOption('ACQUISITION');
    await form.locator('button[type=submit]').click();
    await reports.locator('[data-status="completed"]').waitFor();
    for (const r of ['VERIFY_ACCEPT_OK', 'VERIFY_START_OK', 'VERIFY_COMPLETE_OK']) expect(await reports.locator(`[data-report="${r}"]`).count()).toBe(1);
    await tab('telemetry');
    await modeIs(['ACQUISITION', 'FINE_POINTING', 'QKD']);

    await tab('events');
    await page.fill('#event-search', 'scenario:pass');
    await page.locator('tr[data-event="scenario:pass"]').first().waitFor();
    expect(await page.locator('tr[data-event="scenario:pass"] td:nth-child(4)').first().textContent()).toContain('station=jinan');
    await page.fill('#event-search', '');
  });

  it('hides the per-frame events during QKD and shows them when unticked', async () => {
    await tab('telemetry');
    await modeIs(['QKD']);
    await tab('events');
    const frames = page.locator('#event-rows tr[data-event="SOURCE_FRAME"]');
    await page.uncheck('#event-hide-frames');
    await expect.poll(() => frames.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.check('#event-hide-frames');
    expect(await frames.count()).toBe(0);
    expect(await page.locator('#event-rows tr').count()).toBeGreaterThan(0);
  });

  it('an injected fault turns the item red (telemetry, limits panel, event log); clearing it returns it to green', async () => {
    const item = 'PAYLOAD_HK.pointingErrorRmsUrad';
    const row = page.locator(`tr:has(td[data-item="${item}"])`);
    await tab('scenario');
    // The stuck mirror stops following the fine loop: the pointing error's RMS passes its red limit (20 urad).
    const fault = page.locator('#scenario-faults tr[data-fault="apt.MIRROR_STUCK"]');
    await fault.locator('button').click();
    await expect.poll(() => fault.getAttribute('data-active')).toBe('true');
    const setT = lastEventT('scenario:fault');
    await page.screenshot({ path: join(shots, 'scenario.png'), fullPage: true });

    await tab('telemetry');
    await expect.poll(() => row.getAttribute('class'), { timeout: 20_000 }).toBe('limit-red');

    await tab('limits');
    await page.locator(`#limits-now tr[data-item="${item}"][data-level="red"]`).waitFor();
    expect(await page.locator(`#limits-now tr[data-item="${item}"] td:nth-child(4)`).textContent()).toBe('red high 20');
    const redAfter = async (to: string, since: number) => {
      const ts = await page.locator(`#limits-transitions tr[data-item="${item}"][data-to="${to}"]`).evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-t'))));
      return ts.filter((t) => t >= since).length;
    };
    expect(await redAfter('red', setT)).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'limits.png'), fullPage: true });

    await tab('events');
    const limitEvents = page.locator(`#event-rows tr[data-event="limit:${item}"]`);
    await limitEvents.first().waitFor();
    expect(await page.locator(`#event-rows tr[data-event="limit:${item}"].sev-high`).count()).toBeGreaterThan(0);
    expect(await page.locator('#event-rows tr[data-event="scenario:fault"]').first().textContent()).toContain('fault=MIRROR_STUCK');

    await tab('scenario');
    await fault.locator('button').click();
    await expect.poll(() => fault.getAttribute('data-active')).toBe('false');
    const clearT = lastEventT('scenario:fault');
    await tab('telemetry');
    await expect.poll(() => row.getAttribute('class'), { timeout: 20_000 }).toBe('limit-green');
    await tab('limits');
    await expect.poll(() => redAfter('green', clearT)).toBeGreaterThan(0);
    expect(await page.locator(`#limits-now tr[data-item="${item}"]`).count()).toBe(0);
  });

  it('losing the beacon during a pass shows in telemetry; a link dropout puts the lct receiver out of limits', async () => {
    await tab('telemetry');
    await modeIs(['QKD']);
    await tab('scenario');
    await expect.poll(() => page.locator('#scenario-beacon').textContent()).toBe('Lose the beacon');
    await page.click('#scenario-beacon');
    await expect.poll(() => page.locator('#scenario-world').getAttribute('data-beacon')).toBe('false');
    await tab('telemetry');
    await modeIs(['ACQUISITION']);
    await tab('events');
    await page.locator('#event-rows tr[data-event="FINE_LOCK_LOST"]').first().waitFor();

    await tab('scenario');
    await page.click('#scenario-beacon');
    await expect.poll(() => page.locator('#scenario-world').getAttribute('data-beacon')).toBe('true');
    expect(cb.world!.beaconVisible).toBe(true);

    await page.click('#scenario-link');
    await expect.poll(() => page.locator('#scenario-world').getAttribute('data-dropout')).toBe('true');
    expect(cb.world!.linkDropout).toBe(true);
    // A board telemetry item with limits: the lct's received power falls below its red limit.
    await tab('limits');
    await page.locator('#limits-now tr[data-item="lct.RX_POWER_DBM"][data-level="red"]').waitFor({ timeout: 15_000 });
    await tab('scenario');
    await page.click('#scenario-link');
    await expect.poll(() => page.locator('#scenario-world').getAttribute('data-dropout')).toBe('false');
    await tab('limits');
    await page.locator('#limits-now tr[data-item="lct.RX_POWER_DBM"]').waitFor({ state: 'detached', timeout: 15_000 });
    const names = cb.bench.store.events.filter((e) => e.name.startsWith('scenario:')).map((e) => `${e.name} ${JSON.stringify(e.fields)}`);
    expect(names.slice(-4)).toEqual(['scenario:beacon {"visible":false}', 'scenario:beacon {"visible":true}', 'scenario:link {"dropout":true}', 'scenario:link {"dropout":false}']);
  });

  it('clears every injected fault at once', async () => {
    await tab('scenario');
    for (const f of ['qsrc.RNG_STUCK', 'acs.STAR_TRACKER_BLIND']) {
      const row = page.locator(`#scenario-faults tr[data-fault="${f}"]`);
      await row.locator('button').click();
      await expect.poll(() => row.getAttribute('data-active')).toBe('true');
    }
    await page.click('#scenario-clear-faults');
    await expect.poll(() => page.locator('#scenario-faults tr[data-active="true"]').count()).toBe(0);
    const state = (await (await fetch(`${server.url}api/scenario`)).json()) as { faults: { active: boolean }[] };
    expect(state.faults.some((f) => f.active)).toBe(false);
    expect(cb.bench.store.events.filter((e) => e.name === 'scenario:clear-faults').at(-1)!.fields).toEqual({ cleared: 'qsrc.RNG_STUCK acs.STAR_TRACKER_BLIND' });
  });
});
