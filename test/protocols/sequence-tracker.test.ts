import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEQ_MODULO, SEQUENCE_WINDOW, SequenceTracker } from '../../protocols/space-packet.ts';

/**
 * Issue 13: a retransmitting link (go-back-N on the distillation VC) repeats counts it
 * sent before. A repeat is a duplicate, not 16383-k lost packets; only forward jumps are gaps.
 */
const track = (seqs: number[], t = new SequenceTracker()) => {
  const kinds = seqs.map((s) => t.track('TM', 208, s).kind);
  const get = (m: Map<string, number>) => m.get('TM:208') ?? 0;
  return { kinds, gaps: get(t.gaps), duplicates: get(t.duplicates), late: get(t.late), resyncs: get(t.resyncs) };
};

describe('SequenceTracker: duplicates are not gaps', () => {
  it('hand-made: in order, a gap, a go-back-N repeat, a late fill, a wrap, a resync', () => {
    expect(track([5, 6, 7])).toMatchObject({ gaps: 0, duplicates: 0, kinds: ['in-order', 'in-order', 'in-order'] });
    expect(track([5, 6, 9])).toMatchObject({ gaps: 2, kinds: ['in-order', 'in-order', 'gap'] });
    // Go-back-N: 10..13 sent, then 11..13 again, then on: three duplicates, no gap.
    expect(track([10, 11, 12, 13, 11, 12, 13, 14])).toMatchObject({ gaps: 0, duplicates: 3, late: 0 });
    // 21 lost, 22 arrives, then 21 resent: the gap it opened closes.
    expect(track([20, 22, 21, 23])).toMatchObject({ gaps: 0, late: 1, kinds: ['in-order', 'gap', 'late', 'in-order'] });
    // A count behind where tracking began was never counted missing: late, no gap closed.
    expect(track([30, 33, 29])).toMatchObject({ gaps: 2, late: 1 });
    // Across the 14-bit wrap.
    expect(track([16382, 16383, 0, 2, 16383])).toMatchObject({ gaps: 1, duplicates: 1 });
    // Far behind (beyond the window): the tracker starts again there, no phantom gap.
    expect(track([5000, 5001, 100, 101])).toMatchObject({ gaps: 0, resyncs: 1, kinds: ['in-order', 'in-order', 'resync', 'in-order'] });
    // Per APID and type: TC:208 is another counter.
    const t = new SequenceTracker();
    t.track('TM', 208, 1);
    expect(t.track('TC', 208, 50).kind).toBe('in-order');
    expect(t.track('TM', 208, 1).kind).toBe('duplicate');
  });

  it('the issue-13 symptom: 390 packets with repeats report no sequence gap near 16384 x repeats', () => {
    const seqs: number[] = [];
    for (let s = 0; s < 390; s++) {
      seqs.push(s);
      if (s % 7 === 6) for (let r = s - 3; r <= s; r++) seqs.push(r); // resend the last four
    }
    const r = track(seqs);
    expect(r.gaps).toBe(0);
    expect(r.duplicates).toBe(seqs.length - 390);
  });

  // A stream of `n` counts from `start` (mod 2^14), each sent once.
  const stream = fc.record({ start: fc.integer({ min: 0, max: SEQ_MODULO - 1 }), n: fc.integer({ min: 1, max: 3000 }) });

  it('property: forward steps only — gaps are the counts skipped, nothing else is counted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SEQ_MODULO - 1 }), fc.array(fc.integer({ min: 1, max: SEQ_MODULO / 2 - 1 }), { maxLength: 200 }), (start, steps) => {
        const seqs = [start];
        for (const d of steps) seqs.push((seqs[seqs.length - 1] + d) % SEQ_MODULO);
        const r = track(seqs);
        expect(r).toMatchObject({ gaps: steps.reduce((a, d) => a + d - 1, 0), duplicates: 0, late: 0, resyncs: 0 });
      }),
      { seed: 1301, numRuns: 300 },
    );
  });

  it('property: go-back-N resends (back at most the window) are duplicates; losses are gaps; gaps plus distinct received is the span', () => {
    fc.assert(
      fc.property(
        stream,
        fc.array(fc.record({ at: fc.nat(), back: fc.integer({ min: 1, max: 64 }) }), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        ({ start, n }, resends, lostAt) => {
          const seq = (i: number) => (start + i) % SEQ_MODULO;
          // Losses strictly inside the stream (the last count always arrives), never resent.
          const lost = new Set(lostAt.map((x) => x % n).filter((i) => i > 0 && i < n - 1));
          const goBack = new Map(resends.map((r) => [r.at % n, r.back] as const));
          const sent: number[] = [];
          let repeats = 0;
          for (let i = 0; i < n; i++) {
            if (!lost.has(i)) sent.push(seq(i));
            const back = goBack.get(i);
            if (back === undefined) continue;
            // Resend the last `back` counts that did arrive (a go-back-N window), in order.
            for (let j = Math.max(0, i - back + 1); j <= i; j++) {
              if (!lost.has(j)) {
                sent.push(seq(j));
                repeats++;
              }
            }
          }
          const r = track(sent);
          expect(r).toMatchObject({ gaps: lost.size, duplicates: repeats, late: 0, resyncs: 0 });
        },
      ),
      { seed: 1302, numRuns: 300 },
    );
  });

  it('property: any shuffle of a window of counts never reports more gaps than counts missing, and a count seen twice is a duplicate', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SEQ_MODULO - 1 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 300 }),
        (start, offsets) => {
          const seqs = offsets.map((o) => (start + o) % SEQ_MODULO);
          const r = track(seqs);
          const distinct = new Set(offsets);
          // No counter wrap turns a repeat into thousands of lost packets.
          expect(r.gaps).toBeLessThanOrEqual(201 - distinct.size);
          expect(r.duplicates).toBe(offsets.length - distinct.size);
          expect(r.resyncs).toBe(0);
        },
      ),
      { seed: 1303, numRuns: 300 },
    );
  });

  it('a repeat further back than the window is a resync, not a gap of the modular distance', () => {
    const seqs = Array.from({ length: SEQUENCE_WINDOW + 10 }, (_, i) => i);
    expect(track([...seqs, 0])).toMatchObject({ gaps: 0, resyncs: 1, duplicates: 0 });
  });
});
