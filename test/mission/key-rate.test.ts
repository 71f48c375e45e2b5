import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyRate } from '../../hil/mission/key-rate.ts';
import { newRecord, type BlockRecord } from '../../qkd/records.ts';

const block = (id: number, status: BlockRecord['status'], lengthBits: number, settledAtS: number | null): BlockRecord => ({ ...newRecord(id, 0), status, lengthBits, settledAtS });

describe('keyRate: the key rate over a pass from the delivered blocks', () => {
  it('bins of 10 s from the pass start, delivered blocks only, each in the bin it settled in', () => {
    const blocks = [block(0, 'delivered', 5000, 12), block(1, 'aborted', 9000, 15), block(2, 'delivered', 3000, 19.99), block(3, 'delivered', 1000, 25), block(4, 'in-progress', 7, null)];
    expect(keyRate(blocks, 30)).toEqual([
      { tS: 0, keyBitsPerS: 0 },
      { tS: 10, keyBitsPerS: 800 },
      { tS: 20, keyBitsPerS: 100 },
    ]);
  });

  it('blocks settled after the pass (the drain) extend the bins; an origin shifts the clock (the mission: power-on)', () => {
    const r = keyRate([block(0, 'delivered', 2000, 20 + 305)], 300, 20);
    expect(r).toHaveLength(31);
    expect(r.at(-1)).toEqual({ tS: 300, keyBitsPerS: 200 });
  });

  it('property: the bins hold every delivered bit, once', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ bits: fc.nat(1e6), at: fc.double({ min: 0, max: 400, noNaN: true }), ok: fc.boolean() }), { maxLength: 40 }), fc.integer({ min: 1, max: 300 }), (bs, durationS) => {
        const blocks = bs.map((b, i) => block(i, b.ok ? 'delivered' : 'aborted', b.bits, b.at));
        const r = keyRate(blocks, durationS);
        const total = r.reduce((a, p) => a + p.keyBitsPerS * 10, 0);
        expect(total).toBeCloseTo(bs.filter((b) => b.ok).reduce((a, b) => a + b.bits, 0), 3);
        expect(r.length * 10).toBeGreaterThanOrEqual(durationS);
      }),
      { seed: 14, numRuns: 200 },
    );
  });
});
