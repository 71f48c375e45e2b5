/**
 * The detections' way from the sampler to the ground station's sifting, as both pass
 * engines (world.ts, physics-pass.ts) run it: true pulse indices → the ground's time
 * tagger (ground-clock arrival times with clock offset, drift, Doppler and jitter, and
 * the sync pulses) → the ground's time sync (acquire, track, back to pulse indices in
 * the coincidence window) → time tags for Bob.
 */
import { TimeSync, type TimeSyncConfig, type TimeSyncStats } from '../../boards/ground/time-sync.ts';
import { LightTime } from '../../boards/sim/light-time.ts';
import type { PulseSchedule } from '../../boards/sim/pulse-schedule.ts';
import { DEFAULT_TIME_TAGGER, GroundTimeTagger, type ArrivalTags, type TimeTaggerConfig } from '../../boards/sim/time-tagger.ts';
import type { TimeTagBuffer, TimeTags } from '../../boards/sim/time-tags.ts';
import type { DetectionBatch } from '../../boards/ground/bob.ts';

export interface TimePathOptions {
  /** When each pulse left (the truth the tagger uses; the ground knows it from the payload's frame announcements). */
  schedule: PulseSchedule;
  /** Slant range at whole second `tS` of the pass table, km. */
  rangeKmAtS: (tS: number) => number;
  /** Satellite-clock time of the pass table's second 0, ps. */
  originPs: number;
  pulsesPerFrame: number;
  seed: number;
  tagger?: Partial<TimeTaggerConfig>;
  sync?: TimeSyncConfig;
  /** `disable: ['time-sync']`: the ground maps its nominal clock without tracking. */
  trackingOff?: boolean;
}

export class TimePath {
  readonly tagger: GroundTimeTagger;
  readonly sync: TimeSync;

  constructor(o: TimePathOptions) {
    const config: TimeTaggerConfig = { ...DEFAULT_TIME_TAGGER, ...o.tagger };
    // The true light time, and the one the ground predicts from the pass plan's orbit:
    // the same orbit here (the tracking takes out what a real prediction would miss).
    const light = new LightTime(o.rangeKmAtS, o.originPs);
    const predicted = new LightTime(o.rangeKmAtS, o.originPs);
    this.tagger = new GroundTimeTagger(config, o.schedule, light, o.seed);
    this.sync = new TimeSync(o.schedule, predicted, config.syncEveryPulses, o.pulsesPerFrame, { ...o.sync, disabled: o.trackingOff || o.sync?.disabled });
  }

  /** The source emitted pulses [p0, p1) (the sync laser fires among them). */
  emitted(p0: number, p1: number): void {
    this.tagger.emitted(p0, p1);
  }

  /** The sampler's detections so far (emptied), stamped and resolved: tags for the ground station. */
  take(tags: TimeTagBuffer): TimeTags {
    return this.resolve(this.stamp(tags));
  }

  /** take's first half, the tagger: the sampler's detections (emptied) as ground-clock stamps (the tagger's arrays, valid until the next stamp). */
  stamp(tags: TimeTagBuffer): ArrivalTags {
    return this.tagger.take(tags);
  }

  /** take's second half, the ground's time sync: stamps back to tags by pulse index. */
  resolve(arrivals: ArrivalTags): TimeTags {
    return this.sync.resolve(arrivals);
  }

  /** resolve straight to Bob's form (pulse index, basis, bit): the same tags. */
  resolveDetections(arrivals: ArrivalTags): DetectionBatch {
    return this.sync.resolveDetections(arrivals);
  }

  get stats(): TimeSyncStats {
    return this.sync.stats;
  }
}
