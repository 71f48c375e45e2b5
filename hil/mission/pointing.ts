import { pointingTransmittance, type ChannelConfig } from '../../boards/sim/channel.ts';
import type { AttitudeMrad } from './board-environment.ts';

/** The body line of sight at one sample: the ACS's commanded target and the isolated error about it, urad. */
export interface BodyPointingUrad {
  targetX: number;
  targetY: number;
  jitterX: number;
  jitterY: number;
}

/**
 * The payload's view of the body attitude through its vibration isolation mounts: the
 * ACS's commanded target passes as is, its error about the target (jitter, slew lag) is
 * low-pass filtered with time constant `tauS`, sampled every `periodMs`.
 */
export class IsolatedBody {
  private jitX = 0;
  private jitY = 0;
  private readonly a: number;

  constructor(periodMs: number, tauS: number) {
    this.a = 1 - Math.exp(-periodMs / 1000 / tauS);
  }

  step(att: AttitudeMrad): BodyPointingUrad {
    const tx = att.targetX * 1000;
    const ty = att.targetY * 1000;
    this.jitX += (att.x * 1000 - tx - this.jitX) * this.a;
    this.jitY += (att.y * 1000 - ty - this.jitY) * this.a;
    return { targetX: tx, targetY: ty, jitterX: this.jitX, jitterY: this.jitY };
  }
}

/**
 * The true line-of-sight residual (beacon − mirror) sampled at the fine-loop period
 * while the source emits: per slice, the mean pointing transmittance of its samples
 * (the channel's jitter term); over the pass, the RMS residual.
 */
export class PointingResidual {
  private sliceSq = 0;
  private sliceEta = 0;
  private sliceN = 0;
  private totalSq = 0;
  private totalN = 0;
  /** Mean pointing transmittance of the last slice with samples (1 urad before the first). */
  meanEta: number;

  constructor(private readonly channel: ChannelConfig) {
    this.meanEta = pointingTransmittance(channel, 1);
  }

  add(exUrad: number, eyUrad: number): void {
    const e2 = exUrad * exUrad + eyUrad * eyUrad;
    this.sliceSq += e2;
    this.sliceEta += pointingTransmittance(this.channel, Math.sqrt(e2));
    this.sliceN++;
  }

  /** Closes a slice; returns its mean pointing transmittance (the previous one when it had no samples). */
  endSlice(): number {
    if (this.sliceN > 0) {
      this.meanEta = this.sliceEta / this.sliceN;
      this.totalSq += this.sliceSq;
      this.totalN += this.sliceN;
    }
    this.sliceSq = 0;
    this.sliceEta = 0;
    this.sliceN = 0;
    return this.meanEta;
  }

  /** RMS residual over every closed slice, urad (0 before any sample). */
  get rmsUrad(): number {
    return this.totalN > 0 ? Math.sqrt(this.totalSq / this.totalN) : 0;
  }
}
