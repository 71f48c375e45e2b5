/**
 * One QKD pass end to end: SGP4 geometry → channel → detections (time tags) → the
 * ground station (Bob) and the payload (Alice) distilling key in blocks over the
 * authenticated classical channel while the pass goes on. Deterministic for a seed.
 */
import { createHash } from 'node:crypto';
import { isMainThread } from 'node:worker_threads';
import type { AbortReason } from '../../protocols/qkd-messages.ts';
import { AliceDistiller } from '../../firmware/qkd/alice.ts';
import { memoryChannelPair, type ClassicalChannel } from '../../qkd/channel.ts';
import { DEFAULT_DISTILL_CONFIG, type DistillConfig } from '../../qkd/config.ts';
import type { Triple } from '../../qkd/keyrate.ts';
import { KeyPool } from '../../qkd/pool.ts';
import { Rng } from '../../qkd/random.ts';
import type { BlockRecord } from '../../qkd/records.ts';
import type { SettingsRecord } from '../../qkd/settings.ts';
import { GroundStation } from '../../boards/ground/ground-station.ts';
import { backgroundProfile } from '../../boards/sim/background.ts';
import { DEFAULT_JITTER, channelForStation, channelTransmittance, lossDb, meanPointingTransmittance, type ChannelConfig, type JitterUrad } from '../../boards/sim/channel.ts';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE, type DetectorConfig, type SourceConfig } from '../../boards/sim/detection.ts';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import type { PassSelection } from '../../boards/sim/pass-list.ts';
import { passGeometry } from './geometry.ts';
import { stationByName, type Station } from '../../boards/sim/stations.ts';
import { MONITOR_ERROR_SPREAD_REL, calibratedEmittedMu, spreadError } from '../../boards/sim/source-intensity.ts';
import { DEFAULT_POLARISATION, polarisationErrorProfile, type PolarisationConfig } from '../../boards/sim/polarisation-frame.ts';
import type { TimeTaggerConfig } from '../../boards/sim/time-tagger.ts';
import type { TimeSyncConfig, TimeSyncStats } from '../../boards/ground/time-sync.ts';
import { WorkerDetectionStream, inlineDetectionStream, type DetectionPlan } from './detection-stream.ts';
import { PointAheadProfile } from './pointing.ts';
import type { Compensation, PassSummaryBase } from './types.ts';

export interface ClassicalLink {
  alice: ClassicalChannel;
  bob: ClassicalChannel;
  /** Deliver what is in flight (in-memory links); called after every batch. */
  pump(): void;
}

export interface PassOptions {
  station: string | Station;
  seed: number;
  /** Length of the QKD window centred on culmination (clipped to the pass above minElevationDeg). */
  durationS?: number;
  tle?: [string, string];
  /** Which pass of which window (pass-list.ts selectPass); default the best night pass of 3 days from the example TLE's epoch. */
  pass?: PassSelection;
  minElevationDeg?: number;
  source?: Partial<SourceConfig>;
  channel?: Partial<ChannelConfig>;
  detector?: Partial<DetectorConfig>;
  distill?: Partial<DistillConfig>;
  /** Pointing jitter hook (1-sigma per axis, urad, function of pass time): the mean loss under it is scored. */
  jitterUrad?: JitterUrad;
  /** Classical channel hook; default an in-memory pair. */
  link?: ClassicalLink;
  /** Key pools hook; default fresh pools holding `preSharedKeyBits` of pre-shared key. */
  pools?: { alice: KeyPool; bob: KeyPool };
  preSharedKeyBits?: number;
  /** Detections are reported to Alice every batchS of pass time. */
  batchS?: number;
  /** Transmittance is held constant over slices of this length. */
  sliceS?: number;
  progress?: (message: string) => void;
  /** Compensations switched off (what-if studies); default none. */
  disable?: readonly Compensation[];
  /** The intensities the source really emits; default the nominal off by the monitor error its calibration left (drawn per source from the seed). */
  emittedMu?: Triple;
  /** The ground's time tagger (clock offset and drift, detector jitter, sync pulses): DEFAULT_TIME_TAGGER's fields. */
  timeTagger?: Partial<TimeTaggerConfig>;
  /** The ground's time sync (coincidence window, fit length). */
  timeSync?: TimeSyncConfig;
  polarisation?: Partial<PolarisationConfig>;
  /**
   * Sample the detections on a worker thread while this thread distils (same bits either
   * way). Default: on in the main thread, off inside a worker (a campaign's passes already
   * fill the cores).
   */
  parallel?: boolean;
}

export interface PassSummary extends PassSummaryBase {
  pulses: number;
  siftedTestBits: number;
  qberByIntensity: Triple;
  qberTestByIntensity: Triple;
  s0: number;
  s1: number;
  phi: number;
  ecEfficiency: number;
  blocks: number;
  blocksDelivered: number;
  abortReasons: Partial<Record<AbortReason, number>>;
  authKeyConsumedBits: number;
  /** Frames rejected by authentication or decoding, both ends. */
  authRejectedFrames: number;
  /** Key made minus authentication key spent, never negative: a pass too short to pay for its authentication nets 0 ... */
  netKeyBits: number;
  /** ... and this says how many bits of stored key it spent beyond what it made (0 when it paid). */
  authDeficitBits: number;
  classicalBytes: number;
  classicalFrames: number;
}

export interface PassResult {
  summary: PassSummary;
  aliceBlocks: BlockRecord[];
  bobBlocks: BlockRecord[];
  pools: { alice: KeyPool; bob: KeyPool };
  /** Loss over the pass at 1 s steps. */
  lossProfile: { tS: number; elevationDeg: number; rangeKm: number; lossDb: number }[];
  /** The ground's time sync: acquisition and what became of the detections. */
  timeSync: TimeSyncStats;
}

/** The pre-shared key both ends hold before their first session (seeded, for the model). */
export function preSharedKey(seed: number, bits: number): Uint32Array {
  const rng = new Rng(seed, 0x95c);
  const w = new Uint32Array((bits + 31) >>> 5);
  for (let i = 0; i < w.length; i++) w[i] = rng.nextU32();
  if (bits & 31) w[w.length - 1] &= (1 << (bits & 31)) - 1;
  return w;
}

export function runPass(options: PassOptions): PassResult {
  const wall0 = performance.now();
  // The worker loads while this thread works out the geometry; the plan follows.
  const worker = (options.parallel ?? isMainThread) ? new WorkerDetectionStream() : null;
  try {
    return passWith(options, wall0, worker);
  } finally {
    worker?.close();
  }
}

function passWith(options: PassOptions, wall0: number, worker: WorkerDetectionStream | null): PassResult {
  const progress = options.progress ?? (() => {});
  const station = typeof options.station === 'string' ? stationByName(options.station) : options.station;
  const source: SourceConfig = { ...DEFAULT_SOURCE, ...options.source };
  const chan: ChannelConfig = channelForStation(station, options.channel);
  const det: DetectorConfig = { ...DEFAULT_DETECTOR, ...options.detector };
  const cfg: DistillConfig = { ...DEFAULT_DISTILL_CONFIG, mu: source.mu, p: source.p, pKeyBasis: source.pKeyBasis, ...options.distill };
  const jitter = options.jitterUrad ?? DEFAULT_JITTER;
  const minEl = options.minElevationDeg ?? 10;
  const batchS = options.batchS ?? 1;
  const sliceS = options.sliceS ?? 0.01;
  const seed = options.seed;

  // Geometry: the chosen pass (default the best night pass), a window centred on culmination, clipped to minEl.
  const window = passGeometry(station, { durationS: options.durationS ?? 300, minElevationDeg: minEl, tle: options.tle, pass: options.pass });
  const { start, end, durationS, samples: geo } = window;
  // The ideal payload's downlink against the true one: off by the point-ahead unless it applies it.
  const pointAhead = new PointAheadProfile(options.tle ?? EXAMPLE_TLE, station, start, durationS);
  const pointAheadApplied = !options.disable?.includes('point-ahead');
  const sky = backgroundProfile(station, start, geo);
  progress(`${station.name}: pass ${start.toISOString()} .. ${end.toISOString()}, max elevation ${window.maxElevationDeg.toFixed(1)} deg`);

  // Parties and the classical channel between them.
  const sessionId = `${station.name.toLowerCase()}-${seed}`;
  let pools = options.pools;
  if (!pools) {
    const psk = preSharedKey(seed, options.preSharedKeyBits ?? 1 << 18);
    pools = { alice: new KeyPool(station.name.toLowerCase()), bob: new KeyPool('payload') };
    pools.alice.add('psk-0', psk, options.preSharedKeyBits ?? 1 << 18, 'psk');
    pools.bob.add('psk-0', psk, options.preSharedKeyBits ?? 1 << 18, 'psk');
  }
  let mem: ReturnType<typeof memoryChannelPair> | null = null;
  let link = options.link;
  if (!link) {
    mem = memoryChannelPair();
    link = mem;
  }
  let simT = 0;
  const clock = () => simT;
  // Alice reads the settings of the latest batch's pulses from the source's record (the sampler looked them up).
  let record: SettingsRecord | null = null;
  const alice = new AliceDistiller({ config: cfg, sourceSeed: seed, channel: link.alice, pool: pools.alice, sessionId, rngSeed: seed ^ 0x5a5a, clock, settingsRecord: () => record });
  const ground = new GroundStation(station.name, { config: cfg, channel: link.bob, pool: pools.bob, sessionId, rngSeed: seed ^ 0x3c3c, clock });
  const emittedMu = options.emittedMu ?? calibratedEmittedMu(source.mu, spreadError(new Rng(seed, 0x1e7).next(), MONITOR_ERROR_SPREAD_REL));
  // The polarisation frame rotates with the geometry (compensated unless disabled).
  const disabled = new Set(options.disable ?? []);
  const polarisationErrorProb = polarisationErrorProfile(options.tle ?? EXAMPLE_TLE, station, start, durationS, !disabled.has('polarisation-compensation'), { ...DEFAULT_POLARISATION, ...options.polarisation });

  // The pass: slices of constant transmittance, batches reported as they complete.
  const pulsesPerSlice = Math.round(source.rateHz * sliceS);
  const slices = Math.floor((durationS * source.rateHz) / pulsesPerSlice);
  const slicesPerBatch = Math.max(1, Math.round(batchS / sliceS));
  let lossMin = Infinity;
  let lossMax = -Infinity;
  const lossProfile: PassResult['lossProfile'] = [];
  const etaOf = new Float64Array(slices);
  const backgroundOf = new Float64Array(slices);
  const polarisationOf = new Float64Array(slices);
  for (let s = 0; s < slices; s++) {
    const tMid = (s + 0.5) * sliceS;
    const { rangeKm, elevationDeg } = window.at(tMid);
    const eta = channelTransmittance(chan, rangeKm, elevationDeg, 0) * meanPointingTransmittance(chan, jitter(tMid), pointAhead.biasUrad(tMid, pointAheadApplied));
    const l = lossDb(eta * det.efficiency);
    if (l < lossMin) lossMin = l;
    if (l > lossMax) lossMax = l;
    if (s % Math.round(1 / sliceS) === 0) lossProfile.push({ tS: Math.round(tMid), elevationDeg, rangeKm, lossDb: l });
    // What else the slice's detections depend on (background, polarisation frame).
    etaOf[s] = eta;
    backgroundOf[s] = sky(tMid);
    polarisationOf[s] = polarisationErrorProb(tMid);
  }

  // Detections reach Bob through the ground's time tagger and time sync (detection-stream.ts),
  // batch by batch, computed here or ahead on the worker.
  const plan: DetectionPlan = {
    source,
    detector: det,
    seed,
    pulsesPerSlice,
    slices,
    slicesPerBatch,
    eta: etaOf,
    backgroundCountsPerS: backgroundOf,
    polarisationErrorProb: polarisationOf,
    emittedMu,
    rangeKm: Float64Array.from(geo, (g) => g.rangeKm),
    timeTagger: options.timeTagger,
    timeSync: options.timeSync,
    trackingOff: disabled.has('time-sync'),
  };
  worker?.start(plan);
  const stream = worker ?? inlineDetectionStream(plan);
  let detections = 0;
  for (let batch = stream.next(); batch; batch = stream.next()) {
    simT = batch.endSlice * sliceS;
    detections = batch.detections;
    record = batch.record;
    ground.receiveDetections(batch.tags);
    link.pump();
    if (batch.endSlice % (slicesPerBatch * 30) === 0) {
      const delivered = alice.blocks.filter((b) => b.status === 'delivered').reduce((a, b) => a + b.lengthBits, 0);
      progress(`t=${simT.toFixed(0)} s  detections ${detections}  blocks ${alice.blocks.length}  key ${delivered} bits`);
    }
  }
  const totals = stream.totals;
  alice.endOfPass();
  link.pump();

  const summary = summarise({
    station,
    seed,
    start,
    end,
    durationS,
    maxElevationDeg: Math.max(...geo.slice(0, durationS + 1).map((g) => g.elevationDeg)),
    lossMin,
    lossMax,
    pulses: slices * pulsesPerSlice,
    detections: totals.stats.detections,
    alice: alice.blocks,
    bob: ground.bob.blocks,
    authBits: alice.auth.stats.keyConsumedBits,
    rejected: alice.rejected.length + ground.bob.rejected.length,
    classicalBytes: mem ? mem.bytes[0] + mem.bytes[1] : 0,
    classicalFrames: mem ? mem.frames[0] + mem.frames[1] : 0,
    wall0,
  });
  return { summary, aliceBlocks: alice.blocks, bobBlocks: ground.bob.blocks, pools, lossProfile, timeSync: totals.timeSync };
}

function summarise(x: {
  station: Station;
  seed: number;
  start: Date;
  end: Date;
  durationS: number;
  maxElevationDeg: number;
  lossMin: number;
  lossMax: number;
  pulses: number;
  detections: number;
  alice: BlockRecord[];
  bob: BlockRecord[];
  authBits: number;
  rejected: number;
  classicalBytes: number;
  classicalFrames: number;
  wall0: number;
}): PassSummary {
  const keyN: Triple = [0, 0, 0];
  const keyE: Triple = [0, 0, 0];
  const testN: Triple = [0, 0, 0];
  const testM: Triple = [0, 0, 0];
  let sifted = 0;
  let siftedTest = 0;
  let s0 = 0;
  let s1 = 0;
  let phiW = 0;
  let leak = 0;
  let ecBits = 0;
  let ecH = 0;
  const reasons: Partial<Record<AbortReason, number>> = {};
  const hash = createHash('sha256');
  let finalKeyBits = 0;
  let keysEqual = true;
  for (const b of x.bob) {
    sifted += b.keyBits;
    for (let i = 0; i < 3; i++) {
      testN[i] += b.testN[i];
      testM[i] += b.testM[i];
      siftedTest += b.testN[i];
    }
    if (b.keyErrors) {
      for (let i = 0; i < 3; i++) {
        keyN[i] += b.keyN[i];
        keyE[i] += b.keyErrors[i];
      }
      leak += b.leakedBits;
      ecBits += b.keyBits;
      const q = (b.keyErrors[0] + b.keyErrors[1] + b.keyErrors[2]) / b.keyBits;
      ecH += b.keyBits * (q > 0 && q < 1 ? -q * Math.log2(q) - (1 - q) * Math.log2(1 - q) : 0);
    }
    const a = x.alice.find((r) => r.blockId === b.blockId);
    if (b.status === 'delivered') {
      s0 += b.s0;
      s1 += b.s1;
      phiW += b.phi * b.s1;
      finalKeyBits += b.lengthBits;
      if (!a || a.status !== 'delivered' || !a.key || !b.key || a.key.length !== b.key.length || a.key.some((w, i) => w !== b.key![i])) {
        keysEqual = false;
      }
      hash.update(new Uint8Array(b.key!.buffer, b.key!.byteOffset, b.key!.byteLength));
    } else {
      reasons[b.reason] = (reasons[b.reason] ?? 0) + 1;
    }
  }
  void ecBits;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  return {
    station: x.station.name,
    seed: x.seed,
    passStartUtc: x.start.toISOString(),
    passEndUtc: x.end.toISOString(),
    durationS: x.durationS,
    maxElevationDeg: x.maxElevationDeg,
    lossDbMin: x.lossMin,
    lossDbMax: x.lossMax,
    pulses: x.pulses,
    detections: x.detections,
    siftedBits: sifted,
    siftedTestBits: siftedTest,
    qber: ratio(keyE[0], keyN[0]),
    qberByIntensity: [ratio(keyE[0], keyN[0]), ratio(keyE[1], keyN[1]), ratio(keyE[2], keyN[2])],
    qberTestByIntensity: [ratio(testM[0], testN[0]), ratio(testM[1], testN[1]), ratio(testM[2], testN[2])],
    s0,
    s1,
    phi: ratio(phiW, s1),
    ecEfficiency: ratio(leak, ecH),
    blocks: x.bob.length,
    blocksDelivered: x.bob.filter((b) => b.status === 'delivered').length,
    abortReasons: reasons,
    finalKeyBits,
    authKeyConsumedBits: x.authBits,
    authRejectedFrames: x.rejected,
    netKeyBits: Math.max(0, finalKeyBits - x.authBits),
    authDeficitBits: Math.max(0, x.authBits - finalKeyBits),
    classicalBytes: x.classicalBytes,
    classicalFrames: x.classicalFrames,
    keySha256: hash.digest('hex'),
    keysEqual,
    wallS: (performance.now() - x.wall0) / 1000,
  };
}
