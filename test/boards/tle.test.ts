import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_SEARCH_START, EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import { parseTle, tleChecksum, TleError } from '../../boards/sim/tle.ts';

// The ISS element set as CelesTrak published it (epoch 2008-09-20 12:25:40 UTC), the
// example of the TLE format description: a real, independently checksummed pair.
const ISS = [
  'ISS (ZARYA)',
  '1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927',
  '2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537',
];
const [L1, L2] = EXAMPLE_TLE;
/** Line 1 with another epoch (columns 19-32) and a checksum that fits. */
const withEpoch = (yy: string, ddd: string) => {
  const body = `${L1.slice(0, 18)}${yy}${ddd}${L1.slice(32, 68)}`;
  return body + tleChecksum(body);
};
const refusal = (text: string) => {
  try {
    parseTle(text);
  } catch (e) {
    expect(e).toBeInstanceOf(TleError);
    return e as TleError;
  }
  throw new Error('accepted');
};

describe('parseTle', () => {
  it('reads the example TLE: its lines and its epoch (the default search start)', () => {
    expect(parseTle(EXAMPLE_TLE.join('\n'))).toEqual({ lines: EXAMPLE_TLE, epoch: EXAMPLE_SEARCH_START });
  });

  it('reads a published three-line set with CRLF, blank lines and trailing spaces', () => {
    const t = parseTle(`\r\n${ISS[0]}   \r\n${ISS[1]}\r\n\r\n${ISS[2]}  \r\n`);
    expect(t.name).toBe('ISS (ZARYA)');
    expect(t.lines).toEqual([ISS[1], ISS[2]]);
    expect(t.epoch.toISOString()).toBe('2008-09-20T12:25:40.104Z');
    expect(parseTle(`0 ${ISS.join('\n')}`).name).toBe('ISS (ZARYA)');
  });

  it('refuses what is not one element set, naming the line', () => {
    const badSum = L2.slice(0, 68) + ((Number(L2[68]) + 1) % 10);
    expect(refusal('').message).toMatch(/line 1: empty/);
    expect(refusal(`${L1}\n${badSum}`).message).toBe(`line 2: checksum '${badSum[68]}' in column 69, the line sums to ${L2[68]}`);
    expect(refusal(`${L1}\n${L2.slice(0, 60)}`).message).toMatch(/line 2: element line 2 has 60 columns, a TLE line has 69/);
    expect(refusal(L1).message).toMatch(/line 2: missing line 2/);
    expect(refusal(`NAME\n${L2}\n${L1}`).message).toMatch(/line 2: expected element line 1/);
    expect(refusal(`${L1}\n${ISS[2]}`).message).toMatch(/line 2: catalogue number '25544' differs from line 1's '99901'/);
    expect(refusal(`${ISS.join('\n')}\n${L1}\n${L2}`).line).toBe(4);
    expect(refusal(`${withEpoch('26', '400.50000000')}\n${L2}`).message).toMatch(/line 1: epoch day 400.50000000 is not a day of 2026/);
    expect(refusal(`${withEpoch('2x', '326.50000000')}\n${L2}`).message).toMatch(/line 1: epoch '2x326.50000000'/);
  });

  it('property: any epoch written into line 1 is read back (two-digit years 57-99 are 19xx)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 365 }), fc.integer({ min: 0, max: 99_999_999 }), (yy, day, frac) => {
        const ddd = `${String(day).padStart(3, '0')}.${String(frac).padStart(8, '0')}`;
        const t = parseTle(`${withEpoch(String(yy).padStart(2, '0'), ddd)}\n${L2}`);
        const year = yy < 57 ? 2000 + yy : 1900 + yy;
        expect(t.epoch.getTime()).toBe(Date.UTC(year, 0, 1) + Math.round((day - 1 + frac / 1e8) * 86_400_000));
      }),
      { seed: 1401, numRuns: 300 },
    );
  });

  it('property: one digit changed anywhere in columns 1-68 is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 67 }), fc.integer({ min: 1, max: 9 }), (which, col, delta) => {
        const lines = [...EXAMPLE_TLE];
        const c = lines[which][col];
        fc.pre(c >= '0' && c <= '9');
        lines[which] = lines[which].slice(0, col) + String((Number(c) + delta) % 10) + lines[which].slice(col + 1);
        expect(refusal(lines.join('\n')).line).toBe(which + 1);
      }),
      { seed: 1402, numRuns: 500 },
    );
  });
});
