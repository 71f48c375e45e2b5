import type { CampaignRow } from './csv.ts';

/** The figures of a set of campaign passes (one station, or all). */
export interface CampaignStats {
  nightPasses: number;
  /** Passes that made key (finalKeyBits > 0). */
  passesWithKey: number;
  failedPasses: number;
  /** passesWithKey / nightPasses (0 without passes). */
  availability: number;
  totalKeyBits: number;
  /** Mean final key of the passes with key. */
  meanKeyPerPassBits: number;
  minKeyPerPassBits: number;
  maxKeyPerPassBits: number;
  /** Key over the QKD time of the passes that ran (key bits / window seconds), the published "average" rate. */
  averageKeyRateBitsPerS: number;
  /** Mean QBER of the passes with key. */
  meanQber: number;
}

export function campaignStats(rows: readonly CampaignRow[]): CampaignStats {
  const ok = rows.flatMap((r) => ('error' in r.result ? [] : [r.result]));
  const keyed = ok.filter((r) => r.finalKeyBits > 0);
  const totalKeyBits = ok.reduce((a, r) => a + r.finalKeyBits, 0);
  const seconds = ok.reduce((a, r) => a + r.durationS, 0);
  const keys = keyed.map((r) => r.finalKeyBits);
  return {
    nightPasses: rows.length,
    passesWithKey: keyed.length,
    failedPasses: rows.length - ok.length,
    availability: rows.length > 0 ? keyed.length / rows.length : 0,
    totalKeyBits,
    meanKeyPerPassBits: keyed.length > 0 ? totalKeyBits / keyed.length : 0,
    minKeyPerPassBits: keys.length > 0 ? Math.min(...keys) : 0,
    maxKeyPerPassBits: keys.length > 0 ? Math.max(...keys) : 0,
    averageKeyRateBitsPerS: seconds > 0 ? totalKeyBits / seconds : 0,
    meanQber: keyed.length > 0 ? keyed.reduce((a, r) => a + r.qber, 0) / keyed.length : 0,
  };
}

/** Per station (in first-seen order), then all passes. */
export function statsByStation(rows: readonly CampaignRow[]): { station: string; stats: CampaignStats }[] {
  const stations = [...new Set(rows.map((r) => r.station))];
  return [...stations.map((s) => ({ station: s, stats: campaignStats(rows.filter((r) => r.station === s)) })), { station: 'all', stats: campaignStats(rows) }];
}
