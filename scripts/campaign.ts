/**
 * npm run campaign -- [--days N] [--stations a,b] [--workers N] [--out DIR] [--shard K/N] [--seed S] [--from DATE] [--tle FILE] [--duration-s S]
 * npm run campaign -- merge DIR... --out DIR
 * Every night pass of every station over a window, each on the physics-only engine, on
 * worker threads (hil/campaign). Exit codes: 0 ok, 1 a pass failed (its row says why) or
 * bad data, 2 usage, 130 interrupted (what finished is written).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { EXAMPLE_SEARCH_START, EXAMPLE_TLE } from '../boards/sim/orbit.ts';
import { windowStartAt } from '../boards/sim/pass-list.ts';
import { STATIONS } from '../boards/sim/stations.ts';
import { CampaignCsvError, formatCsv, parseCsv, type CampaignRow } from '../hil/campaign/csv.ts';
import { campaignHtml } from '../hil/campaign/html.ts';
import { campaignPasses, comparePasses, shardOf, type CampaignWindow } from '../hil/campaign/plan.ts';
import { runCampaign } from '../hil/campaign/run.ts';
import { statsByStation } from '../hil/campaign/stats.ts';
import { fail, intOption, parseCli, seedOption, tleFileOption, usageError, utcDateOption } from './cli.ts';

const DEFAULT_DAYS = 7;
const usage = `usage: npm run campaign -- [--days N] [--stations a,b] [--workers N] [--out DIR] [--shard K/N]
                              [--seed S] [--from DATE] [--tle FILE] [--duration-s S]
       npm run campaign -- merge DIR1 DIR2 ... --out DIR
Every night pass (npm run passes: culmination 20:00-04:00 local solar time, above 10 deg)
of every station over the window, each run as a physics-only pass (the fast engine:
SGP4 geometry, channel, detectors, real-time distillation, no firmware; the firmware pass,
npm run pass without --physics-only, is about 10x slower), in parallel on worker threads.
Each pass has its own seed (from --seed, the station and the pass start), so a pass gives
the same key whatever --workers or --shard. Progress (passes done, ETA) on stderr.
Writes DIR/campaign.csv (one row per pass: station,startUtc,maxElevationDeg,finalKeyBits,
qber, then culminationUtc,durationS,siftedBits,seed,keySha256,error), DIR/campaign.html
(key per pass by station, availability = passes with key / night passes, totals, average
key rate) and DIR/campaign.json (the campaign's settings, for merge).
  --days N          window length in whole days, 1..366 (default ${DEFAULT_DAYS})
  --stations a,b    stations, comma-separated: ${Object.keys(STATIONS).join(', ')} (default all)
  --workers N       worker threads, 1..256 (default: the CPUs, ${availableParallelism()} here); each
                    holds one pass in memory (a few hundred MB for a 300 s pass)
  --out DIR         output folder (default reports/campaign)
  --shard K/N       run only every N-th pass of the sorted list, from the K-th (1 <= K <= N):
                    shards on several machines, then merge
  --seed S          campaign seed, whole number 0..4294967295 (default 1)
  --from DATE       window start, UTC date or date-time (default the TLE's epoch)
  --tle FILE        a two-line element set (default the project's example TLE)
  --duration-s S    QKD window per pass centred on culmination, whole seconds 1..1200
                    (default 300; clipped to the pass)
merge: joins the campaign.csv of shards of one campaign (same settings) into --out DIR:
the CSV and page one run over every pass writes.
Exit codes: 0 ok, 1 a pass failed (its row has the error) or unreadable shard data,
2 usage, 130 interrupted by Ctrl-C (the passes that finished are written).
Example: npm run campaign -- --days 7 --workers 2 --out out/campaign`;

const args = parseCli(
  {
    days: { type: 'string' },
    stations: { type: 'string' },
    workers: { type: 'string' },
    out: { type: 'string' },
    shard: { type: 'string' },
    seed: { type: 'string' },
    from: { type: 'string' },
    tle: { type: 'string' },
    'duration-s': { type: 'string' },
  },
  usage,
  true,
);
const v = args.values;
const progress = (m: string) => process.stderr.write(`[campaign] ${m}\n`);

/** The settings a campaign's outputs come from (campaign.json): shards of one campaign share all but `shard`. */
interface CampaignSettings {
  engine: 'physics-only';
  window: CampaignWindow;
  stations: string[];
  seed: number;
  durationS: number;
  shard: [number, number] | null;
}

if (args.positionals[0] === 'merge') await merge(args.positionals.slice(1));
else if (args.positionals.length > 0) usageError(`unknown command '${args.positionals[0]}' (the only command is merge)`, usage);
else await run();

async function run(): Promise<void> {
  const days = intOption('days', v.days ?? String(DEFAULT_DAYS), usage, 1, 366)!;
  const stations = stationsOption(v.stations);
  const workersWanted = intOption('workers', v.workers, usage, 1, 256);
  const shard = shardOption(v.shard);
  const seed = seedOption(v.seed ?? '1', usage)!;
  const durationS = intOption('duration-s', v['duration-s'] ?? '300', usage, 1, 1200)!;
  const tle = v.tle === undefined ? undefined : tleFileOption(v.tle);
  const from = v.from !== undefined ? utcDateOption('from', v.from, usage) : windowStartAt(tle?.epoch ?? EXAMPLE_SEARCH_START);
  const out = outDir(v.out ?? 'reports/campaign');
  const window: CampaignWindow = { tle: tle?.lines ?? EXAMPLE_TLE, fromUtc: from.toISOString(), days };
  const settings: CampaignSettings = { engine: 'physics-only', window, stations, seed, durationS, shard };

  let all;
  try {
    all = campaignPasses(window, stations, seed);
  } catch (e) {
    fail(`${v.tle ? `--tle ${v.tle}: ` : ''}${(e as Error).message}`, 1);
  }
  const passes = shard ? shardOf(all, shard[0], shard[1]) : all;
  const workers = Math.max(1, Math.min(workersWanted ?? availableParallelism(), passes.length));
  progress(`${passes.length} night passes${shard ? ` (shard ${shard[0]}/${shard[1]} of ${all.length})` : ''} over ${stations.join(', ')}, ${days} day${days === 1 ? '' : 's'} from ${window.fromUtc}, ${durationS} s each, physics-only engine, ${workers} worker${workers === 1 ? '' : 's'}`);
  writeFileSync(join(out, 'campaign.json'), JSON.stringify(settings, null, 2) + '\n');
  writeFileSync(join(out, 'campaign.csv'), formatCsv([]));

  const stop = new AbortController();
  process.once('SIGINT', () => {
    progress('interrupted: stopping the workers, writing the passes that finished');
    stop.abort();
  });
  const r = await runCampaign({
    passes,
    window,
    durationS,
    workers,
    signal: stop.signal,
    onRow: (row, rows, p) => {
      // The CSV follows every finished pass: whatever stops the run, what finished is on disk.
      writeFileSync(join(out, 'campaign.csv'), formatCsv(rows));
      const what = 'error' in row.result ? `FAILED: ${row.result.error}` : `${row.result.finalKeyBits} bits`;
      progress(`${p.done}/${p.total} passes (${p.failed} failed), ETA ${p.etaS === null ? '?' : `${Math.ceil(p.etaS)} s`}: ${row.station} ${row.startUtc} ${what}`);
    },
  });
  writeOutputs(out, r.rows, settings, r.aborted ? `interrupted: ${r.rows.length} of ${passes.length} passes` : undefined);
  if (r.aborted) {
    progress(`interrupted: ${r.rows.length} of ${passes.length} passes written to ${out}`);
    process.exit(130);
  }
  if (r.failed > 0) {
    console.error(`error: ${r.failed} of ${passes.length} passes failed (their rows in ${join(out, 'campaign.csv')} say why)`);
    process.exit(1);
  }
}

async function merge(dirs: string[]): Promise<void> {
  if (dirs.length === 0) usageError('merge needs the shards\' folders: npm run campaign -- merge DIR1 DIR2 ... --out DIR', usage);
  if (v.out === undefined) usageError('merge needs --out DIR', usage);
  for (const o of ['days', 'stations', 'workers', 'shard', 'seed', 'from', 'tle', 'duration-s'] as const) if (v[o] !== undefined) usageError(`--${o} goes with a run, not merge (the shards' settings are in their campaign.json)`, usage);
  const shards = dirs.map((d) => readShard(d));
  const base = { ...shards[0].settings, shard: null };
  for (const s of shards.slice(1)) {
    if (JSON.stringify({ ...s.settings, shard: null }) !== JSON.stringify(base)) fail(`cannot merge: ${s.dir} is another campaign than ${shards[0].dir} (campaign.json differs beyond its shard)`, 1);
  }
  const n = shards[0].settings.shard?.[1];
  const got = new Set(shards.map((s) => s.settings.shard?.[0]));
  const missing = n ? Array.from({ length: n }, (_, i) => i + 1).filter((k) => !got.has(k)) : [];
  if (missing.length > 0) progress(`warning: shards ${missing.map((k) => `${k}/${n}`).join(', ')} not given: the merge lacks their passes`);
  const byKey = new Map<string, CampaignRow>();
  for (const s of shards) {
    for (const row of s.rows) {
      const key = `${row.startUtc}/${row.station}`;
      const had = byKey.get(key);
      if (had && JSON.stringify(had) !== JSON.stringify(row)) fail(`cannot merge: ${row.station} ${row.startUtc} differs between shards`, 1);
      byKey.set(key, row);
    }
  }
  const rows = [...byKey.values()].sort(comparePasses);
  const out = outDir(v.out);
  writeOutputs(out, rows, base);
  progress(`merged ${shards.length} shard${shards.length === 1 ? '' : 's'}: ${rows.length} passes`);
  if (rows.some((r) => 'error' in r.result)) process.exit(1);
}

function readShard(dir: string): { dir: string; settings: CampaignSettings; rows: CampaignRow[] } {
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fail(`merge: ${join(dir, f)}: ${code === 'ENOENT' ? 'no such file (not a campaign folder)' : `cannot be read (${code})`}`, code === 'ENOENT' ? 2 : 1);
    }
  };
  let settings: CampaignSettings;
  try {
    settings = JSON.parse(read('campaign.json')) as CampaignSettings;
  } catch (e) {
    fail(`merge: ${join(dir, 'campaign.json')}: not JSON (${(e as Error).message})`, 1);
  }
  try {
    return { dir, settings, rows: parseCsv(read('campaign.csv')) };
  } catch (e) {
    if (e instanceof CampaignCsvError) fail(`merge: ${join(dir, 'campaign.csv')}: ${e.message}`, 1);
    throw e;
  }
}

/** campaign.csv, campaign.html and campaign.json of `rows`; prints the figures per station. */
function writeOutputs(out: string, rows: CampaignRow[], settings: CampaignSettings, interrupted?: string): void {
  writeFileSync(join(out, 'campaign.csv'), formatCsv(rows));
  writeFileSync(join(out, 'campaign.json'), JSON.stringify(settings, null, 2) + '\n');
  const w = settings.window;
  const notes = [
    `${w.days} day${w.days === 1 ? '' : 's'} from ${w.fromUtc}, stations ${settings.stations.join(', ')}, campaign seed ${settings.seed}, QKD window ${settings.durationS} s per pass, physics-only engine (hil/mission/physics-pass.ts).`,
    `TLE: ${w.tle[0]} / ${w.tle[1]}`,
    ...(settings.shard ? [`shard ${settings.shard[0]}/${settings.shard[1]}: every ${settings.shard[1]}-th pass; merge the shards for the whole campaign.`] : []),
    ...(interrupted ? [interrupted] : []),
  ];
  writeFileSync(join(out, 'campaign.html'), campaignHtml(rows, { title: `Campaign: ${rows.length} night passes`, notes }));
  console.log('station       night passes  with key  failed  availability  total key    key/pass (mean, min-max)        avg rate   QBER');
  for (const { station, stats: s } of statsByStation(rows)) {
    const k = (b: number) => `${(b / 1000).toFixed(0)} kbit`;
    console.log(
      `${station.padEnd(13)} ${String(s.nightPasses).padStart(12)}  ${String(s.passesWithKey).padStart(8)}  ${String(s.failedPasses).padStart(6)}  ${`${(100 * s.availability).toFixed(0)} %`.padStart(12)}  ${k(s.totalKeyBits).padStart(11)}  ${`${k(s.meanKeyPerPassBits)}, ${k(s.minKeyPerPassBits)}-${k(s.maxKeyPerPassBits)}`.padStart(30)}  ${`${(s.averageKeyRateBitsPerS / 1000).toFixed(2)} kbps`.padStart(10)}  ${(100 * s.meanQber).toFixed(2)} %`,
    );
  }
  console.log(`wrote ${join(out, 'campaign.csv')}, ${join(out, 'campaign.html')}`);
}

function stationsOption(raw: string | undefined): string[] {
  if (raw === undefined) return Object.keys(STATIONS);
  const names = raw.split(',').map((s) => s.trim().toLowerCase());
  for (const n of names) if (!STATIONS[n]) usageError(`--stations: unknown station '${n}' (known: ${Object.keys(STATIONS).join(', ')})`, usage);
  return [...new Set(names)];
}

function shardOption(raw: string | undefined): [number, number] | null {
  if (raw === undefined) return null;
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(raw);
  const [k, n] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || n < 1 || k < 1 || k > n) usageError(`--shard must be K/N with 1 <= K <= N (e.g. 2/4), got '${raw}'`, usage);
  return [k, n];
}

/** The output folder, made if missing; a file in the way is usage (exit 2). */
function outDir(dir: string): string {
  const abs = resolve(dir);
  if (existsSync(abs) && !statSync(abs).isDirectory()) usageError(`--out ${dir} is a file, not a folder`, usage);
  try {
    mkdirSync(abs, { recursive: true });
  } catch (e) {
    fail(`--out ${dir} cannot be created (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 2);
  }
  return abs;
}
