import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHROMIUM } from '../../hil/console/headless-page.ts';
import { measureConsole } from '../../scripts/benchmarks/console.ts';
import { PacedHousekeeping } from '../../hil/console/paced-housekeeping.ts';
import { decodePacket } from '../../protocols/dictionary/index.ts';
import { runScript, STACK_LINE } from '../cli/run.ts';
import { toolTier } from '../tiers.ts';

/**
 * The console benchmark's measuring function (npm run bench -- console) for 3 s at
 * 1,000 PAYLOAD_HK/s: every packet through the bench, the server and the page in Debian's
 * headless chromium reaches the page. No timing assertion: speed is the benchmark's.
 */

describe('paced housekeeping source', () => {
  it('emits dictionary-encoded PAYLOAD_HK packets numbered by frameNumber, stamped on entry, and forwards TCs', async () => {
    const tcs: Uint8Array[] = [];
    const src = new PacedHousekeeping({ ratePerS: 1000, firstFrame: 500, forwardTc: (p) => tcs.push(p) });
    const frames: number[] = [];
    src.onTm((p) => {
      const d = decodePacket(p);
      expect(d.name).toBe('PAYLOAD_HK');
      frames.push(Number(d.fields!.frameNumber));
    });
    const run = await src.run(0.1);
    expect(run.sent).toBe(100);
    expect(frames).toEqual(Array.from({ length: 100 }, (_, i) => 500 + i));
    for (let i = 1; i < run.sent; i++) expect(run.enteredAtMs[i]).toBeGreaterThanOrEqual(run.enteredAtMs[i - 1]);
    src.sendTc(Uint8Array.of(1, 2));
    expect(tcs).toEqual([Uint8Array.of(1, 2)]);
    expect(() => new PacedHousekeeping({ ratePerS: 0, firstFrame: 0 })).toThrow(/ratePerS/);
  });
});

describe('npm run bench -- console: its environment', () => {
  it('refuses a length that is not a positive number, naming the variable (exit 2, no stack trace)', () => {
    const before = process.env.CONSOLE_BENCH_SECONDS;
    process.env.CONSOLE_BENCH_SECONDS = 'ten';
    try {
      const r = runScript('bench', ['console']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/CONSOLE_BENCH_SECONDS must be a positive number, got "ten"/);
      expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
    } finally {
      if (before === undefined) delete process.env.CONSOLE_BENCH_SECONDS;
      else process.env.CONSOLE_BENCH_SECONDS = before;
    }
    const help = runScript('bench', ['--help']);
    expect(help.stdout + help.stderr).toMatch(/CONSOLE_BENCH_SECONDS/);
  });
});

const HAVE_CHROMIUM = toolTier('console benchmark browser tier', ['chromium'], existsSync(CHROMIUM));

describe.runIf(HAVE_CHROMIUM)('console benchmark in headless chromium', () => {
  it('loses no packet at 1,000/s for 3 s and measures the latency to the page', async () => {
    const r = await measureConsole({ seconds: 3, ratePerS: 1000 });
    expect(r.packetsSent).toBe(3000);
    expect(r.packetsLost).toBe(0);
    for (const v of [r.latencyP50Ms, r.latencyP99Ms, r.latencyMaxMs]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
    }
    expect(r.latencyP50Ms).toBeLessThanOrEqual(r.latencyP99Ms);
    expect(r.packetsPerS).toBeGreaterThan(0);
  }, 40_000);
});
