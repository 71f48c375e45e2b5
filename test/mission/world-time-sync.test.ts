import { describe, expect, it } from 'vitest';
import { DEFAULT_SOURCE, type SliceConditions } from '../../boards/sim/detection.ts';
import type { DetectionBatch } from '../../boards/ground/bob.ts';
import type { BoardEnvironment } from '../../hil/mission/board-environment.ts';
import type { EmittedFrame } from '../../hil/mission/ports-qsrc.ts';
import { MissionWorld, type MissionWorldOptions } from '../../hil/mission/world.ts';
import { worldDefaults } from './world-defaults.ts';

const PPF = DEFAULT_SOURCE.pulsesPerFrame;
const PASS_START_MS = 1000;

/** Steady environment: attitude and mirror at rest. */
const env: BoardEnvironment = {
  attitudeMrad: () => ({ targetX: 0, targetY: 0, x: 0, y: 0 }),
  fsmPositionUrad: () => ({ x: 0, y: 0 }),
  setBeacon: () => {},
  setBeaconLossDb: () => {},
  setLinkLoss: () => {},
};

/**
 * The world over 200 ms of gated frames (2^20 pulses each, opened at whole ms, a 30 ms
 * gap in the middle) at a range closing at 5 km/s; returns the true detection indices
 * and what the ground station received.
 */
function run(o: Partial<MissionWorldOptions>): { truth: number[]; got: number[]; world: MissionWorld; conditions: SliceConditions[] } {
  const emitted: EmittedFrame[] = [];
  let startMs = PASS_START_MS;
  for (let n = 0; n < 80; n++) {
    const durMs = PPF / 625_000;
    emitted.push({ frameNumber: 7 + n, startMs, stopMs: startMs + durMs, pulsesPlanned: PPF, ratePerMs: 625_000, ended: true });
    startMs = Math.ceil(startMs + durMs) + (n === 40 ? 30 : 0);
  }
  const world = new MissionWorld({
    env,
    timeline: { leadS: 1, passStartMs: PASS_START_MS, passEndMs: 11_000, linkEndMs: 13_000, epochOffsetS: 0 },
    geo: { at: (tS) => ({ rangeKm: 900 - 5 * tS, elevationDeg: 50 }) },
    ...worldDefaults(),
    emitting: () => true,
    emitted,
    ...o,
  });
  const truth: number[] = [];
  const got: number[] = [];
  const conditions: SliceConditions[] = [];
  const sample = world.sampler.sample.bind(world.sampler);
  world.sampler.sample = (p0, p1, eta, c = {}) => {
    conditions.push({ ...c });
    sample(p0, p1, eta * 50, c); // a bright link: enough detections in 200 ms
  };
  const stamp = world.timePath.stamp.bind(world.timePath);
  world.timePath.stamp = (tags) => {
    for (let i = 0; i < tags.length; i++) truth.push(tags.pulseBuffer[i]);
    return stamp(tags);
  };
  const receive = world.ground.receiveDetections.bind(world.ground);
  world.ground.receiveDetections = (batch: DetectionBatch) => {
    for (let i = 0; i < batch.pulseIndex.length; i++) got.push(batch.pulseIndex[i]);
    receive(batch);
  };
  for (let now = PASS_START_MS + 10; now <= PASS_START_MS + 200; now += 10) world.slice(now);
  world.flushTimeTags();
  return { truth, got, world, conditions };
}

describe('the mission world: time tags through the tagger and time sync, the polarisation frame', () => {
  it('the ground gets every detection back on its own pulse of the gated frames (zero jitter), having acquired the offset', () => {
    const { truth, got, world } = run({ timeTagger: { jitterPs: 0, clockOffsetPs: -0.6e9, clockDrift: 0 } });
    expect(truth.length).toBeGreaterThan(1000);
    expect(got).toEqual(truth);
    expect(world.timePath.stats.acquired).toBe(true);
    expect(Math.abs(world.timePath.stats.acquiredOffsetPs + 0.6e9)).toBeLessThan(1e3);
  });

  it('with time sync disabled the ground maps its nominal clock: the indices are wrong', () => {
    const { truth, got, world } = run({ timeTrackingOff: true });
    expect(world.timePath.stats.acquired).toBe(false);
    const right = new Set(truth);
    expect(got.filter((g) => right.has(g)).length).toBeLessThan(0.01 * truth.length);
  });

  it("hands each slice's polarisation error to the sampler at the slice's mid pass time", () => {
    const seen: number[] = [];
    const { conditions } = run({ polarisationErrorProb: (tS) => (seen.push(tS), 0.01 + tS) });
    expect(seen[0]).toBeCloseTo(0.005, 9);
    expect(conditions[0].polarisationErrorProb).toBeCloseTo(0.015, 9);
    const none = run({}).conditions;
    expect(none[0].polarisationErrorProb).toBeUndefined();
  });
});
