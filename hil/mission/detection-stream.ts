/**
 * The physics-only pass's detections, batch by batch: the sampler (source, channel,
 * detectors) and the ground's time tagger over a plan of slices fixed beforehand, then
 * the ground's time sync, giving the ground station's time tags of each batch in order.
 * Sampling and stamping do not depend on the distillation, so they can run ahead on a
 * second core (a worker thread) while the main thread distils; the time sync runs where
 * the batches are consumed (it is the ground station's, and with it there the two
 * threads' loads are even). The batches are the same bits either way, whatever the
 * threads' timing (the worker only computes them early).
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE, DetectionSampler, type DetectionStats, type DetectorConfig, type SliceConditions, type SourceConfig } from '../../boards/sim/detection.ts';
import { continuousSchedule } from '../../boards/sim/pulse-schedule.ts';
import { DEFAULT_TIME_TAGGER, type ArrivalTags, type TimeTaggerConfig } from '../../boards/sim/time-tagger.ts';
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

/** A batch as the producer gives it: the ground tagger's stamps, not yet resolved by the time sync. */
export interface StampedBatch {
  arrivals: ArrivalTags;
  record: SettingsRecord;
  detections: number;
  endSlice: number;
}

/** What the stream reports at its end. */
export interface DetectionTotals {
  stats: DetectionStats;
  timeSync: TimeSyncStats;
}

/** The plan's time path (tagger and time sync): the producer uses its tagger, the consumer its time sync (one path when both run on one thread). */
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

/** Produces the plan's batches one by one (sampler, the path's tagger), on whatever thread it runs. */
export class DetectionProducer {
  private readonly sampler: DetectionSampler;
  private slice = 0;
  /** The slice's conditions, refilled for each. */
  private readonly conditions: SliceConditions;

  constructor(
    private readonly plan: DetectionPlan,
    private readonly path: TimePath,
  ) {
    this.sampler = new DetectionSampler(plan.source, plan.detector, plan.seed, plan.seed ^ 0x7777);
    this.conditions = { backgroundCountsPerS: 0, polarisationErrorProb: 0, emittedMu: plan.emittedMu };
  }

  /** The next batch, or null after the last. Its arrays are the tagger's and the sampler's own, valid until the next call. */
  next(): StampedBatch | null {
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
        return { arrivals: this.path.stamp(t), record, detections: this.sampler.stats.detections, endSlice: this.slice };
      }
    }
  }

  get stats(): DetectionStats {
    return { ...this.sampler.stats };
  }
}

/** The consumer's half: the path's time sync resolving each stamped batch into Bob's tags. */
class GroundResolver {
  constructor(private readonly path: TimePath) {}

  resolve(b: StampedBatch): TagBatch {
    return { tags: this.path.resolveDetections(b.arrivals), record: b.record, detections: b.detections, endSlice: b.endSlice };
  }

  totals(stats: DetectionStats): DetectionTotals {
    return { stats, timeSync: { ...this.path.stats } };
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
  const path = timePathOf(plan);
  const producer = new DetectionProducer(plan, path);
  const ground = new GroundResolver(path);
  return {
    next() {
      const b = producer.next();
      return b && ground.resolve(b);
    },
    get totals() {
      return ground.totals(producer.stats);
    },
    close() {},
  };
}

/**
 * Batches the worker may have ready beyond those the consumer is done with: enough to
 * cover the main thread's slow stretches (a block's Cascade and PA, ~60 ms, about 12
 * batches of sampling; the first blocks, compiled meanwhile, take longer), so the worker
 * does not idle then (with 16 slots it waited 140-200 ms of a pass, with 32 at most
 * 50 ms; memory: a slot is up to about 3 MB at the nominal pass's peak).
 */
const SLOTS = 32;
/** A worker that says nothing this long is taken as dead (it posts its own errors). */
const STALL_MS = 300_000;

/** The worker's entry (runs serveDetections), started from its bundle. */
const WORKER_ENTRY = new URL('./detection-worker.ts', import.meta.url);

/** Build the worker's bundle now if the sources changed since it was built (a benchmark does this before timing a pass). */
export function prepareDetectionWorker(): void {
  workerBundle(WORKER_ENTRY);
}

/** Where a batch lies in its slot's buffer: the arrays' lengths (their places follow, unpackBatch) and the counts. */
export interface PackedBatch {
  slot: number;
  /** Record entries, detections stamped, sync pulses stamped. */
  records: number;
  stamps: number;
  syncs: number;
  detections: number;
  endSlice: number;
}

/** Messages of the worker, in order: batches (with their slot's buffer when it is new), then the sampler's totals (or an error). */
type WorkerMessage = { batch: PackedBatch; buffer?: SharedArrayBuffer } | { stats: DetectionStats } | { error: string };

/**
 * A stream sampled and stamped by a worker thread started now, and time-synced on the
 * calling thread (which distils too); the plan follows with start() (the worker loads
 * while the caller works out the geometry). next() blocks until the batch is there
 * (Atomics.wait; receiveMessageOnPort), so the caller stays synchronous.
 *
 * Batches travel through SLOTS shared buffers in turn, written by the worker and read
 * here in place: nothing is copied back or moved. (Moving buffers between threads
 * detaches them, and once any buffer of a thread has been detached V8 checks for it at
 * every typed-array access of that thread's hot loops: ~10 % of the sampler.) Counters:
 * shared[0] = messages posted, shared[1] = batches released (the consumer is done with
 * them: the worker writes batch k into slot k % SLOTS only once batch k - SLOTS is
 * released), shared[2] = 1 once the stream is closed (the worker stops).
 */
export class WorkerDetectionStream implements DetectionStream {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly shared = new Int32Array(new SharedArrayBuffer(12));
  private readonly slots: SharedArrayBuffer[] = [];
  private received = 0;
  private done: DetectionTotals | null = null;
  private closed = false;
  /** Whether the batch last returned is still to be released (at the next call). */
  private lent = false;
  private ground: GroundResolver | null = null;

  constructor(slots = SLOTS) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // execArgv: [] — the bundle is plain JavaScript; an inherited `--import tsx` would only slow its start.
    this.worker = new Worker(workerBundle(WORKER_ENTRY), { workerData: { port: port2, shared: this.shared, slots }, transferList: [port2], execArgv: [] });
    // The pass is synchronous: the worker must not keep the process alive after it.
    this.worker.unref();
    this.worker.on('error', () => {}); // reported through the port (or as a stall)
  }

  start(plan: DetectionPlan): void {
    this.ground = new GroundResolver(timePathOf(plan)); // a bad tagger or sync config is refused here, on the caller's thread
    this.port.postMessage(plan);
  }

  next(): TagBatch | null {
    if (this.done) return null;
    if (this.closed) throw new Error('detection stream closed');
    if (this.lent) {
      this.lent = false;
      Atomics.add(this.shared, 1, 1);
      Atomics.notify(this.shared, 1);
    }
    const t0 = Date.now();
    for (;;) {
      const m = receiveMessageOnPort(this.port)?.message as WorkerMessage | undefined;
      if (m) {
        this.received++;
        if ('batch' in m) {
          if (m.buffer) this.slots[m.batch.slot] = m.buffer;
          this.lent = true;
          return this.ground!.resolve(unpackBatch(m.batch, this.slots[m.batch.slot]));
        }
        this.close();
        if ('error' in m) throw new Error(`detection worker: ${m.error}`);
        this.done = this.ground!.totals(m.stats);
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

/** Bytes a batch takes in a slot. */
export function packedBytes(b: StampedBatch): number {
  return packedBytesOf(b.record.pulseIndex.length, b.arrivals.arrivalPs.length, b.arrivals.syncArrivalPs.length);
}

/** Bytes of a batch of `records` record entries, `stamps` stamped detections and `syncs` sync pulses (unpackBatch's layout). */
function packedBytesOf(records: number, stamps: number, syncs: number): number {
  return 8 * (records + stamps + syncs) + records + stamps;
}

/** A packed batch read in place: views of its slot's buffer (the 8-byte arrays first, aligned). */
export function unpackBatch(p: PackedBatch, buf: ArrayBufferLike): StampedBatch {
  const { records: m, stamps: n, syncs: q } = p;
  return {
    record: { pulseIndex: new Float64Array(buf, 0, m), settings: new Uint8Array(buf, 8 * (m + n + q), m) },
    arrivals: { arrivalPs: new Float64Array(buf, 8 * m, n), syncArrivalPs: new Float64Array(buf, 8 * (m + n), q), detector: new Uint8Array(buf, 8 * (m + n + q) + m, n) },
    detections: p.detections,
    endSlice: p.endSlice,
  };
}

/** Copy a batch into `buf` (at least packedBytes long): the producer's own arrays are reused at its next call. */
export function packBatch(b: StampedBatch, slot: number, buf: ArrayBufferLike): PackedBatch {
  const p: PackedBatch = { slot, records: b.record.pulseIndex.length, stamps: b.arrivals.arrivalPs.length, syncs: b.arrivals.syncArrivalPs.length, detections: b.detections, endSlice: b.endSlice };
  const to = unpackBatch(p, buf);
  to.record.pulseIndex.set(b.record.pulseIndex);
  to.record.settings.set(b.record.settings);
  to.arrivals.arrivalPs.set(b.arrivals.arrivalPs);
  to.arrivals.syncArrivalPs.set(b.arrivals.syncArrivalPs);
  to.arrivals.detector.set(b.arrivals.detector);
  return p;
}

/**
 * Bytes enough for the plan's largest batch, by its expected detections (each slice's
 * yield from its transmittance, intensities and noise) with room for fluctuations and
 * the sync pulses: slots are made once, not regrown as the rate climbs through the pass
 * (each new buffer's pages are faulted in again: with 1.25x regrowth a pass made ~150
 * slot buffers and spent ~170 ms of the worker packing batches, ~120 ms with 64).
 */
export function largestBatchBytes(plan: DetectionPlan): number {
  const { source, detector } = plan;
  const dark = detector.darkCountsPerS.reduce((a, b) => a + b, 0);
  let most = 0;
  for (let s0 = 0; s0 < plan.slices; s0 += plan.slicesPerBatch) {
    let expected = 0;
    for (let s = s0; s < Math.min(plan.slices, s0 + plan.slicesPerBatch); s++) {
      let y = (dark + plan.backgroundCountsPerS[s]) / source.rateHz;
      for (let k = 0; k < 3; k++) y += source.p[k] * -Math.expm1(-plan.eta[s] * plan.emittedMu[k] * detector.efficiency);
      expected += y * plan.pulsesPerSlice;
    }
    most = Math.max(most, expected);
  }
  const detections = 1.1 * most + 6 * Math.sqrt(most) + 64;
  const syncs = (plan.slicesPerBatch * plan.pulsesPerSlice) / (plan.timeTagger?.syncEveryPulses ?? DEFAULT_TIME_TAGGER.syncEveryPulses) + 64;
  return 8 * Math.ceil(packedBytesOf(detections, detections, syncs) / 8);
}

/**
 * A small plan of the nominal source and detectors (10 batches of 50 ms at a pass's
 * transmittance), for the worker to run while it waits for the real one: V8 compiles a
 * function only once it has run it a while, so without this the pass's first batches
 * ran in the interpreter (~50 ms of a 2 s pass). Its keys in DetectionPlan's order, as
 * a pass's plan arrives (the same object shapes for the compiled code).
 */
function warmUpPlan(): DetectionPlan {
  const slices = 50;
  return structuredClone({
    source: DEFAULT_SOURCE,
    detector: DEFAULT_DETECTOR,
    seed: 1,
    pulsesPerSlice: 6_250_000,
    slices,
    slicesPerBatch: 5,
    eta: new Float64Array(slices).fill(3e-4),
    backgroundCountsPerS: new Float64Array(slices).fill(DEFAULT_DETECTOR.backgroundCountsPerS),
    polarisationErrorProb: new Float64Array(slices),
    emittedMu: DEFAULT_SOURCE.mu,
    rangeKm: Float64Array.from({ length: 2 }, (_, t) => 600 - 7 * t),
    timeTagger: undefined,
    timeSync: undefined,
    trackingOff: false,
  });
}

/**
 * The worker's side: warm up until the plan comes (warmUpPlan; the plan is looked for
 * after every warm-up batch, so a plan sent at once waits one batch, a few ms), then
 * write every batch into its slot and post where it lies, then the totals.
 */
export function serveDetections(port: MessagePort, shared: Int32Array, slots: number): void {
  const post = (m: WorkerMessage) => {
    port.postMessage(m);
    Atomics.add(shared, 0, 1);
    Atomics.notify(shared, 0);
  };
  const serve = (plan: DetectionPlan) => {
    try {
      const producer = new DetectionProducer(plan, timePathOf(plan));
      const buffers: SharedArrayBuffer[] = [];
      const slotBytes = largestBatchBytes(plan);
      for (let posted = 0; ; posted++) {
        // Batch `posted` goes into the slot of batch posted - slots: wait until that one is released.
        for (;;) {
          const released = Atomics.load(shared, 1);
          if (posted - released < slots || Atomics.load(shared, 2) === 1) break;
          Atomics.wait(shared, 1, released);
        }
        if (Atomics.load(shared, 2) === 1) break; // the consumer stopped
        const b = producer.next();
        if (!b) break;
        const slot = posted % slots;
        const bytes = packedBytes(b);
        let fresh: SharedArrayBuffer | undefined;
        if (!buffers[slot] || buffers[slot].byteLength < bytes) {
          // Made once at the plan's largest batch (a batch beyond the estimate: twice its size).
          fresh = buffers[slot] = new SharedArrayBuffer(Math.max(slotBytes, 8 * Math.ceil((2 * bytes) / 8)));
        }
        post({ batch: packBatch(b, slot, buffers[slot]), buffer: fresh });
      }
      post({ stats: producer.stats });
    } catch (e) {
      post({ error: (e as Error)?.message ?? String(e) });
    }
    port.close();
  };
  const warmPlan = warmUpPlan();
  const warm = new DetectionProducer(warmPlan, timePathOf(warmPlan));
  const scratch = new SharedArrayBuffer(1 << 21);
  for (let b = warm.next(); b; b = warm.next()) {
    packBatch(b, 0, scratch);
    const m = receiveMessageOnPort(port);
    if (m) return serve(m.message as DetectionPlan);
  }
  port.once('message', serve);
}
