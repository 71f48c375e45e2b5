import { ASM, ASM_BYTES, checkTmFrameConfig, FHP_IDLE_DATA, finishTmFrame, TM_PRIMARY_HEADER_BYTES, type TmFrameConfig, tmDataFieldBytes, writeTmHeader } from './tm-frame.ts';
import { randomize } from './randomizer.ts';
import type { VcPacketSender } from './vc-packet-sender.ts';

export interface TmFramerConfig extends TmFrameConfig {
  randomized: boolean;
}

/**
 * Builds the transmitted form of TM frames: ASM ‖ randomise(frame), keeping the master
 * and per-VC frame counts. Pure apart from its counters; output goes to a caller's buffer.
 */
export class TmFramer {
  private mcfc = 0;
  private readonly vcfc = new Uint8Array(8);
  readonly dataFieldBytes: number;
  /** Octets of one transmitted frame: marker plus frame. */
  readonly channelFrameBytes: number;

  constructor(readonly cfg: TmFramerConfig) {
    checkTmFrameConfig(cfg);
    this.dataFieldBytes = tmDataFieldBytes(cfg);
    this.channelFrameBytes = ASM_BYTES + cfg.frameLengthBytes;
  }

  /**
   * Writes marker and frame for `vcid` at out[offset]; the data field comes from
   * `sender` (packets), or is idle data (FHP 0x7FE) when sender is null.
   * Returns the number of octets written.
   */
  build(out: Uint8Array, offset: number, vcid: number, sender: VcPacketSender | null, ocfWord = 0): number {
    out.set(ASM, offset);
    const f = offset + ASM_BYTES;
    const dataStart = f + TM_PRIMARY_HEADER_BYTES;
    let fhp: number;
    if (sender) {
      fhp = sender.fillDataField(out, dataStart);
    } else {
      out.fill(0, dataStart, dataStart + this.dataFieldBytes);
      fhp = FHP_IDLE_DATA;
    }
    writeTmHeader(out, f, {
      scid: this.cfg.scid,
      vcid,
      ocfFlag: this.cfg.ocf,
      mcfc: this.mcfc,
      vcfc: this.vcfc[vcid],
      secondaryHeader: false,
      syncFlag: false,
      packetOrder: false,
      segmentLengthId: 3,
      fhp,
    });
    this.mcfc = (this.mcfc + 1) & 0xff;
    this.vcfc[vcid] = (this.vcfc[vcid] + 1) & 0xff;
    finishTmFrame(out, f, this.cfg, ocfWord);
    if (this.cfg.randomized) randomize(out, f, f + this.cfg.frameLengthBytes);
    return this.channelFrameBytes;
  }
}
