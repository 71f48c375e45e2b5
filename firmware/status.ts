import type { BankName } from './hal.ts';

/**
 * Live values the concurrent parts publish for each other and for housekeeping
 * (the fine loop's lock and statistics, the source's frame counters). One writer per
 * field; everyone else only reads.
 */
export interface PayloadStatus {
  // fine pointing (writer: fine loop)
  fineLock: boolean;
  /** Payload-clock ms since which the engaged fine loop has been without lock; null when locked or not engaged. */
  unlockedSinceMs: number | null;
  fsmXUrad: number;
  fsmYUrad: number;
  lastErrorUrad: number;
  // acquisition (writer: beacon search / fine loop offload)
  bodyOffsetXUrad: number;
  bodyOffsetYUrad: number;
  // source (writer: calibration and frame scheduler)
  intensityDriveScale: number;
  calibrated: boolean;
  emitting: boolean;
  frameNumber: number;
  pulsesSent: number;
  framesAccounted: number;
  /** Why an open frame is being stopped from outside (FDIR sets FAULT before going SAFE). */
  stopReason: 'STOPPED' | 'FAULT';
  // pass (writer: pass timers)
  passActive: boolean;
  elevationDeg: number;
  // config (writer: boot / FDIR)
  configBank: BankName | null;
  bootMs: number;
}

export function createStatus(): PayloadStatus {
  return {
    fineLock: false,
    unlockedSinceMs: null,
    fsmXUrad: 0,
    fsmYUrad: 0,
    lastErrorUrad: 0,
    bodyOffsetXUrad: 0,
    bodyOffsetYUrad: 0,
    intensityDriveScale: 1,
    calibrated: false,
    emitting: false,
    frameNumber: 0,
    pulsesSent: 0,
    framesAccounted: 0,
    stopReason: 'STOPPED',
    passActive: false,
    elevationDeg: 0,
    configBank: null,
    bootMs: 0,
  };
}

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
