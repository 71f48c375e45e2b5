import { TmFramer, type TmFramerConfig } from '../../protocols/link/tm-framer.ts';
import { VcPacketSender } from '../../protocols/link/vc-packet-sender.ts';

/**
 * Shares the downlink between virtual channels, one frame at a time.
 * - Only channels with data waiting compete; with none, an idle frame goes out.
 * - Strict priority between levels (higher first), so a higher level (distillation,
 *   housekeeping) is never starved by a lower one (bulk relay data).
 * - Within a level, stride scheduling by weight: each channel gets frames in
 *   proportion to its weight while it has data.
 * A frame for a channel with less than a frame of data is completed with idle fill,
 * so latency stays at one frame time.
 */
export interface DownlinkChannelConfig {
  vcid: number;
  name: string;
  priority: number;
  weight: number;
  /** Queue bound; enqueue refuses packets beyond it (counted). */
  maxQueuedBytes?: number;
}

export interface DownlinkSchedulerConfig {
  frame: TmFramerConfig;
  channels: DownlinkChannelConfig[];
  idleVcid: number;
}

export interface DownlinkChannelCounters {
  vcid: number;
  name: string;
  framesSent: number;
  packetsQueued: number;
  packetsRefused: number;
  idleFillBytes: number;
}

const STRIDE_ONE = 1 << 20;

interface Channel {
  cfg: DownlinkChannelConfig;
  sender: VcPacketSender;
  pass: number;
  stride: number;
  counters: DownlinkChannelCounters;
}

export class DownlinkScheduler {
  readonly framer: TmFramer;
  private readonly channels: Channel[];
  private readonly byVcid = new Map<number, Channel>();
  private globalPass = 0;
  idleFrames = 0;
  framesSent = 0;

  constructor(readonly config: DownlinkSchedulerConfig) {
    this.framer = new TmFramer(config.frame);
    const seen = new Set<number>([config.idleVcid]);
    this.channels = config.channels.map((c) => {
      if (seen.has(c.vcid)) throw new RangeError(`virtual channel ${c.vcid} configured twice (or is the idle channel)`);
      if (!(c.weight > 0)) throw new RangeError(`channel ${c.name}: weight must be > 0`);
      seen.add(c.vcid);
      const ch: Channel = {
        cfg: c,
        sender: new VcPacketSender(c.vcid, this.framer.dataFieldBytes, c.maxQueuedBytes),
        pass: 0,
        stride: Math.round(STRIDE_ONE / c.weight),
        counters: { vcid: c.vcid, name: c.name, framesSent: 0, packetsQueued: 0, packetsRefused: 0, idleFillBytes: 0 },
      };
      this.byVcid.set(c.vcid, ch);
      return ch;
    });
  }

  /** Queues a whole space packet on a channel; false when the channel's queue is full. */
  enqueue(vcid: number, packet: Uint8Array): boolean {
    const ch = this.byVcid.get(vcid);
    if (!ch) throw new RangeError(`no downlink channel with VCID ${vcid}`);
    if (ch.sender.pendingDataBytes === 0) ch.pass = Math.max(ch.pass, this.globalPass);
    if (!ch.sender.enqueue(packet)) {
      ch.counters.packetsRefused++;
      return false;
    }
    ch.counters.packetsQueued++;
    return true;
  }

  /** Octets of packets (not idle fill) waiting on a channel. */
  pendingBytes(vcid: number): number {
    return this.byVcid.get(vcid)?.sender.pendingDataBytes ?? 0;
  }

  /** Picks the channel for the next frame, or null for an idle frame. */
  private pick(): Channel | null {
    let best: Channel | null = null;
    for (const ch of this.channels) {
      if (ch.sender.pendingDataBytes === 0) continue;
      if (!best || ch.cfg.priority > best.cfg.priority || (ch.cfg.priority === best.cfg.priority && ch.pass < best.pass)) best = ch;
    }
    return best;
  }

  /** Writes the next transmitted frame (ASM ‖ frame) at out[offset]; returns its VCID. */
  nextFrame(out: Uint8Array, offset: number, ocfWord = 0): number {
    const ch = this.pick();
    this.framesSent++;
    if (!ch) {
      this.idleFrames++;
      this.framer.build(out, offset, this.config.idleVcid, null, ocfWord);
      return this.config.idleVcid;
    }
    const idleBefore = ch.sender.idleBytes;
    this.framer.build(out, offset, ch.cfg.vcid, ch.sender, ocfWord);
    ch.counters.idleFillBytes += ch.sender.idleBytes - idleBefore;
    ch.counters.framesSent++;
    this.globalPass = ch.pass;
    ch.pass += ch.stride;
    return ch.cfg.vcid;
  }

  /** Octets of one transmitted frame (marker included). */
  get channelFrameBytes(): number {
    return this.framer.channelFrameBytes;
  }

  counters(): DownlinkChannelCounters[] {
    return this.channels.map((c) => ({ ...c.counters }));
  }
}
