import type { SliceConditions } from '../../boards/sim/detection.ts';
import { pulsesBy, type EmittedFrame } from './ports-qsrc.ts';

/**
 * The detections' time base: the frames the source's gate let out (qsrc.emitted, the
 * firmware side), walked slice by slice so that the channel is sampled for exactly the
 * pulses emitted in each slice, at their indices frameNumber × pulsesPerFrame + offset.
 */
export class EmittedPulses {
  /** Pulses handed to the sampler so far. */
  sampled = 0;
  private firstOpen = 0;
  private lastMs = 0;

  constructor(
    private readonly frames: readonly EmittedFrame[],
    private readonly pulsesPerFrame: number,
    private readonly sample: (p0: number, p1: number, eta: number, conditions: SliceConditions) => void,
  ) {}

  /** Samples at transmittance `eta` under `conditions` the pulses emitted since the last call up to `nowMs`; true when there were any. */
  sampleUntil(nowMs: number, eta: number, conditions: SliceConditions = {}): boolean {
    const frames = this.frames;
    let any = false;
    for (let i = this.firstOpen; i < frames.length; i++) {
      const f = frames[i];
      if (f.startMs === Infinity) break;
      const a = pulsesBy(f, this.lastMs);
      const b = pulsesBy(f, nowMs);
      if (b > a) {
        const base = f.frameNumber * this.pulsesPerFrame;
        this.sample(base + a, base + b, eta, conditions);
        this.sampled += b - a;
        any = true;
      }
      // Frames that ended before now are done for good: later slices start after them.
      if (f.ended && (f.stopMs ?? 0) <= nowMs && i === this.firstOpen) this.firstOpen++;
    }
    this.lastMs = nowMs;
    return any;
  }
}
