import type { SourceFrameReport, SourcePattern, SourcePort } from '../../firmware/hal.ts';
import { BoundPort } from './ports-base.ts';

/** Photon energy at 850 nm (J): the monitor photodiode reading is optical power. */
const PHOTON_J_850NM = 2.337e-19;
/** The monitor tap: photodiode power = source output x 1e6 (60 dB), reported in uW. */
const PD_UW_PER_W = 1e6 * 1e6;

/** One source frame as the output gate let it out: pulses [frameNumber * P, frameNumber * P + pulses). */
export interface EmittedFrame {
  frameNumber: number;
  /** Mission-clock ms the gate opened and closed. */
  startMs: number;
  stopMs: number | null;
  /** Pulses the frame was started with, and the rate. */
  pulsesPlanned: number;
  ratePerMs: number;
  ended: boolean;
}

export function pulsesBy(f: EmittedFrame, tMs: number): number {
  const end = f.stopMs === null ? tMs : Math.min(tMs, f.stopMs);
  if (end <= f.startMs) return 0;
  // The epsilon keeps a frame that ran its whole duration (start + pulses / rate, in float ms) at its full count.
  return Math.min(f.pulsesPlanned, Math.floor((end - f.startMs) * f.ratePerMs + 1e-6));
}

/**
 * SourcePort over the qsrc board. Laser temperature, intensity modulator and pattern
 * registers are written over the board link; laser temperature, monitor photodiode and
 * QRNG health come from the telemetry stream (a fresh MONITOR_PD_UW read follows every
 * intensity change, so the calibration loop never works on a stale sample).
 *
 * The qsrc board has no per-frame gate registers (frame number, pulses sent, frame
 * done): its pattern generator runs freely with a frame counter. Until it has them,
 * this port models the output gate: a frame opens when the board acknowledges its
 * FRAME_PULSES write, emits at the repetition rate, and closes after exactly the
 * planned pulses or when stopFrame() is called. `emitted` is that schedule, which the
 * channel simulation samples detections from.
 */
export class QsrcPort extends BoundPort implements SourcePort {
  readonly board = 'qsrc' as const;
  readonly emitted: EmittedFrame[] = [];
  private pattern: SourcePattern = { repRateMhz: 625, pSignal: 0.5, pDecoy: 0.25, pVacuum: 0.25, pKeyBasis: 0.5 };
  private levels = { signalMu: 0.8, decoyMu: 0.1, vacuumMu: 0 };
  private current: EmittedFrame | null = null;
  private pendingStop = false;
  private endTimer: unknown = null;
  private rngFailures = 0;

  private subscribed = false;

  protected startUp(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    this.client.onTelemetry((s) => {
      if (s.values.RNG_HEALTH === 1) this.rngFailures++;
    });
  }

  override reset(): void {
    this.rngFailures = 0;
    super.reset();
  }

  setLaserTempSetpointC(tempC: number): void {
    this.client.write({ LASER_TEMP_SET_C: tempC, TEC_ENABLE: 1 });
  }

  laserTempC(): number {
    return this.client.value('LASER_TEMP_C', 20);
  }

  configurePattern(pattern: SourcePattern): void {
    this.pattern = { ...pattern };
    this.client.write({ REP_RATE_MHZ: pattern.repRateMhz, LASER_ENABLE: 1, PATTERN_ENABLE: 1 });
  }

  setIntensityLevels(levels: { signalMu: number; decoyMu: number; vacuumMu: number }): void {
    this.levels = { ...levels };
    this.client.write({ IM_SIGNAL_MU: levels.signalMu, IM_DECOY_MU: levels.decoyMu, IM_VACUUM_MU: levels.vacuumMu });
    this.client.read(['MONITOR_PD_UW']);
  }

  monitorSignalMu(): number {
    const pdUw = this.client.value('MONITOR_PD_UW');
    const p = this.pattern;
    const meanMu = pdUw / (p.repRateMhz * 1e6 * PHOTON_J_850NM * PD_UW_PER_W);
    const s = this.levels.signalMu;
    if (!(s > 0)) return 0;
    // The photodiode sees the mean over the pattern; the levels' ratios are what was written.
    const perSignal = p.pSignal + (p.pDecoy * this.levels.decoyMu) / s + (p.pVacuum * this.levels.vacuumMu) / s;
    return meanMu / perSignal;
  }

  rngHealthFailures(): number {
    return this.rngFailures;
  }

  startFrame(frameNumber: number, pulses: number): void {
    this.closeGate();
    const f: EmittedFrame = { frameNumber, startMs: Infinity, stopMs: null, pulsesPlanned: pulses, ratePerMs: this.pattern.repRateMhz * 1000, ended: false };
    this.current = f;
    this.pendingStop = false;
    this.emitted.push(f);
    this.client.write({ FRAME_PULSES: Math.min(pulses, 4_000_000_000) }, (r) => {
      if (this.current !== f) return;
      if (!r || r.status !== 'OK' || this.pendingStop) {
        // The gate never opened.
        f.startMs = this.clock.now();
        f.stopMs = f.startMs;
        f.ended = true;
        return;
      }
      f.startMs = this.clock.now();
      const durMs = pulses / f.ratePerMs;
      this.endTimer = this.clock.setTimeout(() => {
        this.endTimer = null;
        if (f.stopMs === null) {
          f.stopMs = f.startMs + durMs;
          f.ended = true;
        }
      }, durMs);
    });
  }

  private closeGate(): void {
    const f = this.current;
    if (!f || f.ended) return;
    if (f.startMs === Infinity) {
      this.pendingStop = true;
      return;
    }
    f.stopMs = this.clock.now();
    f.ended = true;
    if (this.endTimer !== null) this.clock.clearTimeout(this.endTimer);
    this.endTimer = null;
  }

  stopFrame(): void {
    this.closeGate();
  }

  frameReport(): SourceFrameReport | null {
    const f = this.current;
    if (!f) return null;
    return { frameNumber: f.frameNumber, pulsesEmitted: f.startMs === Infinity ? 0 : pulsesBy(f, this.clock.now()), ended: f.ended };
  }

  /** Every pulse the gate let out so far. */
  pulsesEmittedTotal(): number {
    const now = this.clock.now();
    let n = 0;
    for (const f of this.emitted) n += f.startMs === Infinity ? 0 : pulsesBy(f, now);
    return n;
  }
}
