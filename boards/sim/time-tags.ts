/**
 * Time tags as the ground station's time-tagger reports them: source frame number,
 * pulse offset inside the frame, and which detector clicked (basis * 2 + bit).
 * pulseIndex = frameNumber * pulsesPerFrame + offsetInFrame.
 */

export interface TimeTags {
  pulsesPerFrame: number;
  frameNumber: Uint32Array;
  offsetInFrame: Uint32Array;
  /** Detector id 0..3 = basis * 2 + bit. */
  detector: Uint8Array;
}

export function pulseIndexOf(pulsesPerFrame: number, frameNumber: number, offsetInFrame: number): number {
  return frameNumber * pulsesPerFrame + offsetInFrame;
}

/** Growable buffer the sampler appends to; `take` hands out and resets. */
export class TimeTagBuffer {
  private frame = new Uint32Array(1 << 14);
  private offset = new Uint32Array(1 << 14);
  private det = new Uint8Array(1 << 14);
  length = 0;

  constructor(readonly pulsesPerFrame: number) {
    if (!Number.isInteger(pulsesPerFrame) || pulsesPerFrame < 1) throw new RangeError('pulsesPerFrame must be a positive integer');
  }

  push(pulseIndex: number, basis: number, bit: number): void {
    if (this.length === this.frame.length) {
      const grow = <T extends Uint32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as { new (n: number): T })(a.length * 2);
        b.set(a);
        return b;
      };
      this.frame = grow(this.frame);
      this.offset = grow(this.offset);
      this.det = grow(this.det);
    }
    const f = Math.floor(pulseIndex / this.pulsesPerFrame);
    this.frame[this.length] = f;
    this.offset[this.length] = pulseIndex - f * this.pulsesPerFrame;
    this.det[this.length] = (basis << 1) | bit;
    this.length++;
  }

  take(): TimeTags {
    const n = this.length;
    const out: TimeTags = {
      pulsesPerFrame: this.pulsesPerFrame,
      frameNumber: this.frame.slice(0, n),
      offsetInFrame: this.offset.slice(0, n),
      detector: this.det.slice(0, n),
    };
    this.length = 0;
    return out;
  }
}
