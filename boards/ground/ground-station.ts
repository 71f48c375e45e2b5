/**
 * The emulated optical ground station: its time tags, resolved to pulse indices by its
 * time sync (time-sync.ts, from the tagger's arrival times), come in as detector
 * outcomes and feed Bob's half of distillation. It holds no source seed and sees Alice
 * only through the classical channel.
 */
import { BobDistiller, type BobOptions, type DetectionBatch } from './bob.ts';
import type { TimeTags } from '../sim/time-tags.ts';

export class GroundStation {
  readonly bob: BobDistiller;
  detections = 0;

  constructor(
    readonly name: string,
    options: BobOptions,
  ) {
    this.bob = new BobDistiller(options);
  }

  /** Time tags of one reporting period (ascending in time). */
  receiveTimeTags(tags: TimeTags): void {
    const { frameNumber, offsetInFrame, detector, pulsesPerFrame } = tags;
    const n = frameNumber.length;
    const pulseIndex = new Float64Array(n);
    const basis = new Uint8Array(n);
    const bit = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      pulseIndex[i] = frameNumber[i] * pulsesPerFrame + offsetInFrame[i];
      const d = detector[i];
      basis[i] = d >>> 1;
      bit[i] = d & 1;
    }
    this.receiveDetections({ pulseIndex, basis, bit });
  }

  /** The same, already by pulse index (the time sync's resolveDetections): Bob's report as it is. */
  receiveDetections(batch: DetectionBatch): void {
    this.detections += batch.pulseIndex.length;
    this.bob.submitDetections(batch);
  }
}
