/**
 * The mission world samples detections at the intensities the source really emits
 * (ports-qsrc.ts sourceOutput): an in-process emulator's true output, else what the
 * monitor tells.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE } from '../../boards/sim/detection.ts';
import type { AttitudeMrad, BoardEnvironment } from '../../hil/mission/board-environment.ts';
import { QsrcPort, sourceOutput, type EmittedFrame } from '../../hil/mission/ports-qsrc.ts';
import { MissionWorld } from '../../hil/mission/world.ts';
import type { Triple } from '../../qkd/keyrate.ts';
import { worldDefaults } from './world-defaults.ts';

const ENV: BoardEnvironment = {
  attitudeMrad: (): AttitudeMrad => ({ targetX: 0, targetY: 0, x: 0, y: 0 }),
  fsmPositionUrad: () => ({ x: 0, y: 0 }),
  setBeacon: () => {},
  setBeaconLossDb: () => {},
  setLinkLoss: () => {},
};

/** Detections of 100 ms of one long frame at 625 MHz, the source emitting `emittedMu` (or nominal). */
function detections(emittedMu?: () => Triple): number {
  const frame: EmittedFrame = { frameNumber: 0, startMs: 0, stopMs: null, pulsesPlanned: 2 ** 30, ratePerMs: 625e3, ended: false };
  const w = new MissionWorld({
    env: ENV,
    timeline: { leadS: 0, passStartMs: 0, passEndMs: 10_000, linkEndMs: 10_000, epochOffsetS: 0 },
    geo: { at: () => ({ rangeKm: 600, elevationDeg: 80 }) },
    ...worldDefaults(),
    detector: { ...DEFAULT_DETECTOR, afterpulseProb: 0 },
    source: { ...DEFAULT_SOURCE, pulsesPerFrame: 2 ** 30 },
    emitting: () => false,
    emitted: [frame],
    emittedMu,
  });
  for (let t = 10; t <= 100; t += 10) w.slice(t);
  return w.sampler.stats.detections;
}

describe('the mission world and the emitted intensities', () => {
  it('samples at the intensities the source emits, not the nominal ones', () => {
    const nominal = detections();
    expect(nominal).toBeGreaterThan(5000);
    expect(detections(() => DEFAULT_SOURCE.mu)).toBe(nominal);
    const half = detections(() => [0.4, 0.05, 0]) / nominal;
    expect(half).toBeGreaterThan(0.45);
    expect(half).toBeLessThan(0.55);
  });

  it('sourceOutput: an emulator is looked into; without one, the monitor scales the written levels', () => {
    const port = Object.create(QsrcPort.prototype) as QsrcPort;
    // The monitor reads 10 % above the written signal level.
    Object.assign(port, { levels: { signalMu: 0.8, decoyMu: 0.1, vacuumMu: 0 }, monitorSignalMu: () => 0.88 });
    const fromMonitor = sourceOutput(port, undefined)();
    expect(fromMonitor[0]).toBeCloseTo(0.88, 12);
    expect(fromMonitor[1]).toBeCloseTo(0.11, 12);
    expect(fromMonitor[2]).toBe(0);
    const notQsrc = { env: { ambientC: 20, beacon: { xUrad: 0, yUrad: 0, visible: false }, link: { lossDb: 35, dropout: false } }, readRegister: () => 0 };
    expect(sourceOutput(port, notQsrc)()[0]).toBeCloseTo(0.88, 12);
  });
});
