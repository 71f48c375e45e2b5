import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFields, formatFigure, formatValue, shortestFloat32 } from '../../hil/report/precision.ts';

describe('values printed at their precision', () => {
  it('a float32 telemetry value shows as the decimal the board meant', () => {
    expect(String(Math.fround(0.1))).toBe('0.10000000149011612');
    expect(shortestFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatValue(Math.fround(0.1))).toBe('0.1');
    expect(formatValue(Math.fround(1e-5))).toBe('0.00001');
    expect(formatValue(Math.fround(3.3e-7))).toBe('3.3e-7');
    expect(formatValue(Math.fround(-273.15))).toBe('-273.15');
  });

  it('integers, doubles, strings and booleans print as they are', () => {
    expect(formatValue(750)).toBe('750');
    expect(formatValue(0.1)).toBe('0.1');
    expect(formatValue(0.123456789012)).toBe('0.123456789012');
    expect(formatValue('QKD')).toBe('QKD');
    expect(formatValue(true)).toBe('true');
    expect(formatFigure(75.87507148827277)).toBe('75.8751');
    expect(formatFigure(Math.fround(0.021))).toBe('0.021');
    expect(formatFigure(39000)).toBe('39000');
    expect(formatFields({ berEstimate: Math.fround(0.1), mode: 'SAFE', counts: [Math.fround(0.2)] })).toBe('berEstimate=0.1, mode=SAFE, counts=[0.2]');
  });

  it('property: the printed string parses back to the same float32, and no shorter one does', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
        const s = shortestFloat32(f);
        expect(Math.fround(Number(s))).toBe(Math.fround(f) === 0 ? 0 : Math.fround(f));
        // Minimal: one significant digit fewer does not round-trip.
        const digits = s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
        if (digits > 1) expect(Math.fround(Number(f.toPrecision(digits - 1)))).not.toBe(Math.fround(f));
      }),
      { seed: 13, numRuns: 5000 },
    );
  });
});
