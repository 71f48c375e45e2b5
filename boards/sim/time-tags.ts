/**
 * Time tags by pulse: source frame number, pulse offset inside the frame, and which
 * detector clicked (basis * 2 + bit); pulseIndex = frameNumber * pulsesPerFrame +
 * offsetInFrame. The sampler writes true pulse indices; what the ground's tagger really
 * stamps are arrival times (time-tagger.ts), and these tags are what the ground's time
 * sync (boards/ground/time-sync.ts) makes of them for Bob.
 */

import { NOT_RECORDED, type SettingsRecord } from '../../qkd/settings.ts';

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

/**
 * Growable buffer the sampler appends to; `take` hands out and resets. It holds pulse
 * indices and detector ids; frame numbers and offsets are formed once, in `take`.
 */
export class TimeTagBuffer {
  /** Pulse index of each tag (the sampler writes these directly). */
  pulseBuffer = new Float64Array(1 << 14);
  /** Detector id (basis * 2 + bit) of each tag. */
  detectorBuffer = new Uint8Array(1 << 14);
  /**
   * The source's side, never the ground's: the packed settings (qkd/settings.ts) the
   * sampler looked up for each tag's pulse, NOT_RECORDED where it did not. Alice's record
   * (SettingsRecord), so she need not hash those pulses again.
   */
  settingsBuffer = new Uint8Array(1 << 14);
  length = 0;

  constructor(readonly pulsesPerFrame: number) {
    if (!Number.isInteger(pulsesPerFrame) || pulsesPerFrame < 1) throw new RangeError('pulsesPerFrame must be a positive integer');
  }

  /** Double the capacity, keeping the first `length` tags. */
  grow(): void {
    const pulse = new Float64Array(this.pulseBuffer.length * 2);
    pulse.set(this.pulseBuffer.subarray(0, this.length));
    const det = new Uint8Array(this.detectorBuffer.length * 2);
    det.set(this.detectorBuffer.subarray(0, this.length));
    const settings = new Uint8Array(this.settingsBuffer.length * 2);
    settings.set(this.settingsBuffer.subarray(0, this.length));
    this.pulseBuffer = pulse;
    this.detectorBuffer = det;
    this.settingsBuffer = settings;
  }

  /** Make room for `n` more tags (writers that fill pulseBuffer/detectorBuffer directly). */
  reserve(n: number): void {
    while (this.length + n > this.pulseBuffer.length) this.grow();
  }

  push(pulseIndex: number, basis: number, bit: number): void {
    if (this.length === this.pulseBuffer.length) this.grow();
    this.pulseBuffer[this.length] = pulseIndex;
    this.detectorBuffer[this.length] = (basis << 1) | bit;
    this.settingsBuffer[this.length] = NOT_RECORDED;
    this.length++;
  }

  /** The source's record of the tags so far (copies; call before take, which empties the buffer). */
  settingsRecord(): SettingsRecord {
    return { pulseIndex: this.pulseBuffer.slice(0, this.length), settings: this.settingsBuffer.slice(0, this.length) };
  }

  take(): TimeTags {
    const n = this.length;
    const ppf = this.pulsesPerFrame;
    const frameNumber = new Uint32Array(n);
    const offsetInFrame = new Uint32Array(n);
    const pulse = this.pulseBuffer;
    // A power-of-two frame length (the default 2^20) divides exactly by its reciprocal.
    const inv = (ppf & (ppf - 1)) === 0 && ppf <= 2 ** 30 ? 1 / ppf : 0;
    for (let i = 0; i < n; i++) {
      const p = pulse[i];
      const f = inv > 0 ? Math.floor(p * inv) : Math.floor(p / ppf);
      frameNumber[i] = f;
      offsetInFrame[i] = p - f * ppf;
    }
    const out: TimeTags = { pulsesPerFrame: ppf, frameNumber, offsetInFrame, detector: this.detectorBuffer.slice(0, n) };
    this.length = 0;
    return out;
  }
}
