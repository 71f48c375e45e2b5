import { createHash } from 'node:crypto';
import { listPasses } from '../../boards/sim/pass-list.ts';
import { Orbit } from '../../boards/sim/orbit.ts';
import { stationByName } from '../../boards/sim/stations.ts';

/**
 * What a campaign runs: every night pass of every station over the window, as
 * listPasses lists them (npm run passes), each with its own seed.
 */
export interface CampaignPass {
  /** Station key (boards/sim/stations.ts), lower case. */
  station: string;
  startUtc: string;
  culminationUtc: string;
  maxElevationDeg: number;
  /** 1-based number of the pass in the station's list over the window (PassSelection.number). */
  number: number;
  /** The pass's seed (passSeed). */
  seed: number;
}

export interface CampaignWindow {
  tle: [string, string];
  /** Window start (ISO 8601 UTC). */
  fromUtc: string;
  days: number;
}

/**
 * The seed of one pass: SHA-256 of the campaign seed, the station and the pass start,
 * first 32 bits (the simulations mix seeds as 32-bit words). It depends on nothing else,
 * so a pass gives the same key whatever the worker count, the shard or the window
 * around it.
 */
export function passSeed(campaignSeed: number, station: string, startUtc: string): number {
  return createHash('sha256').update(`${campaignSeed}/${station}/${startUtc}`).digest().readUInt32BE(0);
}

/** The order every campaign output uses: pass start, then station. */
export function comparePasses(a: { startUtc: string; station: string }, b: { startUtc: string; station: string }): number {
  return a.startUtc < b.startUtc ? -1 : a.startUtc > b.startUtc ? 1 : a.station < b.station ? -1 : a.station > b.station ? 1 : 0;
}

/** Every night pass of `stations` over the window, sorted (comparePasses). */
export function campaignPasses(window: CampaignWindow, stations: readonly string[], campaignSeed: number): CampaignPass[] {
  const orbit = new Orbit(window.tle);
  const from = new Date(window.fromUtc);
  const out: CampaignPass[] = [];
  for (const station of stations) {
    listPasses(orbit, stationByName(station), from, window.days).forEach((p, i) => {
      if (!p.night) return;
      out.push({ station, startUtc: p.startUtc, culminationUtc: p.culminationUtc, maxElevationDeg: p.maxElevationDeg, number: i + 1, seed: passSeed(campaignSeed, station, p.startUtc) });
    });
  }
  return out.sort(comparePasses);
}

/** Shard k of n (1-based): every n-th pass of the sorted list, starting at the k-th. */
export function shardOf<T>(passes: readonly T[], k: number, n: number): T[] {
  return passes.filter((_, i) => i % n === k - 1);
}
