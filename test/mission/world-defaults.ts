import { DEFAULT_CHANNEL } from '../../boards/sim/channel.ts';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE } from '../../boards/sim/detection.ts';
import type { MissionWorldOptions } from '../../hil/mission/world.ts';
import { memoryChannelPair } from '../../qkd/channel.ts';
import { DEFAULT_DISTILL_CONFIG } from '../../qkd/config.ts';
import { KeyPool } from '../../qkd/pool.ts';

/** What the world tests share: default optics, detectors and source, fixed seeds, a ground station with a small pre-shared pool. */
export function worldDefaults(): Omit<MissionWorldOptions, 'env' | 'timeline' | 'geo' | 'emitting' | 'emitted'> {
  const pool = new KeyPool('ground');
  pool.add('psk', new Uint32Array(64), 2048, 'psk');
  return {
    loopPeriodMs: 5,
    channel: DEFAULT_CHANNEL,
    detector: DEFAULT_DETECTOR,
    source: DEFAULT_SOURCE,
    sourceSeed: 1,
    detectionSeed: 2,
    ground: { name: 'test', config: DEFAULT_DISTILL_CONFIG, channel: memoryChannelPair().bob, pool, sessionId: 't', rngSeed: 3 },
    beaconBiasUrad: { x: 0, y: 0 },
    isolationTauS: 0.3,
    beaconMarginDb: 10,
  };
}
