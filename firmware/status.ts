import type { PayloadMode } from '../protocols/dictionary/index.ts';
import type { BankName } from './hal.ts';
import { modeOf, type ModeSnapshot } from './modes.ts';

/**
 * What the payload status says, from two sources and no third:
 * - `statusOf(snapshot)`: everything the mode machine's state and context decide (mode,
 *   pass, lock, emission, configuration bank, why a frame is stopped), derived, never
 *   written;
 * - `Readings`: running values the hardware actors measure, each with one writer. They
 *   change on every loop tick, so they are not statechart context (a machine event per
 *   1 kHz sample would cost more than the loop).
 */

export interface ModeStatus {
  mode: PayloadMode;
  /** Inside a pass (ON.PASS), from its start to its end or abort. */
  passActive: boolean;
  /** Fine pointing locked (ON.PASS.ENGAGED.QKD.pointing.locked). */
  fineLock: boolean;
  /** Decoy-state source emitting a frame (QKD.source.running.emitting). */
  emitting: boolean;
  /** Bank the configuration in force came from; null before boot and on safe defaults. */
  configBank: BankName | null;
  /** How an open frame stopped from outside ends: FAULT when SAFE came from an FDIR fault. */
  stopReason: 'STOPPED' | 'FAULT';
}

/** The status the mode machine's snapshot implies: the one place these facts come from. */
export function statusOf(s: ModeSnapshot): ModeStatus {
  return {
    mode: modeOf(s),
    passActive: s.matches({ ON: 'PASS' }),
    fineLock: s.matches({ ON: { PASS: { ENGAGED: { QKD: { pointing: 'locked' } } } } }),
    emitting: s.matches({ ON: { PASS: { ENGAGED: { QKD: { source: { running: 'emitting' } } } } } }),
    configBank: s.context.configBank,
    stopReason: s.matches({ ON: 'SAFE' }) && s.context.safeOnFault ? 'FAULT' : 'STOPPED',
  };
}

/** Values the hardware actors measure; the comment on each field names its one writer. */
export interface Readings {
  /** Fast steering mirror command (writer: fine loop). */
  fsmXUrad: number;
  fsmYUrad: number;
  /** Payload-clock ms since which the engaged fine loop has been without lock; null when locked or not engaged (writer: fine loop). */
  unlockedSinceMs: number | null;
  /** Modulator drive scale found by the last good calibration, the next one's start (writer: calibration). */
  intensityDriveScale: number;
  /** Next frame number to start; numbers run on across pauses and passes (writer: frame scheduler). */
  frameNumber: number;
  /** Pulses emitted in accounted frames (writer: frame scheduler). */
  pulsesSent: number;
  /** Station elevation last seen by the frame scheduler (writer: frame scheduler). */
  elevationDeg: number;
  /** Payload-clock ms of the last boot (writer: boot). */
  bootMs: number;
}

export function createReadings(): Readings {
  return { fsmXUrad: 0, fsmYUrad: 0, unlockedSinceMs: null, intensityDriveScale: 1, frameNumber: 0, pulsesSent: 0, elevationDeg: 0, bootMs: 0 };
}

/** The payload status callers read: the snapshot's facts and the actors' readings. */
export type PayloadStatus = ModeStatus & Readings;

/** Mean, RMS and max of the tracking error over a housekeeping interval. */
export class TrackingStats {
  private n = 0;
  private sum = 0;
  private sumSq = 0;
  private max = 0;

  add(errorUrad: number): void {
    this.n++;
    this.sum += errorUrad;
    this.sumSq += errorUrad * errorUrad;
    if (errorUrad > this.max) this.max = errorUrad;
  }

  /** The statistics since the last call, then starts a new interval. */
  take(): { meanUrad: number; rmsUrad: number; maxUrad: number; samples: number } {
    const r =
      this.n === 0
        ? { meanUrad: 0, rmsUrad: 0, maxUrad: 0, samples: 0 }
        : { meanUrad: this.sum / this.n, rmsUrad: Math.sqrt(this.sumSq / this.n), maxUrad: this.max, samples: this.n };
    this.n = 0;
    this.sum = 0;
    this.sumSq = 0;
    this.max = 0;
    return r;
  }
}
