import type { SimClock } from '../../boards/clock.ts';
import type { BobOptions } from '../../boards/ground/bob.ts';
import { GroundStation } from '../../boards/ground/ground-station.ts';
import { channelTransmittance, lossDb, type ChannelConfig } from '../../boards/sim/channel.ts';
import { DetectionSampler, type DetectorConfig, type SliceConditions, type SourceConfig } from '../../boards/sim/detection.ts';
import type { Triple } from '../../qkd/keyrate.ts';
import type { BoardEnvironment } from './board-environment.ts';
import { EmittedPulses } from './emitted-pulses.ts';
import { gatedSchedule } from '../../boards/sim/pulse-schedule.ts';
import type { TimeTaggerConfig } from '../../boards/sim/time-tagger.ts';
import { TimePath } from './time-path.ts';
import type { PassGeometry } from './geometry.ts';
import { IsolatedBody, PointingResidual, type AngleUrad } from './pointing.ts';
import type { EmittedFrame } from './ports-qsrc.ts';
import { inWindow, type PassTimeline, type TimeWindow } from './timeline.ts';
import type { LockLossInjection } from './types.ts';

/** Transmittance is held over slices of this length; detections are sampled per slice. */
export const SLICE_MS = 10;
/** The ground station gets its time tags once per batch. */
const BATCH_MS = 1000;
/** The boards' link environment (lct link loss, apt beacon signal) is updated this often. */
const LINK_ENV_MS = 100;
/** Beacon loss the apt camera sees outside the link window, dB (no usable signal). */
const NO_BEACON_LOSS_DB = 60;
/** The lct never sees less loss than this (its receiver saturates), dB. */
const LCT_MIN_LOSS_DB = 20;
/** The laser terminal's budget is this much better than the quantum channel's, dB. */
const LCT_MARGIN_DB = 5;

/** Loss of one slice: the quantum channel's (pointing included) and the beacon's on the camera. */
export interface SliceLoss {
  /** Channel transmittance with pointing, up to the detectors. */
  eta: number;
  /** Loss including the detector efficiency, dB. */
  lossDb: number;
  /** The beacon's loss to the apt camera, dB: it comes up from the ground, so no downlink pointing loss. */
  beaconLossDb: number;
}

export function sliceLoss(channel: ChannelConfig, detector: DetectorConfig, look: { rangeKm: number; elevationDeg: number }, etaPointing: number, beaconMarginDb: number): SliceLoss {
  const etaAligned = channelTransmittance(channel, look.rangeKm, look.elevationDeg, 0);
  const eta = etaAligned * etaPointing;
  return { eta, lossDb: lossDb(eta * detector.efficiency), beaconLossDb: lossDb(etaAligned * detector.efficiency) - beaconMarginDb };
}

export interface MissionWorldOptions {
  /** How the world reaches the boards. */
  env: BoardEnvironment;
  timeline: PassTimeline;
  geo: Pick<PassGeometry, 'at'>;
  /** Fine-loop period, ms: the beacon coupling runs at it. */
  loopPeriodMs: number;
  channel: ChannelConfig;
  detector: DetectorConfig;
  source: SourceConfig;
  /** Seeds of the source's per-pulse settings and of the detection sampling. */
  sourceSeed: number;
  detectionSeed: number;
  /** The ground station (Bob's half of distillation); its clock is the world's. */
  ground: { name: string } & Omit<BobOptions, 'clock'>;
  /** Where the beacon really is relative to the ACS's nominal station pointing, urad. */
  beaconBiasUrad: { x: number; y: number };
  isolationTauS: number;
  beaconMarginDb: number;
  lockLoss?: LockLossInjection;
  /** A commanded link drop-out, seconds after the pass start: the lct loses the link. */
  linkDropout?: TimeWindow | null;
  /** Whether the source emits now (the residual counts only then). */
  emitting: () => boolean;
  /** The true point-ahead at pass time tS (PointAheadProfile.trueUrad): the downlink is scored against beacon + it. Default none. */
  truePointAheadUrad?: (tS: number) => AngleUrad;
  /** Sky background at pass time tS, counts/s (boards/sim/background.ts). Default: the detector config's. */
  backgroundCountsPerS?: (tS: number) => number;
  /** The source gate's frames (qsrc.emitted). */
  emitted: readonly EmittedFrame[];
  /** Polarisation-frame error at pass time tS (PolarisationTrack.errorProb, compensated or not). Default none. */
  polarisationErrorProb?: (tS: number) => number;
  /** The ground's time tagger (clock offset and drift, jitter, sync pulses); default DEFAULT_TIME_TAGGER. */
  timeTagger?: Partial<TimeTaggerConfig>;
  /** `disable: ['time-sync']`: the ground maps its nominal clock, no tracking. */
  timeTrackingOff?: boolean;
  /** The intensities the source really emits now (ports-qsrc.ts sourceOutput); default the nominal source.mu. */
  emittedMu?: () => Triple;
}

/**
 * Everything outside the payload during a pass: the body attitude through the isolation
 * mounts and the ground beacon on the apt camera (with an injected lock loss), the true
 * pointing residual, the quantum channel from the SGP4 geometry, the detections of the
 * pulses the source emitted, the ground station that gets their time tags, and the link
 * environment of the lct and apt. It reaches the boards only through `env`.
 */
export class MissionWorld {
  readonly ground: GroundStation;
  readonly sampler: DetectionSampler;
  readonly pulses: EmittedPulses;
  readonly timePath: TimePath;
  readonly residual: PointingResidual;
  /** Mission time at the last slice, s: the distillation parties' clock. */
  timeS = 0;
  /** Loss of the last slice, dB (QKD_HK). */
  lossNowDb = 0;
  /** Extremes of the loss over the slices with emission, dB. */
  lossMinDb = Infinity;
  lossMaxDb = -Infinity;
  private beaconLossDb = NO_BEACON_LOSS_DB;
  private readonly body: IsolatedBody;
  private readonly lockLossFromMs: number;
  private readonly lockLossToMs: number;

  constructor(private readonly o: MissionWorldOptions) {
    const { name, ...bob } = o.ground;
    this.ground = new GroundStation(name, { ...bob, clock: () => this.timeS });
    this.sampler = new DetectionSampler(o.source, o.detector, o.sourceSeed, o.detectionSeed);
    // Detections reach the ground through its time tagger and time sync; the satellite's
    // clock is the mission clock, the pass table's second 0 the pass start.
    this.timePath = new TimePath({
      schedule: gatedSchedule(o.emitted, o.source.pulsesPerFrame, o.source.rateHz),
      rangeKmAtS: (tS) => o.geo.at(tS).rangeKm,
      originPs: o.timeline.passStartMs * 1e9,
      pulsesPerFrame: o.source.pulsesPerFrame,
      seed: o.detectionSeed ^ 0x7146,
      tagger: o.timeTagger,
      trackingOff: o.timeTrackingOff,
    });
    this.pulses = new EmittedPulses(o.emitted, o.source.pulsesPerFrame, (p0, p1, eta, c) => {
      this.sampler.sample(p0, p1, eta, c);
      this.timePath.emitted(p0, p1);
    });
    this.residual = new PointingResidual(o.channel);
    this.body = new IsolatedBody(o.loopPeriodMs, o.isolationTauS);
    const ll = o.lockLoss;
    this.lockLossFromMs = ll ? o.timeline.passStartMs + ll.atS * 1000 : Infinity;
    this.lockLossToMs = ll ? this.lockLossFromMs + ll.durationS * 1000 : -Infinity;
  }

  /** Runs the world on the clock: the beacon coupling every loop period, then a slice every SLICE_MS followed by `afterSlice`. */
  attach(clock: SimClock, afterSlice: (nowMs: number) => void = () => {}): void {
    clock.every(this.o.loopPeriodMs, () => this.pointingStep(clock.now()));
    clock.every(SLICE_MS, () => {
      this.slice(clock.now());
      afterSlice(clock.now());
    });
  }

  /**
   * One fine-loop period: the body line of sight (commanded target + isolated error)
   * puts the beacon on the camera at its bias minus the body; while the source emits,
   * the residual of the downlink (it shares the mirror) from the true downlink
   * direction, beacon + true point-ahead − mirror, is sampled (camera axes,
   * firmware/point-ahead.ts).
   */
  pointingStep(nowMs: number): void {
    const { env, timeline, lockLoss: ll, beaconBiasUrad: bias } = this.o;
    const b = this.body.step(env.attitudeMrad());
    const bodyX = b.targetX + b.jitterX;
    const bodyY = b.targetY + b.jitterY;
    const inLoss = nowMs >= this.lockLossFromMs && nowMs < this.lockLossToMs;
    const kick = inLoss && ll!.kind === 'kick' ? (ll!.kickUrad ?? 60) : 0;
    const visible = nowMs >= timeline.passStartMs && nowMs < timeline.passEndMs && !(inLoss && (ll!.kind ?? 'hidden') === 'hidden');
    const bx = bias.x - bodyX + kick;
    const by = bias.y - bodyY;
    env.setBeacon(bx, by, visible);
    if (this.o.emitting()) {
      const fsm = env.fsmPositionUrad();
      const pa = this.o.truePointAheadUrad?.((nowMs - timeline.passStartMs) / 1000) ?? { x: 0, y: 0 };
      this.residual.add(bx + pa.x - fsm.x, by + pa.y - fsm.y);
    }
  }

  /**
   * One slice ending at `nowMs`: the loss at mid-slice with the slice's mean pointing
   * transmittance, detections of the pulses emitted in it, time tags to the ground once
   * a batch, and the lct's link and the apt's beacon signal every LINK_ENV_MS.
   */
  slice(nowMs: number): void {
    const { timeline, env } = this.o;
    this.timeS = nowMs / 1000;
    // Mid-slice, seconds after the pass start: where the slice's geometry, sky and frame are taken.
    const tMidS = (nowMs - SLICE_MS / 2 - timeline.passStartMs) / 1000;
    const look = this.o.geo.at(tMidS);
    const loss = sliceLoss(this.o.channel, this.o.detector, look, this.residual.endSlice(), this.o.beaconMarginDb);
    this.lossNowDb = loss.lossDb;
    this.beaconLossDb = loss.beaconLossDb;
    // What else the slice's detections depend on (background, polarisation frame).
    const conditions: SliceConditions = {};
    if (this.o.emittedMu) conditions.emittedMu = this.o.emittedMu();
    const sky = this.o.backgroundCountsPerS;
    if (sky) conditions.backgroundCountsPerS = sky(tMidS);
    const polarisation = this.o.polarisationErrorProb;
    if (polarisation) conditions.polarisationErrorProb = polarisation(tMidS);
    if (this.pulses.sampleUntil(nowMs, loss.eta, conditions)) {
      if (loss.lossDb < this.lossMinDb) this.lossMinDb = loss.lossDb;
      if (loss.lossDb > this.lossMaxDb) this.lossMaxDb = loss.lossDb;
    }
    if (nowMs % BATCH_MS === 0 && this.sampler.tags.length > 0) this.flushTimeTags();
    if (nowMs % LINK_ENV_MS === 0) {
      const inView = nowMs >= timeline.passStartMs && nowMs < timeline.linkEndMs;
      const dropout = !inView || inWindow(this.o.linkDropout, (nowMs - timeline.passStartMs) / 1000);
      env.setLinkLoss(Math.max(LCT_MIN_LOSS_DB, this.lossNowDb - LCT_MARGIN_DB), dropout);
      env.setBeaconLossDb(inView ? this.beaconLossDb : NO_BEACON_LOSS_DB);
    }
  }

  /** Hands the ground the time tags held (every batch, and what is left at the end of the pass). */
  flushTimeTags(): void {
    this.ground.receiveDetections(this.timePath.resolveDetections(this.timePath.stamp(this.sampler.tags)));
  }

  /** RMS of the true residual while emitting, urad. */
  get pointingRmsUrad(): number {
    return this.residual.rmsUrad;
  }
}
