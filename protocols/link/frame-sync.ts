import { ProtocolError } from '../errors.ts';
import { ASM_BYTES, ASM_WORD, MIN_SYNC_FRAME_BYTES } from './tm-frame.ts';

/**
 * Frame synchroniser for a byte stream of fixed-length frames each preceded by the
 * attached sync marker 0x1ACFFC1D (octet-aligned, as a receiver after bit
 * synchronisation delivers it). States:
 *   SEARCH   scan for a marker (exact, or within searchMarkerBitErrors)
 *   CHECK    marker found; confirm with verifyMarkers further markers one frame apart
 *   LOCK     frames follow one another; a marker with up to maxMarkerBitErrors wrong bits
 *            still counts
 *   FLYWHEEL a marker was missed: keep the frame rhythm for up to flywheelFrames frames
 * After a missed marker the receiver first looks for an exact marker within
 * slipWindowBytes of where it was expected (octets lost or inserted: a slip) and
 * re-aligns there. Frames are handed on in every state; the FECF is the final judge.
 */
export interface FrameSyncConfig {
  /** Transfer frame length without the marker. */
  frameLengthBytes: number;
  maxMarkerBitErrors?: number;
  searchMarkerBitErrors?: number;
  verifyMarkers?: number;
  flywheelFrames?: number;
  slipWindowBytes?: number;
}

export type FrameSyncState = 'SEARCH' | 'CHECK' | 'LOCK' | 'FLYWHEEL';

export interface FrameSyncCounters {
  bytesIn: number;
  /** Octets thrown away while searching (at the end of input too: see finish). */
  bytesSkipped: number;
  /** Octets of a last frame cut off by the end of input (see finish). */
  bytesTruncated: number;
  framesOut: number;
  markersExact: number;
  /** Markers accepted with 1..maxMarkerBitErrors wrong bits. */
  markersWithErrors: number;
  markerBitErrors: number;
  markersMissed: number;
  slips: number;
  lockAcquired: number;
  lockLost: number;
}

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** `offset`: where the frame's marker starts in the whole input stream. */
export type FrameSink = (frame: Uint8Array, state: FrameSyncState, offset: number) => void;

export class FrameSynchronizer {
  readonly counters: FrameSyncCounters = {
    bytesIn: 0,
    bytesSkipped: 0,
    bytesTruncated: 0,
    framesOut: 0,
    markersExact: 0,
    markersWithErrors: 0,
    markerBitErrors: 0,
    markersMissed: 0,
    slips: 0,
    lockAcquired: 0,
    lockLost: 0,
  };
  state: FrameSyncState = 'SEARCH';
  private buf: Uint8Array;
  private rd = 0;
  private wr = 0;
  /** Stream offset of buf[0]. */
  private base = 0;
  /** Set by finish: no more octets will come, so a missed marker is judged without look-ahead. */
  private ending = false;
  private confirmed = 0;
  private missed = 0;
  /** Set when the marker at rd was already validated by the search. */
  private markerFound = false;
  private readonly L: number;
  private readonly maxErr: number;
  private readonly searchErr: number;
  private readonly verify: number;
  private readonly flywheel: number;
  private readonly slipWindow: number;

  constructor(cfg: FrameSyncConfig) {
    if (!Number.isInteger(cfg.frameLengthBytes) || cfg.frameLengthBytes < MIN_SYNC_FRAME_BYTES) {
      throw new ProtocolError('FIELD_OUT_OF_RANGE', `frame length ${cfg.frameLengthBytes} below ${MIN_SYNC_FRAME_BYTES}`, { field: 'frameLengthBytes', value: cfg.frameLengthBytes });
    }
    this.L = cfg.frameLengthBytes;
    this.maxErr = cfg.maxMarkerBitErrors ?? 3;
    this.searchErr = cfg.searchMarkerBitErrors ?? 0;
    this.verify = cfg.verifyMarkers ?? 1;
    this.flywheel = cfg.flywheelFrames ?? 2;
    this.slipWindow = cfg.slipWindowBytes ?? 8;
    this.buf = new Uint8Array(Math.max(65536, 4 * (this.L + ASM_BYTES)));
  }

  /**
   * Feeds received octets; `sink` gets each frame (without marker) as a read-only view
   * into the synchroniser's buffer, valid only during the call (copy to keep or modify).
   */
  push(chunk: Uint8Array, sink: FrameSink): void {
    this.counters.bytesIn += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      const space = this.buf.length - this.wr;
      if (space === 0) {
        this.compact();
        continue;
      }
      const n = Math.min(space, chunk.length - off);
      this.buf.set(chunk.subarray(off, off + n), this.wr);
      this.wr += n;
      off += n;
      this.run(sink);
    }
  }

  private compact(): void {
    // Keep a slip window behind the read position so a backward slip can still be found.
    const from = Math.max(0, this.rd - this.slipWindow);
    const keep = this.wr - from;
    if (from === 0) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf.subarray(0, keep));
      this.buf = bigger;
    } else {
      this.buf.copyWithin(0, from, this.wr);
    }
    this.base += from;
    this.rd -= from;
    this.wr = keep;
  }

  private word(i: number): number {
    const b = this.buf;
    return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  }

  /** First position >= from with a marker within `maxErrors`, or -1. */
  private find(from: number, to: number, maxErrors: number): number {
    const b = this.buf;
    const last = Math.min(to, this.wr - ASM_BYTES);
    if (maxErrors === 0) {
      for (let i = from; i <= last; i++) {
        if (b[i] === 0x1a && b[i + 1] === 0xcf && b[i + 2] === 0xfc && b[i + 3] === 0x1d) return i;
      }
      return -1;
    }
    for (let i = from; i <= last; i++) {
      if (popcount32((this.word(i) ^ ASM_WORD) >>> 0) <= maxErrors) return i;
    }
    return -1;
  }

  private run(sink: FrameSink): void {
    const step = ASM_BYTES + this.L;
    const c = this.counters;
    for (;;) {
      if (this.state === 'SEARCH') {
        const i = this.find(this.rd, this.wr, this.searchErr);
        if (i < 0) {
          const keepFrom = Math.max(this.rd, this.wr - (ASM_BYTES - 1));
          c.bytesSkipped += keepFrom - this.rd;
          this.rd = keepFrom;
          return;
        }
        c.bytesSkipped += i - this.rd;
        this.rd = i;
        this.state = 'CHECK';
        this.confirmed = 0;
        this.markerFound = true;
      }
      if (this.wr - this.rd < step) return;
      const errs = popcount32((this.word(this.rd) ^ ASM_WORD) >>> 0);
      const ok = this.markerFound || errs <= this.maxErr;
      if (ok) {
        this.markerFound = false;
        if (errs === 0) c.markersExact++;
        else {
          c.markersWithErrors++;
          c.markerBitErrors += errs;
        }
        this.missed = 0;
        if (this.state === 'CHECK') {
          if (this.confirmed++ >= this.verify) {
            this.state = 'LOCK';
            c.lockAcquired++;
          }
        } else if (this.state === 'FLYWHEEL') {
          this.state = 'LOCK';
        }
        this.emit(sink);
        continue;
      }
      // A slip: an exact marker close to where one was expected.
      if (this.wr - this.rd < step + this.slipWindow && !this.ending) return; // wait for enough octets to look around
      c.markersMissed++;
      const from = Math.max(0, this.rd - this.slipWindow);
      const found = this.find(from, this.rd + this.slipWindow, 0);
      if (found >= 0 && found !== this.rd) {
        c.slips++;
        this.rd = found;
        if (this.state === 'FLYWHEEL') this.state = 'LOCK';
        this.markerFound = true;
        continue;
      }
      if (this.state === 'CHECK') {
        // The marker that started this check was not followed by another: search again.
        this.state = 'SEARCH';
        continue;
      }
      this.missed++;
      if (this.missed > this.flywheel) {
        this.state = 'SEARCH';
        c.lockLost++;
        continue;
      }
      this.state = 'FLYWHEEL';
      this.emit(sink);
    }
  }

  private emit(sink: FrameSink): void {
    const start = this.rd + ASM_BYTES;
    this.rd = start + this.L;
    this.counters.framesOut++;
    sink(this.buf.subarray(start, start + this.L), this.state, this.base + start - ASM_BYTES);
  }

  /**
   * End of input: frames still waiting for look-ahead are handed on, then the octets
   * left are counted, as skipped while searching or as a truncated last frame, so a
   * capture cut mid-frame is never silent. Returns the octets left.
   */
  finish(sink: FrameSink): number {
    this.ending = true;
    this.run(sink);
    const left = this.wr - this.rd;
    if (this.state === 'SEARCH') this.counters.bytesSkipped += left;
    else this.counters.bytesTruncated += left;
    this.rd = this.wr;
    return left;
  }
}
