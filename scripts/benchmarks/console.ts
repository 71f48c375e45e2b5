/**
 * npm run bench -- console
 * The operator console at 1,000 TM packets/s for 30 s, measured in the page: the console's
 * own bench (emulated boards, payload firmware hosted and run live at the wall clock's
 * pace, as `npm run console` runs it) with a paced source of PAYLOAD_HK packets attached as
 * its payload endpoint (hil/console/paced-housekeeping.ts: dictionary-encoded, frameNumber
 * a counter; TCs still reach the hosted firmware). Each packet goes through the bench's TM
 * ingestion and store, the server's Collector and WebSocket batches, and the page's apply()
 * in Debian's headless chromium (playwright-core, /usr/bin/chromium), opened with
 * ?measure=1 (hil/console/page/measure.js).
 *  - packetsLost: sent minus distinct packets the page applied (goal 0);
 *  - latencyP50Ms, latencyP99Ms: wall time from a packet entering the bench to the page
 *    having applied it (goal p99 <= 100 ms); both sides stamp with timeOrigin + now on
 *    this machine, the page's offset measured by round trips and removed.
 * CONSOLE_BENCH_SECONDS (default 30) and CONSOLE_BENCH_RATE (packets/s, default 1000)
 * shorten or change the run for a quick check.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, openConsolePage } from '../../hil/console/headless-page.ts';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { openConsoleBench } from '../../hil/console/operations.ts';
import { PacedHousekeeping } from '../../hil/console/paced-housekeeping.ts';
import { BenchLock, runLive, startConsoleServer } from '../../hil/console/server.ts';
import { fail } from '../cli.ts';
import type { Benchmark } from './types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** frameNumber of the first paced packet: far above any frame number the hosted firmware reports. */
const FIRST_FRAME = 1_000_000_000;
/** How long the page may take to apply the last packets after the source stops, ms. */
const DRAIN_MS = 3000;

export interface ConsoleMeasureOptions {
  seconds: number;
  ratePerS: number;
  /** The server's batch period; default the server's own. */
  batchMs?: number;
  progress?: (message: string) => void;
}

export interface ConsoleMeasurement {
  packetsSent: number;
  /** Packets sent minus distinct packets the page applied. */
  packetsLost: number;
  /** Packets the page applied more than once (a reconnection's snapshot). */
  packetsDuplicated: number;
  packetsPerS: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  longTasks: number;
  longTaskMaxMs: number;
  maxFrameGapMs: number;
  /** Node's event loop delay while sending (the bench, its live run and the server share it), p99 and max, ms. */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** CPU time of this Node process (bench, live run, server) over wall time while sending, %. */
  serverCpuPct: number;
  /** The page's clock minus Node's (both timeOrigin + now), ms, and the round trip it was measured in. */
  clockOffsetMs: number;
  clockRttMs: number;
}

function pct(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

interface PageMeasure {
  applied: Array<[string, number | null, number]>;
  longTaskCount: number;
  longTaskMaxMs: number;
  maxFrameGapMs: number;
  now(): number;
}
declare const window: { __consoleMeasure: PageMeasure };

export async function measureConsole(o: ConsoleMeasureOptions): Promise<ConsoleMeasurement> {
  if (!(Math.round(o.seconds * o.ratePerS) >= 1)) throw new RangeError(`measureConsole: ${o.seconds} s at ${o.ratePerS}/s is not one packet`);
  const progress = o.progress ?? (() => {});
  const cb = await openConsoleBench(loadBenchConfig(join(root, 'hil/benches/emulated.json')), { seed: 1, root, runName: 'console-benchmark' });
  // The bench keeps its subscription to the hosted firmware's TM; the paced source becomes
  // the endpoint TCs go to, and hands them on to the firmware.
  const source = new PacedHousekeeping({ ratePerS: o.ratePerS, firstFrame: FIRST_FRAME, forwardTc: (p) => cb.rig.sendTc(p) });
  cb.bench.attachPayload(source);
  const stop = new AbortController();
  const lock = new BenchLock();
  const live = runLive(cb, stop.signal, { pace: 1, lock });
  const server = await startConsoleServer(cb, { root, ...(o.batchMs !== undefined ? { batchMs: o.batchMs } : {}) }, lock).catch(async (e) => {
    stop.abort();
    await live;
    await cb.close();
    throw e;
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const { page, errors } = await openConsolePage(browser, `${server.url}${server.url.includes('?') ? '&' : '?'}measure=1`);
    await page.waitForFunction(`document.querySelector('#status')?.textContent === 'live'`);

    // The page's clock against Node's: the round trip with the least delay bounds the error.
    let clockOffsetMs = 0;
    let clockRttMs = Infinity;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.timeOrigin + performance.now();
      const tp = await page.evaluate(() => window.__consoleMeasure.now());
      const t1 = performance.timeOrigin + performance.now();
      if (t1 - t0 < clockRttMs) {
        clockRttMs = t1 - t0;
        clockOffsetMs = tp - (t0 + t1) / 2;
      }
    }
    await page.evaluate(() => {
      const m = window.__consoleMeasure;
      m.applied.length = 0;
      m.longTaskCount = Math.min(m.longTaskCount, 0);
      m.longTaskMaxMs = 0;
      m.maxFrameGapMs = 0;
    });

    progress(`${o.ratePerS} PAYLOAD_HK/s for ${o.seconds} s into the bench; page ${server.url} (clock offset ${clockOffsetMs.toFixed(2)} ms, rtt ${clockRttMs.toFixed(2)} ms)`);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const run = await source.run(o.seconds);
    const cpu = process.cpuUsage(cpu0);
    loop.disable();
    progress(`sent ${run.sent} in ${run.wallS.toFixed(2)} s; waiting for the page`);
    const last = FIRST_FRAME + run.sent - 1;
    await page
      .waitForFunction((n) => window.__consoleMeasure.applied.some((a) => a[1] === n), last, { timeout: DRAIN_MS, polling: 100 })
      .catch(() => progress(`the last packet did not reach the page within ${DRAIN_MS} ms`));
    const m = await page.evaluate((first) => {
      const s = window.__consoleMeasure;
      const ours = s.applied.filter((a) => a[0] === 'PAYLOAD_HK' && typeof a[1] === 'number' && a[1] >= first).map((a) => [a[1], a[2]]);
      return { ours, longTaskCount: s.longTaskCount, longTaskMaxMs: s.longTaskMaxMs, maxFrameGapMs: s.maxFrameGapMs };
    }, FIRST_FRAME);
    if (errors.length > 0) throw new Error(`the page threw: ${errors.join('; ')}`);

    const firstApplied = new Float64Array(run.sent).fill(Number.NaN);
    let duplicated = 0;
    for (const [frame, at] of m.ours as Array<[number, number]>) {
      const i = frame - FIRST_FRAME;
      if (i < 0 || i >= run.sent) continue;
      if (Number.isNaN(firstApplied[i])) firstApplied[i] = at - clockOffsetMs;
      else duplicated++;
    }
    const lat: number[] = [];
    for (let i = 0; i < run.sent; i++) if (!Number.isNaN(firstApplied[i])) lat.push(firstApplied[i] - run.enteredAtMs[i]);
    const sorted = Float64Array.from(lat).sort();
    return {
      packetsSent: run.sent,
      packetsLost: run.sent - lat.length,
      packetsDuplicated: duplicated,
      packetsPerS: run.sent / run.wallS,
      latencyP50Ms: pct(sorted, 0.5),
      latencyP99Ms: pct(sorted, 0.99),
      latencyMaxMs: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
      longTasks: m.longTaskCount,
      longTaskMaxMs: m.longTaskMaxMs,
      maxFrameGapMs: m.maxFrameGapMs,
      eventLoopDelayP99Ms: loop.percentile(99) / 1e6,
      eventLoopDelayMaxMs: loop.max / 1e6,
      serverCpuPct: ((cpu.user + cpu.system) / 1e6 / run.wallS) * 100,
      clockOffsetMs,
      clockRttMs,
    };
  } finally {
    await browser?.close();
    await server.close();
    stop.abort();
    await live;
    await cb.close();
  }
}

/** A positive number from the environment, or the default; anything else is a usage error (exit 2) naming the variable. */
function envNumber(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const v = Number(raw);
  if (!/^\s*[0-9.eE+]+\s*$/.test(raw) || !Number.isFinite(v) || v <= 0) fail(`${name} must be a positive number, got ${JSON.stringify(raw)}`, 2);
  return v;
}

const bench: Benchmark = async ({ progress }) => {
  const seconds = envNumber('CONSOLE_BENCH_SECONDS', 30);
  const ratePerS = envNumber('CONSOLE_BENCH_RATE', 1000);
  if (!existsSync(CHROMIUM)) fail(`the console benchmark needs Debian's chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`, 1);
  const r = await measureConsole({ seconds, ratePerS, progress });
  return [
    { key: 'packetsSent', label: `PAYLOAD_HK packets into the bench (${ratePerS}/s for ${seconds} s)`, value: r.packetsSent, unit: 'packets' },
    { key: 'packetsPerS', label: 'rate achieved on the wall clock', value: r.packetsPerS, unit: 'packets/s' },
    { key: 'packetsLost', label: 'sent minus distinct packets the page applied', value: r.packetsLost, unit: 'packets', target: '0' },
    { key: 'latencyP50Ms', label: 'packet entering the bench to the page having applied it, median', value: r.latencyP50Ms, unit: 'ms' },
    { key: 'latencyP99Ms', label: 'packet entering the bench to the page having applied it, p99', value: r.latencyP99Ms, unit: 'ms', target: '<= 100' },
    { key: 'latencyMaxMs', label: 'packet entering the bench to the page having applied it, max', value: r.latencyMaxMs, unit: 'ms' },
    { key: 'pageLongTasks', label: 'long tasks (> 50 ms) on the page while measuring', value: r.longTasks, unit: 'tasks' },
    { key: 'pageLongTaskMaxMs', label: 'longest of them', value: r.longTaskMaxMs, unit: 'ms' },
    { key: 'pageMaxFrameGapMs', label: 'longest gap between animation frames on the page', value: r.maxFrameGapMs, unit: 'ms' },
    { key: 'serverEventLoopDelayP99Ms', label: "Node's event loop delay while sending (bench, live run, server), p99", value: r.eventLoopDelayP99Ms, unit: 'ms' },
    { key: 'serverEventLoopDelayMaxMs', label: "Node's event loop delay while sending, max", value: r.eventLoopDelayMaxMs, unit: 'ms' },
    { key: 'serverCpuPct', label: 'CPU of the Node process (bench, live run, server) while sending', value: r.serverCpuPct, unit: '% of a core' },
  ];
};

export default bench;
