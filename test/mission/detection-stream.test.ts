/**
 * The physics-only pass's detection stream (hil/mission/detection-stream.ts): computed
 * on a worker thread it gives the very batches of the inline one, and a failure on the
 * worker comes back as an error naming it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE } from '../../boards/sim/detection.ts';
import { WorkerDetectionStream, inlineDetectionStream, largestBatchBytes, packBatch, packedBytes, unpackBatch, type DetectionPlan, type DetectionStream, type TagBatch } from '../../hil/mission/detection-stream.ts';
import { runPass } from '../../hil/mission/physics-pass.ts';

/** 2 s of pass in 10 ms slices and 0.5 s batches, the transmittance and background changing. */
function plan(over: Partial<DetectionPlan> = {}): DetectionPlan {
  const slices = 200;
  return {
    source: DEFAULT_SOURCE,
    detector: DEFAULT_DETECTOR,
    seed: 99,
    pulsesPerSlice: 6_250_000,
    slices,
    slicesPerBatch: 50,
    eta: Float64Array.from({ length: slices }, (_, s) => 2e-4 * (1 + Math.sin(s / 30))),
    backgroundCountsPerS: Float64Array.from({ length: slices }, (_, s) => 25 + s),
    polarisationErrorProb: new Float64Array(slices).fill(0.001),
    emittedMu: DEFAULT_SOURCE.mu,
    rangeKm: Float64Array.from({ length: 10 }, (_, t) => 900 - 7 * t),
    trackingOff: false,
    ...over,
  };
}

/** Every batch, copied as it comes (a batch's record is valid only until the next call). */
function drain(stream: DetectionStream): TagBatch[] {
  const out: TagBatch[] = [];
  for (let b = stream.next(); b; b = stream.next()) out.push(structuredClone(b));
  return out;
}

describe('detection stream', () => {
  it('the worker thread gives exactly the inline batches, records and totals', () => {
    const inline = inlineDetectionStream(plan());
    const want = drain(inline);
    const worker = new WorkerDetectionStream();
    worker.start(plan());
    const got = drain(worker);
    expect(got.length).toBe(4);
    expect(want.reduce((n, b) => n + b.tags.pulseIndex.length, 0)).toBeGreaterThan(10_000);
    expect(got).toEqual(want);
    expect(worker.totals).toEqual(inline.totals);
    expect(worker.next()).toBeNull();
  });

  it('a plan sent late (the worker done warming up) or at once (during its warm-up) gives the same batches', () => {
    const want = drain(inlineDetectionStream(plan()));
    const late = new WorkerDetectionStream();
    // Sleep this thread while the worker starts and runs its whole warm-up.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
    late.start(plan());
    expect(drain(late)).toEqual(want);
    const early = new WorkerDetectionStream();
    early.start(plan());
    expect(drain(early)).toEqual(want);
  });

  it('the worker refills a batch\'s slot only once the consumer is done with it (the next call)', () => {
    const want = drain(inlineDetectionStream(plan()));
    // Two slots for four batches: the third batch goes into the first batch's slot.
    const worker = new WorkerDetectionStream(2);
    worker.start(plan());
    const first = worker.next()!;
    expect(first.record.pulseIndex.length).toBeGreaterThan(1000);
    // Give the worker time to run ahead as far as it may: it must not touch the first slot.
    const until = Date.now() + 300;
    while (Date.now() < until);
    expect(structuredClone(first)).toEqual(want[0]);
    expect(structuredClone(worker.next())).toEqual(want[1]);
    expect(structuredClone(worker.next())).toEqual(want[2]);
    // The first batch's record was read in place: its slot now holds the third batch's.
    expect(first.record.pulseIndex[0]).toBe(want[2].record.pulseIndex[0]);
    expect(structuredClone(worker.next())).toEqual(want[3]);
    expect(worker.next()).toBeNull();
  });

  it('slots are sized for the plan\'s largest batch: its expected detections with room to spare', () => {
    const p = plan();
    const batches = drain(inlineDetectionStream(p));
    const stampedBytes = batches.map((b) => 8 * 2 * b.record.pulseIndex.length + 2 * b.record.pulseIndex.length);
    const largest = Math.max(...stampedBytes);
    const estimate = largestBatchBytes(p);
    expect(estimate).toBeGreaterThan(largest);
    expect(estimate).toBeLessThan(1.5 * largest + 64 * 1024);
    // Twice the transmittance: about twice the bytes.
    expect(largestBatchBytes({ ...p, eta: p.eta.map((e) => 2 * e) }) / estimate).toBeGreaterThan(1.7);
  });

  it('packBatch copies a batch, every array, into a buffer; unpackBatch reads it back in place', () => {
    const b = {
      arrivals: { arrivalPs: Float64Array.of(1.5e6, 3.25e6, 8e6), detector: Uint8Array.of(0, 3, 1), syncArrivalPs: Float64Array.of(2e6, 9e6) },
      record: { pulseIndex: Float64Array.of(1, 2, 3), settings: Uint8Array.of(7, 255, 4) },
      detections: 3,
      endSlice: 9,
    };
    expect(packedBytes(b)).toBe(8 * (3 + 3 + 2) + 3 + 3);
    const buf = new SharedArrayBuffer(packedBytes(b));
    const packed = packBatch(b, 5, buf);
    expect(packed).toEqual({ slot: 5, records: 3, stamps: 3, syncs: 2, detections: 3, endSlice: 9 });
    const back = unpackBatch(packed, buf);
    expect(back).toEqual(b);
    for (const a of [back.record.pulseIndex, back.record.settings, back.arrivals.arrivalPs, back.arrivals.detector, back.arrivals.syncArrivalPs]) expect(a.buffer).toBe(buf);
    // Nothing overlaps: every array reads back its own values after all were written.
    expect([...back.arrivals.detector]).toEqual([0, 3, 1]);
    expect(() => packBatch(b, 0, new SharedArrayBuffer(packedBytes(b) - 1))).toThrow(RangeError);
  });

  it('a bad plan is refused on the calling thread; an error on the worker comes back as an error naming it', () => {
    const refused = new WorkerDetectionStream();
    expect(() => refused.start(plan({ timeTagger: { syncLossProb: 2 } }))).toThrow(/syncLossProb must be in \[0, 1\)/);
    refused.close();
    // Only the worker's half (the sampler) reads the detector config.
    const worker = new WorkerDetectionStream();
    worker.start(plan({ detector: { ...DEFAULT_DETECTOR, relativeEfficiency: undefined as never } }));
    expect(() => worker.next()).toThrow(/^detection worker: .*undefined/);
    expect(() => worker.next()).toThrow(/closed/);
  });

  it('a stream closed early (the consumer failed) refuses more batches', () => {
    const worker = new WorkerDetectionStream();
    worker.start(plan());
    expect(worker.next()?.endSlice).toBe(50);
    worker.close();
    expect(() => worker.next()).toThrow(/detection stream closed/);
    expect(() => worker.totals).toThrow(/not finished/);
  });

  it('runPass gives the same pass with and without the worker', () => {
    const small = { blockBits: 300_000, minBlockBits: 50_000 };
    const a = runPass({ station: 'beijing', seed: 3, durationS: 20, distill: small, parallel: false });
    const b = runPass({ station: 'beijing', seed: 3, durationS: 20, distill: small, parallel: true });
    expect(a.summary.finalKeyBits).toBeGreaterThan(0);
    expect({ ...b.summary, wallS: 0 }).toEqual({ ...a.summary, wallS: 0 });
    expect(b.timeSync).toEqual(a.timeSync);
    expect(b.pools.alice.fingerprint()).toBe(a.pools.alice.fingerprint());
  });
});
