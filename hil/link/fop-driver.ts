import type { Clcw } from '../../protocols/link/clcw.ts';
import { type FopAction, type FopAlert, type FopConfig, fopIdle, type FopState, fopStep, initialFopState } from '../../protocols/link/fop1.ts';
import { type SecurityAssociation, SdlsSender, securityOverheadBytes } from '../../protocols/link/sdls.ts';
import { encodeControlCommand, TC_FECF_BYTES, TC_PRIMARY_HEADER_BYTES } from '../../protocols/link/tc-frame.ts';
import { packTcDataUnits } from '../../protocols/link/tc-segment.ts';

/**
 * Ground side of one uplink virtual channel: packets in, secured TC frames out, under
 * FOP-1. Every transmission (first or repeat) gets a fresh anti-replay sequence number,
 * so a retransmitted frame is never mistaken for a replay. Time is passed in.
 */
export interface FopDriverConfig {
  scid: number;
  vcid: number;
  association: SecurityAssociation;
  maxFrameBytes: number;
  mapId?: number;
  fop?: Partial<FopConfig>;
  /** Last ARSN this association used (persisted across ground restarts). */
  lastArsn?: number;
}

export interface FopDriverCounters {
  packetsSubmitted: number;
  framesSent: number;
  retransmissions: number;
  controlFramesSent: number;
  bypassFramesSent: number;
  dataUnitsAcknowledged: number;
  alerts: Partial<Record<FopAlert, number>>;
}

export class FopDriver {
  state: FopState;
  readonly counters: FopDriverCounters = { packetsSubmitted: 0, framesSent: 0, retransmissions: 0, controlFramesSent: 0, bypassFramesSent: 0, dataUnitsAcknowledged: 0, alerts: {} };
  /** Alerts and recoveries, in order, for a test or an operator log. */
  readonly log: { atMs: number; what: string }[] = [];
  private readonly sdls: SdlsSender;
  private readonly capacity: number;

  constructor(readonly config: FopDriverConfig) {
    this.state = initialFopState(config.vcid, config.fop);
    this.sdls = new SdlsSender(config.association, config.lastArsn ?? 0);
    this.capacity = config.maxFrameBytes - TC_PRIMARY_HEADER_BYTES - TC_FECF_BYTES - securityOverheadBytes(config.association);
  }

  /** Octets of packet data (segment header included) one frame carries. */
  get dataCapacityBytes(): number {
    return this.capacity;
  }

  get idle(): boolean {
    return fopIdle(this.state);
  }

  /** When the FOP wants a TICK (null: no timer running). */
  get timerDeadlineMs(): number | null {
    return this.state.timerDeadlineMs;
  }

  /** Queues packets (blocked into frames, large ones segmented); returns frames to send now. */
  submit(packets: readonly Uint8Array[], nowMs: number): Uint8Array[] {
    this.counters.packetsSubmitted += packets.length;
    const frames: Uint8Array[] = [];
    for (const unit of packTcDataUnits(packets, this.capacity, this.config.mapId ?? 0)) {
      frames.push(...this.step({ type: 'SEND', data: unit, nowMs }, nowMs));
    }
    return frames;
  }

  /**
   * Sends packets at once in type-B (bypass) frames outside FOP-1: no sequence control,
   * no retransmission, still authenticated. For reports that are repeated anyway.
   */
  sendBypass(packets: readonly Uint8Array[], mapId: number): Uint8Array[] {
    const base = { scid: this.config.scid, vcid: this.config.vcid, bypass: true, controlCommand: false, seq: 0 };
    const frames = packTcDataUnits(packets, this.capacity, mapId).map((u) => this.sdls.secure(base, u));
    this.counters.bypassFramesSent += frames.length;
    return frames;
  }

  /** A CLCW from the downlink OCF (other channels' CLCWs are ignored). */
  onClcw(clcw: Clcw, nowMs: number): Uint8Array[] {
    if (clcw.vcid !== this.config.vcid) return [];
    return this.step({ type: 'CLCW', clcw, nowMs }, nowMs);
  }

  tick(nowMs: number): Uint8Array[] {
    return this.step({ type: 'TICK', nowMs }, nowMs);
  }

  private step(e: Parameters<typeof fopStep>[1], nowMs: number): Uint8Array[] {
    const r = fopStep(this.state, e);
    this.state = r.state;
    return this.perform(r.actions, nowMs);
  }

  private perform(actions: FopAction[], nowMs: number): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const base = { scid: this.config.scid, vcid: this.config.vcid };
    for (const a of actions) {
      switch (a.type) {
        case 'TRANSMIT_AD':
          frames.push(this.sdls.secure({ ...base, bypass: false, controlCommand: false, seq: a.ns }, a.data));
          this.counters.framesSent++;
          if (a.retransmission) this.counters.retransmissions++;
          break;
        case 'TRANSMIT_BC':
          frames.push(this.sdls.secure({ ...base, bypass: true, controlCommand: true, seq: 0 }, encodeControlCommand(a.command)));
          this.counters.controlFramesSent++;
          break;
        case 'ACKNOWLEDGED':
          this.counters.dataUnitsAcknowledged += a.frames.length;
          break;
        case 'ALERT':
          this.counters.alerts[a.reason] = (this.counters.alerts[a.reason] ?? 0) + 1;
          this.log.push({ atMs: nowMs, what: `alert ${a.reason}` });
          break;
        case 'RECOVERED':
          this.log.push({ atMs: nowMs, what: `recovered from ${a.from}` });
          break;
      }
    }
    return frames;
  }
}
