import type { LinkChannelConfig } from '../../boards/link-sim/channel.ts';
import { TC_VC, TM_VC } from '../../protocols/link/mission.ts';
import type { ClassicalChannel } from '../../qkd/channel.ts';
import { OpticalLink } from '../link/optical-link.ts';
import { withForcedDropout } from './channel-faults.ts';
import { DistillationLink } from './distillation-link.ts';
import type { PassGeometry } from './geometry.ts';
import type { PassTimeline, TimeWindow } from './timeline.ts';
import type { LinkErrorInjection, MissionSummary } from './types.ts';

/** The nominal link: random bit errors of 1e-8 at zenith, a decade more per extra airmass (about 1e-6 at 15 degrees). */
export const DEFAULT_LINK_ERRORS: LinkErrorInjection = { berZenith: 1e-8, berDecadesPerAirmass: 1 };
/**
 * COP-1 / reliable-downlink timer T1. A unit lost at the tail of a window is recovered
 * only by T1 (nothing after it reveals the gap), and Cascade is a chain of hundreds of
 * round trips, so T1 sets the pace of distillation on a lossy link. 200 ms is well
 * above the link's round trip (a few frames plus the uplink queue).
 */
export const DEFAULT_T1_MS = 200;
/** Below this elevation the link channel itself is down, deg. */
const LINK_MIN_ELEVATION_DEG = 5;

/** The commanded drop-out of an injection, as a window of link time (s after the pass start). */
export function dropoutWindow(le: LinkErrorInjection): TimeWindow | null {
  return le.dropout ? { fromS: le.dropout.atS, untilS: le.dropout.atS + le.dropout.durationS } : null;
}

/** One direction's channel model from an injection (both directions share it). */
export function channelConfig(le: LinkErrorInjection): Omit<LinkChannelConfig, 'bitRate'> {
  return {
    berZenith: le.berZenith ?? 0,
    berDecadesPerAirmass: le.berDecadesPerAirmass ?? 1,
    burstRatePerS: le.burstRatePerS ?? 0,
    burstMeanBits: le.burstMeanBits ?? 64,
    dropoutRatePerS: le.dropoutRatePerS ?? 0,
    dropoutMeanS: le.dropoutMeanS ?? 0.05,
    minElevationDeg: LINK_MIN_ELEVATION_DEG,
  };
}

export interface LinkSessionOptions {
  /** Seeds the channels and the simulation keys. */
  seed: number;
  timeline: PassTimeline;
  geo: Pick<PassGeometry, 'at' | 'durationS'>;
  downlinkBitRate: number;
  uplinkBitRate: number;
  t1Ms: number;
  /** Merged over DEFAULT_LINK_ERRORS by the caller. */
  linkErrors: LinkErrorInjection;
  /** Telecommands the uplink accepted, to the payload. */
  toPayload: (tc: Uint8Array) => void;
  /** Whether the payload's laser terminal has the link (lct). */
  linkUp: () => boolean;
  /** The lct's BER estimate, log10 (LINK_HK). */
  berLog10: () => number;
}

/**
 * The optical link of a pass and what rides on it: the distillation conversation
 * (segments on the distillation VCs, reliable both ways), the payload's TM multiplexed
 * on the housekeeping VC while the terminal has the link, telecommands up to the
 * payload. Link time runs from the pass start (the ground acquires the payload then);
 * a commanded drop-out is a decorator of both channels.
 */
export class LinkSession {
  readonly link: OpticalLink;
  readonly distillation: DistillationLink;
  /** Housekeeping-VC packets the ground received. */
  hkOnGround = 0;

  constructor(private readonly o: LinkSessionOptions) {
    const dl = new DistillationLink({
      downlink: (p) => void this.link.sendDistillation(p),
      uplink: (p) => this.link.sendDistillationReply(p),
    });
    this.distillation = dl;
    const channel = channelConfig(o.linkErrors);
    const dropout = dropoutWindow(o.linkErrors);
    const geo = o.geo;
    this.link = new OpticalLink({
      seed: o.seed,
      elevationDeg: (tS) => geo.at(Math.min(geo.durationS, tS)).elevationDeg,
      downlinkBitRate: o.downlinkBitRate,
      fopT1Ms: o.t1Ms,
      uplinkBitRate: o.uplinkBitRate,
      downlink: channel,
      uplink: channel,
      decorateChannel: (ch) => withForcedDropout(ch, dropout),
      onBoardPacket: (p) => {
        if (p.vcid === TC_VC.distillation) dl.onBoardPacket(p.bytes);
        else if (p.vcid === TC_VC.telecommand) o.toPayload(p.bytes);
      },
      onGroundPacket: (p) => {
        if (p.vcid === TM_VC.distillation) dl.onGroundPacket(p.bytes);
        else if (p.vcid === TM_VC.housekeeping) this.hkOnGround++;
      },
    });
  }

  /** The payload's end of the distillation conversation (Alice's channel). */
  get payloadChannel(): ClassicalChannel {
    return this.distillation.alice;
  }

  /** The ground's end (Bob's channel). */
  get groundChannel(): ClassicalChannel {
    return this.distillation.bob;
  }

  /** The link is in view from the pass start to the end of the drain. */
  inView(nowMs: number): boolean {
    return nowMs >= this.o.timeline.passStartMs && nowMs < this.o.timeline.linkEndMs;
  }

  /** A TM packet of the payload: multiplexed onto the housekeeping VC while the terminal has the link. */
  onPayloadTm(packet: Uint8Array, nowMs: number): void {
    if (this.inView(nowMs) && this.o.linkUp()) this.link.sendHousekeeping(packet);
  }

  /** Runs the link up to mission time `nowMs` (inside its window only). */
  advanceTo(nowMs: number): void {
    const t = this.o.timeline;
    if (nowMs >= t.passStartMs && nowMs <= t.linkEndMs) this.link.advanceTo((nowMs - t.passStartMs) / 1000);
  }

  /** Nothing left in flight: both go-back-N senders have every unit acknowledged. */
  get idle(): boolean {
    return this.link.reliableDownlinkIdle && this.link.uplinkIdle;
  }

  /** LINK_HK fields. */
  housekeeping(): Record<string, unknown> {
    const link = this.link;
    const farm = link.board.farmState(TC_VC.distillation);
    return {
      linkUp: this.o.linkUp(),
      downlinkFrames: link.scheduler.framesSent,
      uplinkFramesAccepted: link.board.counters.framesAccepted,
      uplinkFramesRejected: link.board.counters.framesRejected,
      authFailures: Math.min(0xffff, link.board.errors.AUTH_FAILED ?? 0),
      farmState: farm ? { OPEN: 1, WAIT: 2, LOCKOUT: 3 }[farm.state] : 0,
      berEstimate: 10 ** this.o.berLog10(),
    };
  }

  /** The link's counters for the pass summary. */
  counters(): MissionSummary['link'] {
    const link = this.link;
    const dl = this.distillation;
    const tx = link.reliableTx;
    return {
      distillation: { down: { ...dl.down }, up: { ...dl.up } },
      reliableRetransmissions: tx.counters.retransmissions,
      reliableDownlink: `${tx.idle ? 'idle' : `busy unacked=${tx.outstanding} waitingBytes=${tx.waitingBytes}`} alerts=${JSON.stringify(tx.counters.alerts)} ground=${JSON.stringify(link.reliableRx.counters)}`,
      downlinkFrames: link.scheduler.framesSent,
      downlinkIdleFrames: link.scheduler.idleFrames,
      groundFramesGood: link.ground.rx.counters.framesGood,
      groundFecfErrors: link.ground.rx.counters.fecfErrors,
      hkPacketsOnGround: this.hkOnGround,
      uplinkFramesAccepted: link.board.counters.framesAccepted,
      uplinkFramesRejected: link.board.counters.framesRejected,
      fopRetransmissions: [...link.fops.values()].reduce((a, f) => a + f.counters.retransmissions, 0),
      fopStates: [...link.fops.values()].map((f) => {
        const farm = link.board.farmState(f.config.vcid);
        const busy = f.idle ? '' : ` busy unacked=${f.state.sent.length} waiting=${f.state.waitQueue.length}`;
        return `vc${f.config.vcid} ${f.state.state}${busy} FARM ${farm?.state} V(R)=${farm?.vr} alerts=${JSON.stringify(f.counters.alerts)}`;
      }),
      downlinkBitErrors: link.downlink.counters.bitErrors,
      uplinkBitErrors: link.uplink.counters.bitErrors,
      bursts: link.downlink.counters.bursts + link.uplink.counters.bursts,
      dropouts: link.downlink.counters.dropouts + link.uplink.counters.dropouts,
    };
  }
}
