import { encodeClcw } from '../../protocols/link/clcw.ts';
import { countError, type ErrorCounts, isProtocolError, ProtocolError, type ProtocolErrorCode } from '../../protocols/errors.ts';
import { farmClcw, type FarmState, farmStep, type FarmVerdict, initialFarmState } from '../../protocols/link/farm1.ts';
import { peekSpi, type SecurityAssociation, SdlsVerifier } from '../../protocols/link/sdls.ts';
import { type ControlCommand, decodeControlCommand, decodeTcFrame } from '../../protocols/link/tc-frame.ts';
import { TcSegmentReassembler } from '../../protocols/link/tc-segment.ts';
import type { SaStateStore } from './sa-state.ts';

/**
 * Onboard uplink front end: TC frame -> FECF/length/header checks -> SDLS verification
 * (MAC, anti-replay) -> FARM-1 -> segment reassembly -> accepted packets. Pure: frames
 * in, packets and events out. A frame rejected at any step changes no state (the
 * anti-replay counter and V(R) move only for authentic frames) and raises an event.
 * The anti-replay counter lives in the caller's SaStateStore, so it survives a reboot.
 */
export interface UplinkChannelConfig {
  vcid: number;
  /** SPIs allowed on this channel. */
  spis: number[];
}

export interface UplinkFrontEndConfig {
  scid: number;
  channels: UplinkChannelConfig[];
  associations: SecurityAssociation[];
  farmWindowWidth?: number;
  /**
   * Non-volatile anti-replay state (last accepted ARSN by SPI): restored at construction
   * (a reboot), written for every accepted frame before its contents are used.
   */
  saStore: SaStateStore;
}

export type UplinkEvent =
  | { kind: 'FRAME_REJECTED'; stage: 'FRAME' | 'SECURITY' | 'SEGMENT'; code: ProtocolErrorCode; message: string; vcid?: number }
  | { kind: 'FARM'; vcid: number; ns: number; verdict: FarmVerdict }
  | { kind: 'CONTROL'; vcid: number; command: ControlCommand; verdict: FarmVerdict }
  | { kind: 'LOCKOUT'; vcid: number };

export interface AcceptedPacket {
  vcid: number;
  mapId: number;
  bytes: Uint8Array;
}

export interface UplinkResult {
  packets: AcceptedPacket[];
  events: UplinkEvent[];
}

export interface UplinkCounters {
  framesIn: number;
  framesAccepted: number;
  framesRejected: number;
  farmDiscarded: number;
  packetsOut: number;
  lockouts: number;
}

interface Vc {
  farm: FarmState;
  spis: Set<number>;
  segments: TcSegmentReassembler;
}

export class UplinkFrontEnd {
  readonly counters: UplinkCounters = { framesIn: 0, framesAccepted: 0, framesRejected: 0, farmDiscarded: 0, packetsOut: 0, lockouts: 0 };
  /** Rejections by error code (security and frame errors). */
  readonly errors: ErrorCounts = {};
  readonly sdls: SdlsVerifier;
  private readonly vcs = new Map<number, Vc>();
  private readonly vcOrder: number[];
  private nextReport = 0;

  constructor(readonly config: UplinkFrontEndConfig) {
    this.sdls = new SdlsVerifier(config.associations, { ...config.saStore.load() });
    for (const c of config.channels) {
      this.vcs.set(c.vcid, { farm: initialFarmState(c.vcid, config.farmWindowWidth ?? 20), spis: new Set(c.spis), segments: new TcSegmentReassembler() });
    }
    this.vcOrder = config.channels.map((c) => c.vcid);
  }

  farmState(vcid: number): FarmState | undefined {
    return this.vcs.get(vcid)?.farm;
  }

  /** The CLCW word for the next TM frame's OCF: the channels take turns. */
  nextOcfWord(link: { noRfAvailable?: boolean; noBitLock?: boolean } = {}): number {
    const vcid = this.vcOrder[this.nextReport];
    this.nextReport = (this.nextReport + 1) % this.vcOrder.length;
    return encodeClcw(farmClcw((this.vcs.get(vcid) as Vc).farm, link));
  }

  private reject(res: UplinkResult, stage: 'FRAME' | 'SECURITY' | 'SEGMENT', e: ProtocolError, vcid?: number): UplinkResult {
    this.counters.framesRejected++;
    countError(this.errors, e);
    res.events.push({ kind: 'FRAME_REJECTED', stage, code: e.code, message: e.message, ...(vcid === undefined ? {} : { vcid }) });
    return res;
  }

  receive(frame: Uint8Array): UplinkResult {
    const res: UplinkResult = { packets: [], events: [] };
    this.counters.framesIn++;
    let decoded;
    try {
      decoded = decodeTcFrame(frame);
      if (decoded.header.scid !== this.config.scid) {
        throw new ProtocolError('HEADER_INVALID', `spacecraft id ${decoded.header.scid}, this is ${this.config.scid}`, { field: 'scid' });
      }
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      return this.reject(res, 'FRAME', e);
    }
    const h = decoded.header;
    const vc = this.vcs.get(h.vcid);
    if (!vc) return this.reject(res, 'FRAME', new ProtocolError('HEADER_INVALID', `no uplink virtual channel ${h.vcid}`, { field: 'vcid', value: h.vcid }), h.vcid);
    // SPI must belong to this channel: checked before verification so no state moves.
    const spi = peekSpi(frame);
    if (spi === null) return this.reject(res, 'SECURITY', new ProtocolError('FRAME_TOO_SHORT', `TC frame of ${frame.length} octets has no security header`, { length: frame.length }), h.vcid);
    if (!vc.spis.has(spi)) return this.reject(res, 'SECURITY', new ProtocolError('UNKNOWN_SPI', `SPI ${spi} not allowed on VC ${h.vcid}`, { spi }), h.vcid);
    let data: Uint8Array;
    let command: ControlCommand | undefined;
    try {
      // A malformed control command is refused before the ARSN is committed, so it changes
      // nothing; the ARSN is persisted before the frame is used, so no reboot forgets it.
      data = this.sdls.verify(frame, (v) => {
        if (h.controlCommand) command = decodeControlCommand(v.data);
        this.config.saStore.save(v.spi, v.arsn);
      }).data;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      return this.reject(res, 'SECURITY', e, h.vcid);
    }
    this.counters.framesAccepted++;
    const step = farmStep(vc.farm, command ? { kind: 'BC', command } : h.bypass ? { kind: 'BD' } : { kind: 'AD', ns: h.seq });
    const wasLocked = vc.farm.lockout;
    vc.farm = step.state;
    if (command) res.events.push({ kind: 'CONTROL', vcid: h.vcid, command, verdict: step.verdict });
    else if (step.verdict !== 'ACCEPT') res.events.push({ kind: 'FARM', vcid: h.vcid, ns: h.seq, verdict: step.verdict });
    if (!wasLocked && vc.farm.lockout) {
      this.counters.lockouts++;
      res.events.push({ kind: 'LOCKOUT', vcid: h.vcid });
    }
    if (!step.deliver) {
      if (!command) this.counters.farmDiscarded++;
      return res;
    }
    try {
      const out = vc.segments.push(data);
      for (const bytes of out.packets) res.packets.push({ vcid: h.vcid, mapId: out.mapId, bytes });
      this.counters.packetsOut += out.packets.length;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      countError(this.errors, e);
      res.events.push({ kind: 'FRAME_REJECTED', stage: 'SEGMENT', code: e.code, message: e.message, vcid: h.vcid });
    }
    return res;
  }
}
