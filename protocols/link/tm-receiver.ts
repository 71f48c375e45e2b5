import { countError, type ErrorCounts, isProtocolError, ProtocolError } from '../errors.ts';
import { FrameSynchronizer, type FrameSyncConfig, type FrameSyncCounters, type FrameSyncState } from './frame-sync.ts';
import { randomize } from './randomizer.ts';
import { checkTmFrameConfig, readOcf, readTmHeader, type TmFrameConfig, type TmFrameHeader, type TmFrameLayout, tmFecfOk, tmFrameLayout } from './tm-frame.ts';
import { VcReassembler, type VcReassemblyCounters } from './vc-reassembler.ts';

export interface TmReceiverConfig {
  frameLengthBytes: number;
  randomized: boolean;
  /**
   * true/false: every frame carries an OCF / none does, and a frame whose OCF flag
   * disagrees is refused (HEADER_INVALID). 'header': each frame's OCF flag decides.
   */
  ocf: boolean | 'header';
  fecf: boolean;
  /** Frames of another spacecraft are counted and dropped; undefined accepts any. */
  expectedScid?: number;
  maxPacketBytes?: number;
  sync?: Omit<FrameSyncConfig, 'frameLengthBytes'>;
}

export interface ReceivedPacket {
  vcid: number;
  bytes: Uint8Array;
}

export interface ReceivedTmFrame {
  /** Header as read (unreliable when fecfOk is false). */
  header: TmFrameHeader | null;
  /** null when the configuration has no FECF. */
  fecfOk: boolean | null;
  /** Operational control field word, when present (the frame's OCF flag) and the frame is good. */
  ocf?: number;
  /** Why the frame was not used, when it was not. */
  error?: ProtocolError;
  /** Packets completed by this frame, in order. */
  packets: ReceivedPacket[];
  syncState: FrameSyncState;
  /** Where the frame's marker starts in the received stream (frames from `push`). */
  offset?: number;
}

export interface TmReceiverCounters {
  frames: number;
  framesGood: number;
  fecfErrors: number;
  scidMismatch: number;
  /** Frames missing by the master channel frame count. */
  mcFramesLost: number;
  packets: number;
}

/**
 * Receive chain for one downlink: frame synchroniser -> derandomiser -> FECF check ->
 * header -> per-VC packet reassembly. Never throws on bad input: each frame comes out
 * with either its packets or an error, and everything is counted. Each frame's layout
 * (OCF, secondary header) is read from its own header (tmFrameLayout); a frame whose
 * sync flag is set carries no packets (virtual channel access data) and is passed on
 * without reassembly.
 */
export class TmReceiver {
  readonly counters: TmReceiverCounters = { frames: 0, framesGood: 0, fecfErrors: 0, scidMismatch: 0, mcFramesLost: 0, packets: 0 };
  readonly errors: ErrorCounts = {};
  private readonly sync: FrameSynchronizer;
  private readonly reassemblers = new Map<number, VcReassembler>();
  private readonly work: Uint8Array;
  private readonly cfg: TmFrameConfig;
  private expectedMcfc = -1;

  constructor(readonly config: TmReceiverConfig) {
    // With the OCF per frame, the shortest legal frame is one without.
    this.cfg = { scid: config.expectedScid ?? 0, frameLengthBytes: config.frameLengthBytes, ocf: config.ocf === true, fecf: config.fecf };
    checkTmFrameConfig(this.cfg);
    this.sync = new FrameSynchronizer({ ...config.sync, frameLengthBytes: config.frameLengthBytes });
    this.work = new Uint8Array(config.frameLengthBytes);
  }

  get syncCounters(): FrameSyncCounters {
    return this.sync.counters;
  }

  get syncState(): FrameSyncState {
    return this.sync.state;
  }

  /** Per-VC reassembly counters by VCID. */
  vcCounters(): Record<number, VcReassemblyCounters> {
    const out: Record<number, VcReassemblyCounters> = {};
    for (const [vcid, r] of [...this.reassemblers].sort((a, b) => a[0] - b[0])) out[vcid] = { ...r.counters };
    return out;
  }

  /** Feeds a received byte stream (markers and frames). */
  push(chunk: Uint8Array, onFrame: (f: ReceivedTmFrame) => void): void {
    this.sync.push(chunk, this.sink(onFrame));
  }

  /** End of the stream: hands on frames held for look-ahead; returns the octets left over (counted in syncCounters). */
  finish(onFrame: (f: ReceivedTmFrame) => void): number {
    return this.sync.finish(this.sink(onFrame));
  }

  private sink(onFrame: (f: ReceivedTmFrame) => void) {
    return (view: Uint8Array, state: FrameSyncState, offset: number) => {
      this.work.set(view);
      onFrame({ ...this.processFrame(this.work, state), offset });
    };
  }

  /** Feeds one frame (without marker, still randomised if the link is) that arrived by other means. */
  pushFrame(frame: Uint8Array): ReceivedTmFrame {
    if (frame.length !== this.cfg.frameLengthBytes) {
      const error = new ProtocolError('LENGTH_MISMATCH', `frame of ${frame.length} octets, configured ${this.cfg.frameLengthBytes}`, {
        expected: this.cfg.frameLengthBytes,
        actual: frame.length,
      });
      countError(this.errors, error);
      this.counters.frames++;
      return { header: null, fecfOk: false, error, packets: [], syncState: 'LOCK' };
    }
    this.work.set(frame);
    return this.processFrame(this.work, 'LOCK');
  }

  private reassembler(vcid: number): VcReassembler {
    let r = this.reassemblers.get(vcid);
    if (!r) {
      r = new VcReassembler(vcid, this.config.maxPacketBytes);
      this.reassemblers.set(vcid, r);
    }
    return r;
  }

  private processFrame(f: Uint8Array, syncState: FrameSyncState): ReceivedTmFrame {
    const c = this.counters;
    c.frames++;
    const L = this.cfg.frameLengthBytes;
    if (this.config.randomized) randomize(f, 0, L);
    const fecfOk = this.cfg.fecf ? tmFecfOk(f, 0, L) : null;
    let header: TmFrameHeader | null = null;
    try {
      header = readTmHeader(f, 0);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      if (fecfOk !== false) {
        countError(this.errors, e);
        return { header: null, fecfOk, error: e, packets: [], syncState };
      }
    }
    if (fecfOk === false) {
      c.fecfErrors++;
      const error = new ProtocolError('CRC_MISMATCH', 'frame error control field does not match', { field: 'fecf' });
      countError(this.errors, error);
      return { header, fecfOk, error, packets: [], syncState };
    }
    const h = header as TmFrameHeader;
    if (this.config.expectedScid !== undefined && h.scid !== this.config.expectedScid) {
      c.scidMismatch++;
      const error = new ProtocolError('HEADER_INVALID', `spacecraft id ${h.scid}, expected ${this.config.expectedScid}`, { field: 'scid', value: h.scid });
      countError(this.errors, error);
      return { header: h, fecfOk, error, packets: [], syncState };
    }
    if (this.config.ocf !== 'header' && h.ocfFlag !== this.config.ocf) {
      const error = new ProtocolError('HEADER_INVALID', `OCF flag ${h.ocfFlag ? 1 : 0} disagrees with the configured layout`, { field: 'ocfFlag' });
      countError(this.errors, error);
      return { header: h, fecfOk, error, packets: [], syncState };
    }
    let layout: TmFrameLayout;
    try {
      layout = tmFrameLayout(f, 0, h, this.cfg);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      countError(this.errors, e);
      return { header: h, fecfOk, error: e, packets: [], syncState };
    }
    c.framesGood++;
    if (this.expectedMcfc >= 0) c.mcFramesLost += (h.mcfc - this.expectedMcfc + 256) & 0xff;
    this.expectedMcfc = (h.mcfc + 1) & 0xff;
    const packets: ReceivedPacket[] = [];
    const vcid = h.vcid;
    if (!h.syncFlag) {
      this.reassembler(vcid).push(h.vcfc, h.fhp, f.subarray(layout.dataStart, layout.dataEnd), (bytes) => {
        packets.push({ vcid, bytes });
      });
    }
    c.packets += packets.length;
    const out: ReceivedTmFrame = { header: h, fecfOk, packets, syncState };
    if (layout.ocf) out.ocf = readOcf(f, 0, this.cfg);
    return out;
  }
}

