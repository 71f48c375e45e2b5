/**
 * The emulated optical ground station: its time tags, resolved to pulse indices by its
 * time sync (time-sync.ts, from the tagger's arrival times), come in as detector
 * outcomes and feed Bob's half of distillation. It holds no source seed and sees Alice
 * only through the classical channel.
 */
import { BobDistiller, type BobOptions, type DetectionBatch } from './bob.ts';

export class GroundStation {
  readonly bob: BobDistiller;
  detections = 0;

  constructor(
    readonly name: string,
    options: BobOptions,
  ) {
    this.bob = new BobDistiller(options);
  }

  /** One reporting period's detections by pulse index, ascending (the time sync's resolveDetections): Bob's report as it is. */
  receiveDetections(batch: DetectionBatch): void {
    this.detections += batch.pulseIndex.length;
    this.bob.submitDetections(batch);
  }
}
