import { setMaxListeners } from 'node:events';
import { Piscina } from 'piscina';
import type { CampaignRow } from './csv.ts';
import { comparePasses, type CampaignPass, type CampaignWindow } from './plan.ts';
import type { PassOutcome, PassTask } from './worker.ts';

/** The worker thread's entry (a .mjs that registers tsx, then loads worker.ts). */
export const WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url).href;

export interface CampaignProgress {
  done: number;
  failed: number;
  total: number;
  /** Seconds left at the rate so far (null before the first pass ends). */
  etaS: number | null;
}

export interface CampaignRunOptions {
  passes: readonly CampaignPass[];
  window: CampaignWindow;
  durationS: number;
  workers: number;
  /** Every finished pass, with all rows so far (sorted): the caller keeps its outputs current. */
  onRow?: (row: CampaignRow, rows: CampaignRow[], progress: CampaignProgress) => void;
  /** Stop: passes not yet finished are left out. */
  signal?: AbortSignal;
  /** Another worker entry (tests). */
  workerEntry?: string;
}

export interface CampaignRunResult {
  rows: CampaignRow[];
  failed: number;
  /** Stopped by the signal before every pass finished. */
  aborted: boolean;
}

/**
 * Runs every pass on a pool of worker threads (piscina), each pass on its own seed, so
 * the rows do not depend on the worker count or the order passes finish in. A pass that
 * throws becomes a row with its error and the others go on.
 */
export async function runCampaign(o: CampaignRunOptions): Promise<CampaignRunResult> {
  // Every queued pass listens on the signal: that is expected, not a leak.
  if (o.signal) setMaxListeners(o.passes.length + 10, o.signal);
  const pool = new Piscina<PassTask, PassOutcome>({ filename: o.workerEntry ?? WORKER_ENTRY, minThreads: o.workers, maxThreads: o.workers, idleTimeout: 1000 });
  const rows: CampaignRow[] = [];
  let failed = 0;
  const t0 = performance.now();
  const total = o.passes.length;
  const finish = (p: CampaignPass, result: CampaignRow['result']) => {
    const row: CampaignRow = { station: p.station, startUtc: p.startUtc, maxElevationDeg: p.maxElevationDeg, culminationUtc: p.culminationUtc, seed: p.seed, result };
    rows.push(row);
    rows.sort(comparePasses);
    if ('error' in result) failed++;
    const perPassS = (performance.now() - t0) / 1000 / rows.length;
    o.onRow?.(row, rows, { done: rows.length, failed, total, etaS: perPassS * (total - rows.length) });
  };
  let aborted = false;
  try {
    await Promise.all(
      o.passes.map((p) =>
        pool.run({ pass: p, window: o.window, durationS: o.durationS }, { signal: o.signal }).then(
          (r) => finish(p, r),
          (e: Error) => {
            if (o.signal?.aborted) aborted = true;
            else finish(p, { error: e?.message || String(e) || 'failed without a message' });
          },
        ),
      ),
    );
  } finally {
    await pool.destroy();
  }
  return { rows, failed, aborted };
}
