import type { BoardName } from '../../boards/definitions.ts';
import type { ChannelConfig } from '../../boards/sim/channel.ts';
import type { DetectorConfig } from '../../boards/sim/detection.ts';
import type { PassSelection } from '../../boards/sim/pass-list.ts';
import type { DistillConfig } from '../../qkd/config.ts';
import type { KeyPool } from '../../qkd/pool.ts';
import type { BlockRecord } from '../../qkd/records.ts';
import type { PacketKind } from '../../protocols/dictionary/index.ts';
import type { DirectionCounters } from './distillation-link.ts';

/**
 * Compensations a what-if study can switch off (npm run pass -- --disable ...): the
 * payload's point-ahead of the downlink, the ground's time-sync tracking before sifting,
 * and the polarisation-frame compensation. All on by default.
 */
export const COMPENSATIONS = ['point-ahead', 'time-sync', 'polarisation-compensation'] as const;
export type Compensation = (typeof COMPENSATIONS)[number];

/** A lock loss during the pass: the beacon hidden, or a spot disturbance (kick) of kickUrad. */
export interface LockLossInjection {
  /** Seconds after the pass start. */
  atS: number;
  durationS: number;
  kind?: 'hidden' | 'kick';
  kickUrad?: number;
}

/** Errors on the optical link (both directions): BER profile, bursts, random and commanded drop-outs. */
export interface LinkErrorInjection {
  berZenith?: number;
  berDecadesPerAirmass?: number;
  burstRatePerS?: number;
  burstMeanBits?: number;
  dropoutRatePerS?: number;
  dropoutMeanS?: number;
  /** A drop-out window (seconds after the pass start): nothing crosses, the LCT loses lock. */
  dropout?: { atS: number; durationS: number };
}

export interface MissionProgress {
  /** Seconds since the pass start (negative during the lead-in). */
  tS: number;
  mode: string;
  detections: number;
  finalKeyBits: number;
  blocksDelivered: number;
}

export interface MissionPassOptions {
  /** Ground station (boards/sim/stations.ts: beijing, jinan, hefei, nanshan, wuhan, shanghai, stellenbosch). Default beijing. */
  station?: string;
  /** Seeds every random choice of the run. Default 1. */
  seed?: number;
  /** QKD window centred on culmination, seconds. Default 300. */
  durationS?: number;
  /** Time from power-on to the pass start, seconds. Default 20. */
  leadS?: number;
  /** Longest time after the pass end the link stays up to finish distillation, seconds. Default 60. */
  drainS?: number;
  /** Minimum elevation of the plan (emission gate), degrees. Default 15. */
  minElevationDeg?: number;
  /** Fine-pointing loop rate flashed as FINE_LOOP_RATE_HZ (the apt streams at this period). Default 200. */
  loopRateHz?: number;
  lockLoss?: LockLossInjection;
  /** Merged over the nominal link (berZenith 1e-8, one decade per airmass). */
  linkErrors?: LinkErrorInjection;
  /** Key pools to add to (the payload keeps one pool across passes for the relay). */
  pools?: { payload: KeyPool; ground: KeyPool };
  preSharedKeyBits?: number;
  sessionId?: string;
  onProgress?: (p: MissionProgress) => void;
  tle?: [string, string];
  /** Which pass of which window (boards/sim/pass-list.ts selectPass); default the best night pass of 3 days from the example TLE's epoch. */
  pass?: PassSelection;
  /** Parameter overrides of the flashed configuration, by dictionary name. */
  params?: Record<string, number>;
  configGeneration?: number;
  channel?: Partial<ChannelConfig>;
  detector?: Partial<DetectorConfig>;
  distill?: Partial<DistillConfig>;
  /** COP-1 and reliable-downlink timer T1, ms. Default 200. */
  t1Ms?: number;
  /** UART rates of the in-process board lines. */
  baud?: Partial<Record<BoardName, number>>;
  beaconBiasUrad?: { x: number; y: number };
  /** Time constant of the payload's vibration isolation (body jitter above ~1/(2 pi tau) is filtered). */
  isolationTauS?: number;
  /** Compensations switched off (what-if studies); default none. */
  disable?: readonly Compensation[];
  /** How much better the beacon's link budget is than the quantum channel's, dB (camera signal). Default 10. */
  beaconMarginDb?: number;
}

export interface RecordedTm {
  /** Mission-clock ms the payload emitted it. */
  tMs: number;
  bytes: Uint8Array;
}

/**
 * What every pass summary starts with, whichever engine ran the pass (the mission with
 * the payload in the loop, MissionSummary; the physics-only pass, PassSummary in
 * physics-pass.ts): the pass window, the channel loss and the key.
 */
export interface PassSummaryBase {
  station: string;
  seed: number;
  passStartUtc: string;
  passEndUtc: string;
  durationS: number;
  maxElevationDeg: number;
  /** Channel loss (detector efficiency included) over the pass's slices (the mission: those with emission), dB. */
  lossDbMin: number;
  lossDbMax: number;
  /** Key-basis QBER of the signal intensity (fraction), from error correction. */
  qber: number;
  detections: number;
  /** Key-basis sifted bits. */
  siftedBits: number;
  finalKeyBits: number;
  /** SHA-256 of the delivered key blocks, in order (hex). */
  keySha256: string;
  /** The payload's and the ground's delivered keys are equal. */
  keysEqual: boolean;
  /** Wall-clock seconds the run took. */
  wallS: number;
}

export interface MissionSummary extends PassSummaryBase {
  /** RMS of the true line-of-sight residual (beacon - mirror) while emitting, urad. */
  pointingRmsUrad: number;
  /** Median of the fine loop's own per-interval RMS error in PAYLOAD_HK while locked in QKD, urad (includes camera noise). */
  pointingRmsMeasuredUrad: number;
  /** Mode changes, seconds after the pass start. */
  modeTimeline: Array<{ tS: number; from: string; to: string }>;
  tm: { total: number; byKind: Partial<Record<PacketKind, number>>; byName: Record<string, number>; verification: string[] };
  frames: {
    count: number;
    contiguous: boolean;
    byReason: Record<string, number>;
    pulsesAccounted: number;
    pulsesEmitted: number;
    pulsesSampled: number;
    allAccounted: boolean;
  };
  lockLosses: number;
  blocks: { delivered: number; aborted: number; pending: number; abortReasons: Record<string, number> };
  link: {
    distillation: { down: DirectionCounters; up: DirectionCounters };
    /** Packets the link's reliable downlink sent again. */
    reliableRetransmissions: number;
    /** The reliable downlink sender at the end ("idle" or "busy unacked=.. waitingBytes=..", alerts). */
    reliableDownlink: string;
    downlinkFrames: number;
    downlinkIdleFrames: number;
    groundFramesGood: number;
    groundFecfErrors: number;
    hkPacketsOnGround: number;
    uplinkFramesAccepted: number;
    uplinkFramesRejected: number;
    fopRetransmissions: number;
    /** Each uplink VC's FOP-1 state at the end ("vcid:STATE [busy] alerts={...}"). */
    fopStates: string[];
    downlinkBitErrors: number;
    uplinkBitErrors: number;
    bursts: number;
    dropouts: number;
  };
  boardLinks: Record<string, { requests: number; coalesced: number; timeouts: number; telemetryFrames: number; telemetryLost: number }>;
  simS: number;
  /** Key bits the payload's authentication took from its pool (hash key and tag pads). */
  authKeyConsumedBits: number;
}

export interface MissionPassResult {
  summary: MissionSummary;
  /** Every PUS TM packet the payload emitted, in order. */
  tm: RecordedTm[];
  pools: { payload: KeyPool; ground: KeyPool };
  aliceBlocks: BlockRecord[];
  bobBlocks: BlockRecord[];
  diagnostics: { tmEncodeErrors: ReadonlyArray<{ name: string; message: string }>; tmPackets: number };
}
