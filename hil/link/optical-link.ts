import { type ElevationProfile, LinkChannel, type LinkChannelConfig, type OctetChannel } from '../../boards/link-sim/channel.ts';
import { DownlinkScheduler, type DownlinkChannelConfig } from '../../firmware/link/downlink-scheduler.ts';
import { type AcceptedPacket, UplinkFrontEnd, type UplinkEvent } from '../../firmware/link/uplink-frontend.ts';
import { MemorySaStateStore, type SaStateStore } from '../../firmware/link/sa-state.ts';
import { ReliableDownlinkSender } from '../../firmware/link/reliable-downlink.ts';
import { decodeArqAck } from '../../protocols/link/arq.ts';
import { ArqOutbox } from '../../protocols/link/arq-outbox.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import {
  ARQ_ACK_APID,
  ARQ_ACK_MAP_ID,
  ARQ_FARM_WINDOW_WIDTH,
  ARQ_WINDOW_K,
  ARSN_WINDOW,
  DEFAULT_TC_MAX_FRAME_BYTES,
  DEFAULT_TM_FRAME_BYTES,
  FARM_WINDOW_WIDTH,
  FOP_WINDOW_K,
  MISSION_SCID,
  SPI,
  TC_VC,
  TM_VC,
} from '../../protocols/link/mission.ts';
import type { SecurityAssociation } from '../../protocols/link/sdls.ts';
import type { ReceivedPacket } from '../../protocols/link/tm-receiver.ts';
import { DownlinkReceiver } from './downlink-receiver.ts';
import { FopDriver } from './fop-driver.ts';
import { ReliableDownlinkReceiver } from './reliable-downlink-receiver.ts';

/**
 * The whole optical link of a pass in simulated time, both ends and the channel:
 *   board: DownlinkScheduler -> TmFramer -> (downlink LinkChannel) -> ground DownlinkReceiver
 *   ground: FopDriver per TC VC -> SDLS -> (uplink LinkChannel) -> board UplinkFrontEnd
 * The CLCW of the board's FARMs rides in every downlink frame's OCF back to the FOPs.
 * Time advances in downlink frame slots; everything is deterministic for a seed.
 *
 * Board API: sendHousekeeping / sendDistillation / sendRelay (whole space packets);
 * accepted uplink packets arrive at onBoardPacket. Ground API: sendTelecommand /
 * sendDistillationReply; downlink packets arrive at onGroundPacket (with their VCID).
 *
 * Reliability: both uplink channels run COP-1. The distillation downlink (VC 1) runs
 * COP-1's go-back-N over whole packets (ReliableDownlinkSender on board, acknowledged
 * by ReliableDownlinkReceiver on the ground over TC VC 1), so distillation messages
 * arrive exactly once and in order in both directions. Housekeeping and relay data are
 * best effort. The reliable channel numbers its packets (it owns their sequence count).
 * Its packets wait in an ArqOutbox and are fed to the VC queue about a frame at a time,
 * so a go-back-N repeat replaces a waiting copy instead of queuing behind it.
 */
export interface OpticalLinkConfig {
  seed: number;
  scid?: number;
  frameLengthBytes?: number;
  randomized?: boolean;
  downlinkBitRate?: number;
  uplinkBitRate?: number;
  tcMaxFrameBytes?: number;
  elevationDeg: ElevationProfile;
  downlink?: Omit<LinkChannelConfig, 'bitRate'>;
  uplink?: Omit<LinkChannelConfig, 'bitRate'>;
  /** Wraps each direction's channel model (fault injection by decoration); default none. */
  decorateChannel?: (channel: OctetChannel, direction: 'downlink' | 'uplink') => OctetChannel;
  /** Keys: one per association; defaults derive test keys from the seed (simulation only). */
  associations?: SecurityAssociation[];
  channels?: DownlinkChannelConfig[];
  fopT1Ms?: number;
  onBoardPacket?: (p: AcceptedPacket, tS: number) => void;
  onGroundPacket?: (p: ReceivedPacket, tS: number) => void;
  /** Every packet reassembled from the downlink, before the reliable channel drops repeats. */
  onDownlinkPacket?: (p: ReceivedPacket, tS: number) => void;
  onBoardEvent?: (e: UplinkEvent, tS: number) => void;
  /** The board's non-volatile anti-replay state; default a fresh one (a new payload). Pass the same store to model a reboot. */
  saStore?: SaStateStore;
  /** Every downlink octet the ground receiver got (for a capture file). */
  onDownlinkBytes?: (bytes: Uint8Array, tS: number) => void;
}

/** Default downlink sharing: housekeeping and distillation first (3:1 for distillation), relay takes what is left. */
export const DEFAULT_DOWNLINK_CHANNELS: DownlinkChannelConfig[] = [
  { vcid: TM_VC.housekeeping, name: 'housekeeping', priority: 2, weight: 1 },
  { vcid: TM_VC.distillation, name: 'distillation', priority: 2, weight: 3 },
  { vcid: TM_VC.relay, name: 'relay', priority: 1, weight: 1, maxQueuedBytes: 1 << 20 },
];

/** Deterministic simulation keys (never flight keys): 32 octets from the seed and SPI. */
export function simulationKey(seed: number, spi: number): Uint8Array {
  const k = new Uint8Array(32);
  let x = (seed ^ Math.imul(spi, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < 32; i++) {
    x = (Math.imul(x ^ (x >>> 16), 0x45d9f3b) + i) >>> 0;
    k[i] = x & 0xff;
  }
  return k;
}

export function defaultAssociations(seed: number): SecurityAssociation[] {
  return [
    { spi: SPI.telecommand, algorithm: 'HMAC-SHA256', key: simulationKey(seed, SPI.telecommand), windowSize: ARSN_WINDOW },
    { spi: SPI.distillation, algorithm: 'AES-GMAC', key: simulationKey(seed, SPI.distillation), windowSize: ARSN_WINDOW },
  ];
}

interface InFlight {
  arriveS: number;
  bytes: Uint8Array;
}

export class OpticalLink {
  readonly scheduler: DownlinkScheduler;
  readonly board: UplinkFrontEnd;
  readonly ground: DownlinkReceiver;
  readonly fops: Map<number, FopDriver>;
  readonly downlink: OctetChannel;
  readonly uplink: OctetChannel;
  readonly frameTimeS: number;
  nowS = 0;
  private readonly frameBuf: Uint8Array;
  private uplinkFreeS = 0;
  private readonly uplinkQueue: InFlight[] = [];
  private readonly cfg: OpticalLinkConfig;
  readonly reliableTx: ReliableDownlinkSender;
  readonly reliableRx: ReliableDownlinkReceiver;
  /** Reliable packets released by the sender, not yet on the VC queue. */
  private readonly reliableOutbox = new ArqOutbox();
  private readonly frameLengthBytes: number;
  /** Acknowledgement packets that arrived on board unreadable (counted, ignored). */
  badAcks = 0;

  constructor(cfg: OpticalLinkConfig) {
    this.cfg = cfg;
    const scid = cfg.scid ?? MISSION_SCID;
    const frameLengthBytes = cfg.frameLengthBytes ?? DEFAULT_TM_FRAME_BYTES;
    const randomized = cfg.randomized ?? true;
    const associations = cfg.associations ?? defaultAssociations(cfg.seed);
    this.scheduler = new DownlinkScheduler({
      frame: { scid, frameLengthBytes, ocf: true, fecf: true, randomized },
      channels: cfg.channels ?? DEFAULT_DOWNLINK_CHANNELS,
      idleVcid: TM_VC.idle,
    });
    this.board = new UplinkFrontEnd({
      scid,
      channels: [
        { vcid: TC_VC.telecommand, spis: [SPI.telecommand] },
        { vcid: TC_VC.distillation, spis: [SPI.distillation] },
      ],
      associations,
      farmWindowWidth: FARM_WINDOW_WIDTH,
      saStore: cfg.saStore ?? new MemorySaStateStore(),
    });
    this.ground = new DownlinkReceiver({ frameLengthBytes, randomized, ocf: true, fecf: true, expectedScid: scid });
    const saBySpi = new Map(associations.map((a) => [a.spi, a]));
    const fop = (vcid: number, spi: number): FopDriver =>
      new FopDriver({
        scid,
        vcid,
        association: saBySpi.get(spi) as SecurityAssociation,
        maxFrameBytes: cfg.tcMaxFrameBytes ?? DEFAULT_TC_MAX_FRAME_BYTES,
        fop: { windowK: FOP_WINDOW_K, t1Ms: cfg.fopT1Ms ?? 500, transmissionLimit: 5 },
      });
    this.fops = new Map([
      [TC_VC.telecommand, fop(TC_VC.telecommand, SPI.telecommand)],
      [TC_VC.distillation, fop(TC_VC.distillation, SPI.distillation)],
    ]);
    const downBitRate = cfg.downlinkBitRate ?? 10e6;
    const decorate = cfg.decorateChannel ?? ((ch: OctetChannel) => ch);
    this.downlink = decorate(new LinkChannel({ berZenith: 0, ...cfg.downlink, bitRate: downBitRate }, cfg.elevationDeg, cfg.seed * 2 + 1), 'downlink');
    this.uplink = decorate(new LinkChannel({ berZenith: 0, ...cfg.uplink, bitRate: cfg.uplinkBitRate ?? 1e6 }, cfg.elevationDeg, cfg.seed * 2 + 2), 'uplink');
    this.frameTimeS = (this.scheduler.channelFrameBytes * 8) / downBitRate;
    this.reliableTx = new ReliableDownlinkSender(TM_VC.distillation, { windowK: ARQ_WINDOW_K, t1Ms: cfg.fopT1Ms ?? 500, transmissionLimit: 1000 });
    this.reliableRx = new ReliableDownlinkReceiver(TM_VC.distillation, ARQ_ACK_APID, ARQ_FARM_WINDOW_WIDTH);
    this.frameBuf = new Uint8Array(this.scheduler.channelFrameBytes);
    this.frameLengthBytes = frameLengthBytes;
  }

  // ---- board side ----
  sendHousekeeping(packet: Uint8Array): boolean {
    return this.scheduler.enqueue(TM_VC.housekeeping, packet);
  }
  /** Reliable: numbered, queued and repeated until the ground acknowledges it. */
  sendDistillation(packet: Uint8Array): boolean {
    this.enqueueReliable(this.reliableTx.offer(packet, this.nowS * 1000));
    return true;
  }

  private enqueueReliable(packets: Uint8Array[]): void {
    this.reliableOutbox.put(packets);
  }

  /** Tops the distillation VC queue up to about one frame from the outbox (the rest stays replaceable). */
  private feedReliable(): void {
    while (this.scheduler.pendingBytes(TM_VC.distillation) < this.frameLengthBytes && this.reliableOutbox.size > 0) {
      this.scheduler.enqueue(TM_VC.distillation, this.reliableOutbox.take() as Uint8Array);
    }
  }
  /** False when the relay queue is full (back-pressure: try again later). */
  sendRelay(packet: Uint8Array): boolean {
    return this.scheduler.enqueue(TM_VC.relay, packet);
  }

  // ---- ground side ----
  sendTelecommand(packet: Uint8Array): void {
    this.queueUplink((this.fops.get(TC_VC.telecommand) as FopDriver).submit([packet], this.nowS * 1000));
  }
  sendDistillationReply(packet: Uint8Array): void {
    this.queueUplink((this.fops.get(TC_VC.distillation) as FopDriver).submit([packet], this.nowS * 1000));
  }

  /** True when every uplink packet submitted so far has been acknowledged by the board. */
  get uplinkIdle(): boolean {
    return [...this.fops.values()].every((f) => f.idle) && this.uplinkQueue.length === 0;
  }

  /**
   * Distillation octets not yet on the wire: the VC queue, the reliable outbox and what
   * waits for the reliable channel's window. Use this (not the scheduler alone) for flow control.
   */
  distillationBacklogBytes(): number {
    return this.scheduler.pendingBytes(TM_VC.distillation) + this.reliableOutbox.bytes + this.reliableTx.waitingBytes;
  }

  /** True when every reliable downlink packet has been acknowledged by the ground. */
  get reliableDownlinkIdle(): boolean {
    return this.reliableTx.idle;
  }

  private queueUplink(frames: Uint8Array[]): void {
    for (const f of frames) {
      const startS = Math.max(this.nowS, this.uplinkFreeS);
      const endS = startS + this.uplink.durationS(f.length);
      this.uplinkFreeS = endS;
      this.uplinkQueue.push({ arriveS: endS, bytes: this.uplink.transmit(f, startS) });
    }
  }

  /** Runs the link until simulated time tS (whole downlink frame slots). */
  advanceTo(tS: number): void {
    while (this.nowS + this.frameTimeS <= tS) this.slot();
  }

  private deliverUplink(untilS: number): void {
    while (this.uplinkQueue.length > 0 && this.uplinkQueue[0].arriveS <= untilS) {
      const f = this.uplinkQueue.shift() as InFlight;
      const r = this.board.receive(f.bytes);
      for (const p of r.packets) {
        if (p.vcid === TC_VC.distillation && p.mapId === ARQ_ACK_MAP_ID) {
          try {
            const clcw = decodeArqAck(p.bytes, ARQ_ACK_APID);
            this.enqueueReliable(this.reliableTx.onAck(clcw, f.arriveS * 1000));
            this.reliableOutbox.acknowledge(clcw.reportValue);
          } catch (e) {
            if (!isProtocolError(e)) throw e;
            this.badAcks++;
          }
          continue;
        }
        this.cfg.onBoardPacket?.(p, f.arriveS);
      }
      for (const e of r.events) this.cfg.onBoardEvent?.(e, f.arriveS);
    }
  }

  private slot(): void {
    const t = this.nowS;
    this.deliverUplink(t);
    const ocf = this.board.nextOcfWord();
    this.feedReliable();
    this.scheduler.nextFrame(this.frameBuf, 0, ocf);
    const rx = this.downlink.transmit(this.frameBuf, t);
    this.nowS = t + this.frameTimeS;
    this.cfg.onDownlinkBytes?.(rx, t);
    const out = this.ground.push(rx);
    for (const p of out.packets) {
      this.cfg.onDownlinkPacket?.(p, this.nowS);
      if (p.vcid === TM_VC.distillation && !this.reliableRx.accept(p.bytes)) continue;
      this.cfg.onGroundPacket?.(p, this.nowS);
    }
    const nowMs = this.nowS * 1000;
    const ack = this.reliableRx.ackDue(nowMs);
    if (ack) this.queueUplink((this.fops.get(TC_VC.distillation) as FopDriver).sendBypass([ack], ARQ_ACK_MAP_ID));
    this.enqueueReliable(this.reliableTx.tick(nowMs));
    for (const c of out.clcws) {
      const fop = this.fops.get(c.vcid);
      if (fop) this.queueUplink(fop.onClcw(c, nowMs));
    }
    for (const fop of this.fops.values()) this.queueUplink(fop.tick(nowMs));
  }
}
