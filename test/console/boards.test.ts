import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { BoardRequestError, readRequest, writePolicy, writeRequest } from '../../hil/console/boards.ts';
import { type ConsoleBench, openConsoleBench } from '../../hil/console/operations.ts';
import { BenchLock, type ConsoleServer, runLive, startConsoleServer } from '../../hil/console/server.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { CHROMIUM, launchChromium, openConsolePage } from '../../hil/console/headless-page.ts';
import { toolTier } from '../tiers.ts';

/**
 * The console's Boards view: the write policy and the checks of a write (units), then the
 * page in Debian's headless chromium (playwright-core) on the in-process emulated bench
 * (reads, writes, refusals, live board telemetry; screenshot reports/console/boards.png)
 * and on the pty bench (every board an emulator process on a pseudo-terminal).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shots = join(root, 'reports/console');
const HAVE_CHROMIUM = toolTier('console boards browser tier', ['chromium'], existsSync(CHROMIUM));
const HAVE_PTY = HAVE_CHROMIUM && toolTier('console boards pty tier', ['socat'], socatAvailable());

describe('write policy', () => {
  it('allows emulated boards, refuses a real board without --allow-writes naming the board and why, allows it with', () => {
    expect(writePolicy({ name: 'apt', identity: { emulated: true } }, false)).toEqual({ allowed: true, reason: null });
    expect(writePolicy({ name: 'apt', identity: { emulated: false } }, false)).toEqual({
      allowed: false,
      reason: 'board apt is a real board: start the console with --allow-writes to write its registers',
    });
    expect(writePolicy({ name: 'apt', identity: { emulated: false } }, true)).toEqual({ allowed: true, reason: null });
    // A board that never identified itself is taken for real.
    expect(writePolicy({ name: 'lct', identity: null }, false).allowed).toBe(false);
  });
});

describe('register checks before anything is sent', () => {
  const apt = { name: 'apt' as const, def: loadBoardDefinition('apt') };
  const refusal = (values: unknown) => {
    try {
      writeRequest(apt, values);
    } catch (e) {
      expect(e).toBeInstanceOf(BoardRequestError);
      return { status: (e as BoardRequestError).status, register: (e as BoardRequestError).register, message: (e as Error).message };
    }
    throw new Error('not refused');
  };

  it('takes engineering values in range, as numbers or decimal strings', () => {
    expect(writeRequest(apt, { CAM_EXPOSURE_US: '250', FSM_CMD_X_URAD: -12.5 })).toEqual({ CAM_EXPOSURE_US: 250, FSM_CMD_X_URAD: -12.5 });
  });

  it('refuses out of range, read-only, unknown, non-numbers and values between two steps, naming the register', () => {
    expect(refusal({ CAM_EXPOSURE_US: 20000 })).toEqual({ status: 400, register: 'CAM_EXPOSURE_US', message: 'board apt: register CAM_EXPOSURE_US: 20000 us is out of range 10..10000 us' });
    expect(refusal({ SPOT_VALID: 1 })).toMatchObject({ status: 400, register: 'SPOT_VALID', message: 'board apt: register SPOT_VALID is read-only' });
    expect(refusal({ CAM_EXPOSURE: 1 })).toMatchObject({ status: 400, register: 'CAM_EXPOSURE', message: expect.stringMatching(/^board apt has no register 'CAM_EXPOSURE' \(registers: UPTIME_MS, /) });
    expect(refusal({ FSM_ENABLE: 'on' })).toMatchObject({ register: 'FSM_ENABLE', message: 'board apt: register FSM_ENABLE: expected a number, got "on"' });
    expect(refusal({ FSM_ENABLE: 0.5 })).toMatchObject({ register: 'FSM_ENABLE', message: 'board apt: register FSM_ENABLE: 0.5 is not a multiple of its resolution 1' });
    expect(refusal({ FSM_CMD_X_URAD: 1.234 })).toMatchObject({ register: 'FSM_CMD_X_URAD', message: expect.stringContaining('not a multiple of its resolution 0.01 urad') });
    expect(refusal({})).toMatchObject({ status: 400, register: null });
    expect(() => readRequest(apt, ['SPOT_X_URAD', 'NOPE'])).toThrow("board apt has no register 'NOPE'");
    expect(readRequest(apt, undefined)).toHaveLength(apt.def.registers.length);
  });
});

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
});
const newPage = async (url: string): Promise<{ page: Page; errors: string[] }> => openConsolePage((browser ??= await launchChromium()), url);

/** A console on `benchFile`, run live at `pace`; closed by the returned stop. */
async function liveConsole(benchFile: string, pace: number): Promise<{ cb: ConsoleBench; server: ConsoleServer; lock: BenchLock; stop(): Promise<void> }> {
  const cb = await openConsoleBench(loadBenchConfig(join(root, benchFile)), { seed: 1, root });
  const lock = new BenchLock();
  const abort = new AbortController();
  const live = runLive(cb, abort.signal, { pace, lock });
  const server = await startConsoleServer(cb, { root }, lock);
  return {
    cb,
    server,
    lock,
    async stop() {
      await server.close();
      abort.abort();
      await live;
      await cb.close();
    },
  };
}

const row = (page: Page, board: string, reg: string) => page.locator(`details.board[data-board="${board}"] tr[data-register="${reg}"]`);

describe.runIf(HAVE_CHROMIUM)('Boards view on the emulated bench (headless chromium)', () => {
  let c: Awaited<ReturnType<typeof liveConsole>>;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    c = await liveConsole('hil/benches/emulated.json', 5);
    ({ page, errors } = await newPage(c.server.url));
    await page.click('#tabs button[data-view="boards"]');
  });
  afterAll(async () => {
    await page?.close();
    await c?.stop();
  });

  it('lists the four boards with identity, line and registers, their telemetry live', async () => {
    expect(await page.locator('details.board').evaluateAll((els) => els.map((e) => e.getAttribute('data-board')))).toEqual(['qsrc', 'apt', 'lct', 'acs']);
    const apt = page.locator('details.board[data-board="apt"]');
    expect(await apt.locator('.identity').textContent()).toMatch(/^board id 0x5102 · hw 1\.1 · fw 2\.3\.0 · serial \d+ · emulated$/);
    expect(await apt.locator('.line').textContent()).toBe('line: emulated (in-memory emulator apt)');
    expect(await apt.locator('.writes').textContent()).toBe('writes allowed (emulated board)');
    expect(await row(page, 'apt', 'CAM_EXPOSURE_US').locator('td.unit').textContent()).toBe('us');
    expect(await row(page, 'apt', 'CAM_EXPOSURE_US').locator('td.access').textContent()).toBe('read-write');
    expect(await row(page, 'apt', 'SPOT_X_URAD').locator('input.write-value').count()).toBe(0);
    // Board telemetry arrives in the batches: the frame count grows, BOARD_TEMP_C (limits in common.yaml) is green.
    const count = async () => Number((await apt.locator('summary .meta').getAttribute('data-count')) ?? 0);
    await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(0);
    const first = await count();
    await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(first);
    expect(await row(page, 'apt', 'BOARD_TEMP_C').locator('td.live').textContent()).toMatch(/^\d+(\.\d+)?$/);
    expect(await row(page, 'apt', 'BOARD_TEMP_C').getAttribute('class')).toBe('limit-green');
  });

  it('reads a register with its unit, writes a writable one and reads the new value back', async () => {
    const exposure = row(page, 'apt', 'CAM_EXPOSURE_US');
    await exposure.locator('button.read').click();
    await expect.poll(() => exposure.locator('td.read-value').textContent()).toBe('1000 us');
    await exposure.locator('input.write-value').fill('250');
    await exposure.locator('button.write').click();
    await expect.poll(() => page.locator('details.board[data-board="apt"] .board-note').textContent()).toBe('wrote CAM_EXPOSURE_US = 250 us; the board holds 250 us');
    await exposure.locator('td.read-value').evaluate((e) => (e.textContent = ''));
    await exposure.locator('button.read').click();
    await expect.poll(() => exposure.locator('td.read-value').textContent()).toBe('250 us');
    expect(await c.cb.bench.board('apt').read('CAM_EXPOSURE_US')).toEqual({ CAM_EXPOSURE_US: 250 });
    // Read all: every readable register of the board, scaled (SUPPLY_V in volts).
    await page.locator('details.board[data-board="qsrc"] button.read-all').click();
    await expect.poll(() => row(page, 'qsrc', 'SUPPLY_V').locator('td.read-value').textContent()).toMatch(/^[45](\.\d+)? V$/);
  });

  it('refuses an out-of-range write naming the register, and the board keeps its value', async () => {
    const exposure = row(page, 'apt', 'CAM_EXPOSURE_US');
    await exposure.locator('input.write-value').fill('20000');
    await exposure.locator('button.write').click();
    const error = page.locator('details.board[data-board="apt"] .board-error');
    await expect.poll(() => error.textContent()).toBe('board apt: register CAM_EXPOSURE_US: 20000 us is out of range 10..10000 us');
    expect(await error.getAttribute('data-register')).toBe('CAM_EXPOSURE_US');
    expect(await c.cb.bench.board('apt').read('CAM_EXPOSURE_US')).toEqual({ CAM_EXPOSURE_US: 250 });
    await exposure.locator('input.write-value').fill('');
    await page.locator('details.board[data-board="apt"] button.read-all').click();
    await expect.poll(() => row(page, 'apt', 'FSM_RANGE_URAD').locator('td.read-value').textContent()).toBe('2000 urad');
    await page.locator('details.board[data-board="apt"]').screenshot({ path: join(shots, 'boards.png') });
    expect(errors).toEqual([]);
  });

  it('a real board: writes refused 403 naming the board and why, shown disabled on the page, allowed with --allow-writes; unknown board 404; bad register 400', async () => {
    const post = async (path: string, body: unknown) => {
      const r = await fetch(new URL(path, c.server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as { error: string; register: string | null } };
    };
    const acs = c.cb.bench.board('acs');
    const id = acs.identity!;
    acs.identity = { ...id, emulated: false }; // what a real board says at its identity check
    try {
      expect(await post('/api/boards/acs/write', { values: { WHEEL_SPEED_RPM: 1 } })).toEqual({
        status: 403,
        body: { error: 'board acs is a real board: start the console with --allow-writes to write its registers', register: null },
      });
      const listed = (await (await fetch(new URL('/api/boards', c.server.url))).json()) as { boards: { name: string; writes: { allowed: boolean } }[] };
      expect(listed.boards.find((b) => b.name === 'acs')!.writes.allowed).toBe(false);
      // The page shows that board's writes disabled, with the reason.
      const other = await newPage(c.server.url);
      const acsView = other.page.locator('details.board[data-board="acs"]');
      expect(await acsView.locator('.writes').textContent()).toBe('writes disabled: board acs is a real board: start the console with --allow-writes to write its registers');
      expect(await acsView.locator('tr[data-register="CFG_ACTIVE_BANK"] button.write').isDisabled()).toBe(true);
      expect(await page.locator('details.board[data-board="apt"] tr[data-register="CFG_ACTIVE_BANK"] button.write').isDisabled()).toBe(false);
      await other.page.close();
      // A console started with --allow-writes writes it (the option as scripts/console.ts passes it).
      const allowing = await startConsoleServer(c.cb, { root, allowWrites: true }, c.lock);
      try {
        const r = await fetch(new URL('/api/boards/acs/write', allowing.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ values: { CFG_ACTIVE_BANK: 0 } }) });
        expect({ status: r.status, body: await r.json() }).toMatchObject({ status: 200, body: { board: 'acs', values: { CFG_ACTIVE_BANK: 0 } } });
      } finally {
        await allowing.close();
      }
    } finally {
      acs.identity = id;
    }
    expect(await post('/api/boards/xyz/read', {})).toMatchObject({ status: 404, body: { error: "no board 'xyz' on this bench (boards: qsrc, apt, lct, acs)" } });
    expect(await post('/api/boards/apt/write', { values: { SPOT_VALID: 1 } })).toMatchObject({ status: 400, body: { register: 'SPOT_VALID' } });
    expect(await post('/api/boards/apt/read', { registers: 'SPOT_VALID' })).toMatchObject({ status: 400, body: { error: "board apt: 'registers' must be a list of register names" } });
  });
});

describe.runIf(HAVE_PTY)('console on the pty bench (every board an emulator process on a pseudo-terminal)', () => {
  let c: Awaited<ReturnType<typeof liveConsole>>;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    c = await liveConsole('hil/benches/pty.json', 1);
    ({ page, errors } = await newPage(c.server.url));
  }, 30_000);
  afterAll(async () => {
    await page?.close();
    await c?.stop();
  });

  it('loads, shows PAYLOAD_HK updating, and the Boards view reads a register over the pty', async () => {
    const count = async () => Number((await page.locator('section[data-packet="PAYLOAD_HK"] .meta').getAttribute('data-count')) ?? 0);
    await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(0);
    const first = await count();
    await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(first);
    await page.click('#tabs button[data-view="boards"]');
    const qsrc = page.locator('details.board[data-board="qsrc"]');
    expect(await qsrc.locator('.line').textContent()).toMatch(/^line: pty \(port \/dev\/pts\/\d+\)$/);
    expect(await qsrc.locator('.identity').textContent()).toMatch(/· emulated$/);
    const rate = row(page, 'qsrc', 'REP_RATE_MHZ');
    await rate.locator('button.read').click();
    await expect.poll(() => rate.locator('td.read-value').textContent()).toBe('625 MHz');
    expect(errors).toEqual([]);
  }, 30_000);
});
