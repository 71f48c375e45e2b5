/**
 * npm run passes -- [--station NAME] [--tle FILE] [--from DATE] [--days N] [--min-elevation-deg E] [--json]
 * The visible passes of a satellite over a ground station (boards/sim/pass-list.ts).
 * Exit codes: 0 ok, 1 a TLE file that is not one (or SGP4 refuses it), 2 usage.
 */
import { LIST_MIN_ELEVATION_DEG, listPasses, PASS_WINDOW_DAYS, windowStartAt } from '../boards/sim/pass-list.ts';
import { EXAMPLE_SEARCH_START, EXAMPLE_TLE, Orbit } from '../boards/sim/orbit.ts';
import { STATIONS } from '../boards/sim/stations.ts';
import { fail, intOption, numberOption, parseCli, tleFileOption, usageError, utcDateOption } from './cli.ts';

/** Beyond this distance from the epoch a TLE's pass times are off by more than a few seconds (the usual rule of thumb: a TLE is good for days to a couple of weeks). */
const STALE_TLE_DAYS = 14;

const usage = `usage: npm run passes -- [--station NAME] [--tle FILE] [--from DATE] [--days N] [--min-elevation-deg E] [--json]
The visible passes of the satellite over a ground station: rise, culmination and set
(UTC, to the second), maximum elevation, and night or day at the station (night: the
culmination between 20:00 and 04:00 local mean solar time, the passes QKD uses; the
night pass with the highest elevation is the one npm run pass runs; the N-th line of the
default 3 days from --from and 10 deg is npm run pass -- --pass N with the same --station,
--tle and --from as --date).
  --station NAME          ${Object.keys(STATIONS).join(' | ')} (default beijing)
  --tle FILE              a two-line element set (optionally after a name line), as
                          CelesTrak publishes it (default: the project's example TLE);
                          a window starting over 14 days from its epoch is warned of
  --from DATE             window start, UTC: 2026-11-22 or 2026-11-22T12:00:00Z
                          (default: the TLE's epoch, to the second)
  --days N                window length in whole days, 1..366 (default 3)
  --min-elevation-deg E   a pass is the time above E degrees, 0..89 (default 10)
  --json                  one JSON object per pass and line: startUtc, culminationUtc,
                          endUtc, durationS, maxElevationDeg, night, localSolarHour
Example: npm run passes -- --station nanshan --days 7 --json`;

const args = parseCli(
  {
    station: { type: 'string', default: 'beijing' },
    tle: { type: 'string' },
    from: { type: 'string' },
    days: { type: 'string', default: String(PASS_WINDOW_DAYS) },
    'min-elevation-deg': { type: 'string', default: String(LIST_MIN_ELEVATION_DEG) },
    json: { type: 'boolean', default: false },
  },
  usage,
  false,
);
const v = args.values;
const stationKey = v.station!.toLowerCase();
const station = STATIONS[stationKey];
if (!station) usageError(`--station: unknown station '${v.station}' (known: ${Object.keys(STATIONS).join(', ')})`, usage);
const days = intOption('days', v.days, usage, 1, 366)!;
const minElevationDeg = numberOption('min-elevation-deg', v['min-elevation-deg'], usage, 0, 89)!;
const from = v.from === undefined ? undefined : utcDateOption('from', v.from, usage);
const tle = v.tle === undefined ? { lines: EXAMPLE_TLE, epoch: EXAMPLE_SEARCH_START } : tleFileOption(v.tle);

let orbit: Orbit;
try {
  orbit = new Orbit(tle.lines);
} catch (e) {
  fail(`--tle ${v.tle}: ${(e as Error).message}`, 1);
}
// Whole seconds, so every time listed is to the second.
const start = from ?? windowStartAt(tle.epoch);
const daysFromEpoch = Math.abs(start.getTime() - tle.epoch.getTime()) / 86_400_000;
// SGP4 from a TLE weeks old drifts by kilometres: the listing is then a rough guide.
if (daysFromEpoch > STALE_TLE_DAYS) process.stderr.write(`[passes] warning: the window starts ${daysFromEpoch.toFixed(0)} days from the TLE epoch ${tle.epoch.toISOString()}: predictions drift, use a fresher TLE\n`);
let passes: ReturnType<typeof listPasses>;
try {
  passes = listPasses(orbit, station, start, days, minElevationDeg);
} catch (e) {
  // SGP4 gives up on an orbit propagated far from its epoch (decayed): a fact of the data.
  fail(`${v.tle ? `--tle ${v.tle}: ` : ''}${(e as Error).message}`, 1);
}

const utc = (iso: string) => iso.replace(/\.000Z$/, 'Z');
const nights = passes.filter((p) => p.night).length;
process.stderr.write(
  `[passes] ${station.name} (${station.latitudeDeg} deg, ${station.longitudeDeg} deg, ${station.heightKm} km): ${passes.length} passes above ${minElevationDeg} deg in ${days} day${days === 1 ? '' : 's'} from ${utc(start.toISOString())}, ${nights} at night\n`,
);
if (v.json) {
  for (const p of passes) console.log(JSON.stringify({ station: stationKey, ...p }));
} else {
  console.log('start (UTC)           culmination (UTC)     end (UTC)             max el     sky');
  for (const p of passes) {
    console.log(`${utc(p.startUtc)}  ${utc(p.culminationUtc)}  ${utc(p.endUtc)}  ${p.maxElevationDeg.toFixed(1).padStart(4)} deg  ${p.night ? 'night' : 'day'}`);
  }
}
