import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import { CampaignCsvError, CSV_COLUMNS, formatCsv, parseCsv, type CampaignRow } from '../../hil/campaign/csv.ts';
import { campaignPasses, comparePasses, passSeed, shardOf } from '../../hil/campaign/plan.ts';
import { campaignStats } from '../../hil/campaign/stats.ts';

const window = { tle: EXAMPLE_TLE, fromUtc: '2026-11-22T12:00:00.000Z', days: 2 };

describe('the campaign plan: night passes, seeds, shards', () => {
  const passes = campaignPasses(window, ['beijing', 'stellenbosch'], 1);

  it('every night pass of every station, sorted by start then station, numbered as npm run passes lists them', () => {
    expect(passes.length).toBeGreaterThanOrEqual(4);
    expect(new Set(passes.map((p) => p.station))).toEqual(new Set(['beijing', 'stellenbosch']));
    expect([...passes].sort(comparePasses)).toEqual(passes);
    for (const p of passes) expect(p.number).toBeGreaterThanOrEqual(1);
  });

  it("a pass's seed depends on the campaign seed, the station and the pass start only", () => {
    const p = passes[0];
    expect(p.seed).toBe(passSeed(1, p.station, p.startUtc));
    expect(campaignPasses({ ...window, days: 3 }, ['beijing', 'stellenbosch'], 1).find((q) => q.startUtc === p.startUtc && q.station === p.station)?.seed).toBe(p.seed);
    expect(passSeed(2, p.station, p.startUtc)).not.toBe(p.seed);
    expect(passSeed(1, 'jinan', p.startUtc)).not.toBe(p.seed);
    expect(Number.isInteger(p.seed) && p.seed >= 0 && p.seed <= 0xffffffff).toBe(true);
  });

  it('property: the shards K/N partition the list, each every N-th pass', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), (xs, n) => {
        const shards = Array.from({ length: n }, (_, k) => shardOf(xs, k + 1, n));
        expect(shards.flat().sort()).toEqual([...xs].sort());
        shards.forEach((s, k) => expect(s).toEqual(xs.filter((_, i) => i % n === k)));
      }),
      { seed: 14, numRuns: 100 },
    );
  });
});

const row = fc.record({
  station: fc.constantFrom('beijing', 'nanshan'),
  startUtc: fc.date({ min: new Date('2026-01-01'), max: new Date('2027-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  maxElevationDeg: fc.integer({ min: 1000, max: 9000 }).map((x) => x / 100),
  culminationUtc: fc.constant('2026-11-22T18:54:15.000Z'),
  seed: fc.nat(0xffffffff),
  result: fc.oneof(
    fc.record({ finalKeyBits: fc.nat(2e6), qber: fc.integer({ min: 0, max: 500_000 }).map((x) => x / 1e6), durationS: fc.nat(1200), siftedBits: fc.nat(1e7), keySha256: fc.string({ minLength: 64, maxLength: 64, unit: fc.constantFrom(...'0123456789abcdef') }) }),
    fc.record({ error: fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom('a', ',', '"', '\n', ' ', 'é', '\r\n') }) }),
  ),
}) as fc.Arbitrary<CampaignRow>;

describe('campaign.csv', () => {
  it('the five columns first, then the rest', () => {
    expect(CSV_COLUMNS.slice(0, 5)).toEqual(['station', 'startUtc', 'maxElevationDeg', 'finalKeyBits', 'qber']);
    expect(formatCsv([]).trim()).toBe(CSV_COLUMNS.join(','));
  });

  it('property: parse(format(rows)) = rows, errors with commas, quotes and newlines included', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 12 }), (rows) => {
        expect(parseCsv(formatCsv(rows))).toEqual(rows);
      }),
      { seed: 14, numRuns: 200 },
    );
  });

  it('a text that is not a campaign.csv: a CampaignCsvError naming the line', () => {
    expect(() => parseCsv('a,b\n')).toThrow(CampaignCsvError);
    const good = formatCsv([{ station: 'beijing', startUtc: 's', maxElevationDeg: 50, culminationUtc: 'c', seed: 1, result: { finalKeyBits: 5, qber: 0.01, durationS: 300, siftedBits: 9, keySha256: 'ab' } }]);
    expect(() => parseCsv(good.replace(',5,', ',5.5,'))).toThrow(/line 2: finalKeyBits '5\.5' is not a whole number/);
    expect(() => parseCsv(good.replace('beijing,', 'beijing,x,'))).toThrow(/line 2: 12 fields, expected 11/);
    expect(() => parseCsv(`${good}beijing,"unclosed\n`)).toThrow(/line 3: a quoted field is not closed/);
  });

  it('stats: availability is passes with key over night passes; failed passes count as night passes without key', () => {
    const ok = (finalKeyBits: number, durationS = 300): CampaignRow => ({ station: 'beijing', startUtc: 's', maxElevationDeg: 50, culminationUtc: 'c', seed: 1, result: { finalKeyBits, qber: 0.01, durationS, siftedBits: 9, keySha256: '' } });
    const s = campaignStats([ok(600_000), ok(0, 100), ok(300_000), { ...ok(0), result: { error: 'boom' } }]);
    expect(s).toMatchObject({ nightPasses: 4, passesWithKey: 2, failedPasses: 1, availability: 0.5, totalKeyBits: 900_000, meanKeyPerPassBits: 450_000, minKeyPerPassBits: 300_000, maxKeyPerPassBits: 600_000 });
    expect(s.averageKeyRateBitsPerS).toBeCloseTo(900_000 / 700, 6);
  });
});
