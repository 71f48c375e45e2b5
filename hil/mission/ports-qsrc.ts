import type { Environment } from '../../boards/emulator/index.ts';
import { qsrcEmittedMu } from '../../boards/emulator/models.ts';
import type { SourceFrameReport, SourcePattern, SourcePort } from '../../firmware/hal.ts';
import type { Triple } from '../../qkd/keyrate.ts';
import { BoundPort } from './ports-base.ts';

/** Photon energy at 850 nm (J): the monitor photodiode reading is optical power. */
const PHOTON_J_850NM = 2.337e-19;
/** The monitor tap: photodiode power = source output x 1e6 (60 dB), reported in uW. */
const PD_UW_PER_W = 1e6 * 1e6;

/** One source frame as the output gate let it out: pulses [frameNumber * P, frameNumber * P + pulses). */
export interface EmittedFrame {
  frameNumber: number;
  /** Mission-clock ms the gate opened (Infinity while armed) and closed. */
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

/** A frame armed on the board and not yet opened. */
interface ArmedFrame {
  frame: EmittedFrame;
  /** When the gate is to open (the sync boundary), payload-clock ms. */
  startAtMs: number;
  /** When the board acknowledged the arm command; null while it is on the line. */
  ackMs: number | null;
  openTimer: unknown;
}

/**
 * SourcePort over the qsrc board. Laser temperature, intensity modulator and pattern
 * registers are written over the board link; laser temperature, monitor photodiode and
 * QRNG health come from the telemetry stream (a fresh MONITOR_PD_UW read follows every
 * intensity change, so the calibration loop never works on a stale sample).
 *
 * The qsrc board has no per-frame gate registers (frame number, start time, pulses
 * sent, frame done): its pattern generator runs freely with a frame counter. Until it
 * has them, this port models the board's double-buffered output gate: startFrame arms a
 * frame with a FRAME_PULSES write; the gate opens at the frame's start time by the
 * board's clock (the shared payload clock) if the board acknowledged the write by then,
 * else at the acknowledgement (a late command), and never before the emitting frame
 * ends; it closes after exactly the planned pulses or when stopFrame() is called, which
 * also withdraws an armed frame. `emitted` is that schedule (frames that opened or are
 * armed, in order), which the channel simulation samples detections from.
 */
export class QsrcPort extends BoundPort implements SourcePort {
  readonly board = 'qsrc' as const;
  readonly emitted: EmittedFrame[] = [];
  private pattern: SourcePattern = { repRateMhz: 625, pSignal: 0.5, pDecoy: 0.25, pVacuum: 0.25, pKeyBasis: 0.5 };
  private levels = { signalMu: 0.8, decoyMu: 0.1, vacuumMu: 0 };
  /** The frame whose gate opened last (emitting, or ended). */
  private current: EmittedFrame | null = null;
  private endTimer: unknown = null;
  private armed: ArmedFrame | null = null;
  /** The last frame withdrawn or refused before it opened. */
  private unopened: number | null = null;
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

  /**
   * The intensities emitted as far as the monitor tells: the levels written, scaled by
   * the monitor's signal reading over the written signal level (the monitor's own
   * error included: all a bench knows of a source it cannot look inside).
   */
  emittedMuFromMonitor(): Triple {
    const l = this.levels;
    const scale = l.signalMu > 0 ? this.monitorSignalMu() / l.signalMu : 0;
    return [l.signalMu * scale, l.decoyMu * scale, l.vacuumMu * scale];
  }

  rngHealthFailures(): number {
    return this.rngFailures;
  }

  startFrame(frameNumber: number, pulses: number, startAtMs: number): void {
    this.withdraw();
    const f: EmittedFrame = { frameNumber, startMs: Infinity, stopMs: null, pulsesPlanned: pulses, ratePerMs: this.pattern.repRateMhz * 1000, ended: false };
    const armed: ArmedFrame = { frame: f, startAtMs, ackMs: null, openTimer: null };
    this.armed = armed;
    if (this.unopened === frameNumber) this.unopened = null;
    this.emitted.push(f);
    this.client.write({ FRAME_PULSES: Math.min(pulses, 4_000_000_000) }, (r) => {
      if (this.armed !== armed) return;
      if (!r || r.status !== 'OK') {
        // Refused: the gate never opens for it.
        this.withdraw();
        return;
      }
      armed.ackMs = this.clock.now();
      this.scheduleOpen(armed);
    });
  }

  /** Times the armed frame's gate: its start time, but not before the command was taken nor before the emitting frame ends. */
  private scheduleOpen(a: ArmedFrame): void {
    const prev = this.current;
    const prevEndMs = prev && !prev.ended ? prev.startMs + prev.pulsesPlanned / prev.ratePerMs : -Infinity;
    const atMs = Math.max(a.startAtMs, a.ackMs!, prevEndMs);
    a.openTimer = this.clock.setTimeout(() => this.open(a, atMs), atMs - this.clock.now());
  }

  private open(a: ArmedFrame, atMs: number): void {
    if (this.armed !== a) return;
    this.armed = null;
    const prev = this.current;
    // The previous frame ran its whole length by now (its own end timer may share this instant).
    if (prev && !prev.ended) this.endFrame(prev, prev.startMs + prev.pulsesPlanned / prev.ratePerMs);
    const f = a.frame;
    f.startMs = atMs;
    this.current = f;
    const durMs = f.pulsesPlanned / f.ratePerMs;
    this.endTimer = this.clock.setTimeout(() => {
      this.endTimer = null;
      if (!f.ended) this.endFrame(f, f.startMs + durMs);
    }, atMs + durMs - this.clock.now());
  }

  private endFrame(f: EmittedFrame, stopMs: number): void {
    f.stopMs = stopMs;
    f.ended = true;
    if (f === this.current && this.endTimer !== null) {
      this.clock.clearTimeout(this.endTimer);
      this.endTimer = null;
    }
  }

  /** Withdraws the armed frame: it never opens, sends nothing and leaves the schedule. */
  private withdraw(): void {
    const a = this.armed;
    if (!a) return;
    this.armed = null;
    if (a.openTimer !== null) this.clock.clearTimeout(a.openTimer);
    const i = this.emitted.lastIndexOf(a.frame);
    if (i >= 0) this.emitted.splice(i, 1);
    this.unopened = a.frame.frameNumber;
  }

  stopFrame(): void {
    this.withdraw();
    const f = this.current;
    if (f && !f.ended) this.endFrame(f, Math.min(this.clock.now(), f.startMs + f.pulsesPlanned / f.ratePerMs));
  }

  frameReport(frameNumber: number): SourceFrameReport | null {
    if (this.armed?.frame.frameNumber === frameNumber) return { frameNumber, pulsesEmitted: 0, opened: false, ended: false };
    const now = this.clock.now();
    // The frames the firmware still asks about are the last one or two.
    for (let i = this.emitted.length - 1; i >= Math.max(0, this.emitted.length - 3); i--) {
      const f = this.emitted[i];
      if (f.frameNumber === frameNumber && f.startMs !== Infinity) return { frameNumber, pulsesEmitted: pulsesBy(f, now), opened: true, ended: f.ended };
    }
    if (this.unopened === frameNumber) return { frameNumber, pulsesEmitted: 0, opened: false, ended: true };
    return null;
  }

  /** Every pulse the gate let out so far. */
  pulsesEmittedTotal(): number {
    const now = this.clock.now();
    let n = 0;
    for (const f of this.emitted) n += f.startMs === Infinity ? 0 : pulsesBy(f, now);
    return n;
  }
}

/**
 * What the world takes as the source's emitted intensities: an in-process emulator on
 * the world's own clock is looked into (its true output, qsrcEmittedMu); a board over a
 * line (emulator process, lockstep host, real board) only through its monitor, so every
 * line kind gives the same pass.
 */
export function sourceOutput(port: QsrcPort, emulator: { readonly env: Environment; readRegister(name: string): number } | undefined): () => Triple {
  if (emulator) return () => qsrcEmittedMu(emulator) ?? port.emittedMuFromMonitor();
  return () => port.emittedMuFromMonitor();
}
