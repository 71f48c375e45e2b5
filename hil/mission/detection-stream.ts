/**
 * The physics-only pass's detections, batch by batch: the sampler (source, channel,
 * detectors) and the time path (the ground's tagger and time sync) over a plan of
 * slices fixed beforehand, giving the ground station's time tags of each batch in order.
 * Nothing here depends on the distillation, so all of it can run ahead on a second core
 * (a worker thread) while the main thread distils: the batches are the same bits either
 * way, whatever the threads' timing (the worker only computes them early).
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { DetectionSampler, type DetectionStats, type DetectorConfig, type SliceConditions, type SourceConfig } from '../../boards/sim/detection.ts';
import { continuousSchedule } from '../../boards/sim/pulse-schedule.ts';
import type { ArrivalTags, TimeTaggerConfig } from '../../boards/sim/time-tagger.ts';
import type { DetectionBatch } from '../../boards/ground/bob.ts';
import type { Triple } from '../../qkd/keyrate.ts';
import type { SettingsRecord } from '../../qkd/settings.ts';
import type { TimeSyncConfig, TimeSyncStats } from '../../boards/ground/time-sync.ts';
import { TimePath } from './time-path.ts';
import { workerBundle } from '../worker-bundle.ts';

/** Everything the detections of a pass depend on: plain data (it crosses to a worker thread). */
export interface DetectionPlan {
  source: SourceConfig;
  detector: DetectorConfig;
  seed: number;
  pulsesPerSlice: number;
  slices: number;
  /** A batch of time tags goes to the ground station after every this many slices (and after the last). */
  slicesPerBatch: number;
  /** Per slice: the channel transmittance and what else its detections depend on (SliceConditions' fields as arrays: a plan crosses to the worker as a few buffers, not 30 000 objects). */
  eta: Float64Array;
  backgroundCountsPerS: Float64Array;
  polarisationErrorProb: Float64Array;
  /** The intensities the source emits (the same all pass). */
  emittedMu: Triple;
  /** Slant range at each whole second of the pass table, km. */
  rangeKm: Float64Array;
  timeTagger?: Partial<TimeTaggerConfig>;
  timeSync?: TimeSyncConfig;
  trackingOff: boolean;
}

/**
 * One batch: the ground station's time tags (resolved to Bob's pulse index, basis and
 * bit), the source's record for Alice, and the sampler's detection count so far. Its
 * arrays are valid until the stream's next next() call (then reused; a worker stream's
 * record goes back to the worker and reads as empty), except the tags' basis and bit,
 * which are the caller's.
 */
export interface TagBatch {
  tags: DetectionBatch;
  /** The settings the source looked up at the batch's detected pulses (Alice's memo, see AliceOptions.settingsRecord). */
  record: SettingsRecord;
  detections: number;
  /** Slices sampled so far (the batch ends at endSlice * sliceS of pass time). */
  endSlice: number;
}

/** What the stream reports at its end. */
export interface DetectionTotals {
  stats: DetectionStats;
  timeSync: TimeSyncStats;
}

/** The plan's time path (tagger and time sync). */
export function timePathOf(plan: DetectionPlan): TimePath {
  const { source, seed, rangeKm } = plan;
  return new TimePath({
    schedule: continuousSchedule(source.rateHz),
    rangeKmAtS: (tS) => rangeKm[Math.max(0, Math.min(rangeKm.length - 1, tS))],
    originPs: 0,
    pulsesPerFrame: source.pulsesPerFrame,
    seed: seed ^ 0x7146,
    tagger: plan.timeTagger,
    sync: plan.timeSync,
    trackingOff: plan.trackingOff,
  });
}

/** Produces the plan's batches one by one (sampler, tagger, time sync), on whatever thread it runs. */
export class DetectionProducer {
  private readonly sampler: DetectionSampler;
  private readonly path: TimePath;
  private slice = 0;
  /** The slice's conditions, refilled for each. */
  private readonly conditions: SliceConditions;

  constructor(private readonly plan: DetectionPlan) {
    this.path = timePathOf(plan);
    this.sampler = new DetectionSampler(plan.source, plan.detector, plan.seed, plan.seed ^ 0x7777);
    this.conditions = { backgroundCountsPerS: 0, polarisationErrorProb: 0, emittedMu: plan.emittedMu };
  }

  /** The next batch, or null after the last. Its arrays are the time sync's and the sampler's own, valid until the next call. */
  next(): TagBatch | null {
    const p = this.plan;
    if (this.slice >= p.slices) return null;
    for (;;) {
      const s = this.slice++;
      const p0 = s * p.pulsesPerSlice;
      const c = this.conditions;
      c.backgroundCountsPerS = p.backgroundCountsPerS[s];
      c.polarisationErrorProb = p.polarisationErrorProb[s];
      this.sampler.sample(p0, p0 + p.pulsesPerSlice, p.eta[s], c);
      this.path.emitted(p0, p0 + p.pulsesPerSlice);
      if (this.slice % p.slicesPerBatch === 0 || this.slice === p.slices) {
        const t = this.sampler.tags;
        const record: SettingsRecord = { pulseIndex: t.pulseBuffer.subarray(0, t.length), settings: t.settingsBuffer.subarray(0, t.length) };
        const tags = this.path.resolveDetections(this.path.stamp(t));
        return { tags, record, detections: this.sampler.stats.detections, endSlice: this.slice };
      }
    }
  }

  get totals(): DetectionTotals {
    return { stats: { ...this.sampler.stats }, timeSync: { ...this.path.stats } };
  }
}

/** The batches in order; `totals` once next() returned null. */
export interface DetectionStream {
  next(): TagBatch | null;
  readonly totals: DetectionTotals;
  /** Stop early (an error on the consuming side): frees the worker, if any. */
  close(): void;
}

/** The stream on the calling thread. */
export function inlineDetectionStream(plan: DetectionPlan): DetectionStream {
  const producer = new DetectionProducer(plan);
  return {
    next: () => producer.next(),
    get totals() {
      return producer.totals;
    },
    close() {},
  };
}

/**
 * Batches the worker may run ahead of the consumer: enough to cover a block's Cascade
 * and PA on the main thread (~60 ms, 8 batches of sampling), so the worker never idles
 * (memory: a batch is about 2 MB at the nominal pass's peak).
 */
const AHEAD_BATCHES = 40;
/** A worker that says nothing this long is taken as dead (it posts its own errors). */
const STALL_MS = 300_000;

/** The worker's entry (runs serveDetections), started from its bundle. */
const WORKER_ENTRY = new URL('./detection-worker.ts', import.meta.url);

/** Build the worker's bundle now if the sources changed since it was built (a benchmark does this before timing a pass). */
export function prepareDetectionWorker(): void {
  workerBundle(WORKER_ENTRY);
}

/** Messages of the worker, in order: batches, then the totals (or an error). */
type WorkerMessage = { batch: TagBatch } | { totals: DetectionTotals } | { error: string };
/** The consumer's message back: a batch's buffer, done with, for the worker to fill again. */
interface ReturnedBuffer {
  free: ArrayBuffer;
}

/**
 * A stream sampled, stamped and time-synced by a worker thread started now (the
 * distillation on the calling thread is the heavier half); the plan follows with
 * start() (the worker loads while the caller works out the geometry). next() blocks until the
 * batch is there (Atomics.wait; receiveMessageOnPort), so the caller stays synchronous.
 * Counters: shared[0] = messages posted, shared[1] = batches taken (the worker runs at
 * most AHEAD_BATCHES ahead), shared[2] = 1 once the stream is closed (the worker stops).
 * A batch's arrays live in one buffer, moved to this thread and, once the batch is done
 * with (the next next() call), moved back for the worker to refill: a fixed pool instead
 * of hundreds of MB of garbage a pass. The worker only writes buffers handed back, so
 * nothing it writes is still read here. The tags' basis and bit (Bob keeps them) come
 * in their own buffers, the caller's.
 */
export class WorkerDetectionStream implements DetectionStream {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly shared = new Int32Array(new SharedArrayBuffer(12));
  private received = 0;
  private done: DetectionTotals | null = null;
  private closed = false;
  /** The buffer of the batch last returned, to hand back at the next call. */
  private lent: ArrayBuffer | null = null;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // execArgv: [] — the bundle is plain JavaScript; an inherited `--import tsx` would only slow its start.
    this.worker = new Worker(workerBundle(WORKER_ENTRY), { workerData: { port: port2, shared: this.shared }, transferList: [port2], execArgv: [] });
    // The pass is synchronous: the worker must not keep the process alive after it.
    this.worker.unref();
    this.worker.on('error', () => {}); // reported through the port (or as a stall)
  }

  start(plan: DetectionPlan): void {
    timePathOf(plan); // a bad tagger or sync config is refused here, on the caller's thread
    this.port.postMessage(plan);
  }

  next(): TagBatch | null {
    if (this.done) return null;
    if (this.closed) throw new Error('detection stream closed');
    if (this.lent) {
      const free = this.lent;
      this.lent = null;
      this.port.postMessage({ free } satisfies ReturnedBuffer, [free]);
    }
    const t0 = Date.now();
    for (;;) {
      const m = receiveMessageOnPort(this.port)?.message as WorkerMessage | undefined;
      if (m) {
        this.received++;
        if ('batch' in m) {
          Atomics.add(this.shared, 1, 1);
          Atomics.notify(this.shared, 1);
          const b = m.batch;
          this.lent = b.record.pulseIndex.buffer as ArrayBuffer;
          return b;
        }
        this.close();
        if ('error' in m) throw new Error(`detection worker: ${m.error}`);
        this.done = m.totals;
        return null;
      }
      if (Date.now() - t0 > STALL_MS) {
        this.close();
        throw new Error(`detection worker: no batch for ${STALL_MS / 1000} s`);
      }
      // Sleep until the worker posts again (its counter moves past what we received).
      Atomics.wait(this.shared, 0, this.received, 1000);
    }
  }

  get totals(): DetectionTotals {
    if (!this.done) throw new Error('detection stream not finished');
    return this.done;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.shared, 2, 1);
    Atomics.notify(this.shared, 1);
    this.port.close();
    void this.worker.terminate();
  }
}

/**
 * A batch's pulse indices and record copied into one buffer (from `free`, the buffers
 * handed back, when one is big enough): the producer's own arrays are reused at its
 * next call. The tags' basis and bit are the batch's own (fresh each batch) and stay.
 */
export function packBatch(b: TagBatch, free: ArrayBuffer[]): TagBatch {
  const n = b.tags.pulseIndex.length;
  const m = b.record.pulseIndex.length;
  const bytes = 8 * (n + m) + m;
  const fit = free.findIndex((f) => f.byteLength >= bytes);
  let buf: ArrayBuffer;
  if (fit >= 0) buf = free.splice(fit, 1)[0];
  else {
    free.pop(); // too small for the batches now: let it go (the pool stays the same size)
    buf = new ArrayBuffer(8 * Math.ceil((bytes * 1.25) / 8)); // headroom: the detection rate rises through the pass
  }
  const recordIndex = new Float64Array(buf, 0, m);
  const pulseIndex = new Float64Array(buf, 8 * m, n);
  const settings = new Uint8Array(buf, 8 * (n + m), m);
  recordIndex.set(b.record.pulseIndex);
  pulseIndex.set(b.tags.pulseIndex);
  settings.set(b.record.settings);
  return { tags: { pulseIndex, basis: b.tags.basis, bit: b.tags.bit }, record: { pulseIndex: recordIndex, settings }, detections: b.detections, endSlice: b.endSlice };
}

/** The worker's side: wait for the plan, then post every batch (its buffer moved, not copied, and handed back later) and the totals. */
export function serveDetections(port: MessagePort, shared: Int32Array): void {
  const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => {
    port.postMessage(m, transfer);
    Atomics.add(shared, 0, 1);
    Atomics.notify(shared, 0);
  };
  port.once('message', (plan: DetectionPlan) => {
    try {
      const producer = new DetectionProducer(plan);
      const free: ArrayBuffer[] = [];
      for (let posted = 0; ; posted++) {
        for (;;) {
          const taken = Atomics.load(shared, 1);
          if (posted - taken < AHEAD_BATCHES || Atomics.load(shared, 2) === 1) break;
          Atomics.wait(shared, 1, taken);
        }
        if (Atomics.load(shared, 2) === 1) break; // the consumer stopped
        const b = producer.next();
        if (!b) break;
        // Buffers the consumer handed back (it reads them no more).
        for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) free.push((r.message as ReturnedBuffer).free);
        const batch = packBatch(b, free);
        post({ batch }, [batch.record.pulseIndex.buffer as ArrayBuffer, batch.tags.basis.buffer as ArrayBuffer, batch.tags.bit.buffer as ArrayBuffer]);
      }
      post({ totals: producer.totals });
    } catch (e) {
      post({ error: (e as Error)?.message ?? String(e) });
    }
    port.close();
  });
}
