/**
 * The emitted intensities as a fact of the simulated world: the qsrc emulator's true
 * output (its calibration error, the LASER_DEGRADED drift), the monitor photodiode that
 * reads it with its own error, and the detections that follow it.
 */
import { describe, expect, it } from 'vitest';
import { SimClock, sleep } from '../../boards/clock.ts';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { createEmulator } from '../../boards/emulator/index.ts';
import { qsrcEmittedMu } from '../../boards/emulator/models.ts';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE, DetectionSampler } from '../../boards/sim/detection.ts';
import { CALIBRATION_ERROR_SPREAD_REL, MONITOR_ERROR_SPREAD_REL, calibratedEmittedMu, emittedMu, patternMeanMu, spreadError } from '../../boards/sim/source-intensity.ts';
import { intensityUncertaintyRel } from '../../firmware/source.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { FrameLink } from '../../hil/framing.ts';
import { emulatorTransport } from '../../hil/transport/memory.ts';
import { DEFAULT_DISTILL_CONFIG, checkDistillConfig } from '../../qkd/config.ts';
import { DecoyConditionError } from '../../qkd/decoy-conditions.ts';
import type { Triple } from '../../qkd/keyrate.ts';

/** Photon energy at 850 nm and the monitor tap, as ports-qsrc.ts converts the reading. */
const UW_PER_MU_AT_625MHZ = 625e6 * 2.337e-19 * 1e12;

async function qsrc(seed: number) {
  const clock = new SimClock();
  const emu = createEmulator('qsrc', { clock, seed });
  const t = emulatorTransport(emu, clock);
  await t.open();
  const d = new BoardDriver(loadBoardDefinition('qsrc'), new FrameLink(t, clock), { clock, timeoutMs: 200, retries: 2 });
  await d.write({ LASER_TEMP_SET_C: 25, TEC_ENABLE: 1, LASER_ENABLE: 1, PATTERN_ENABLE: 1, REP_RATE_MHZ: 625, IM_SIGNAL_MU: 0.8, IM_DECOY_MU: 0.1, IM_VACUUM_MU: 0 });
  await sleep(clock, 10_000);
  /** The monitor's mean photon number over the 0.5/0.25/0.25 pattern. */
  const monitorMeanMu = async () => (await d.readReg('MONITOR_PD_UW')) / UW_PER_MU_AT_625MHZ;
  return { clock, emu, d, monitorMeanMu };
}

describe('the qsrc emulator: what the source emits and what its monitor reads', () => {
  it('emits the modulator levels times its own calibration error; the monitor reads that within its own small error', async () => {
    const gains: number[] = [];
    for (const seed of [1, 2, 3, 4]) {
      const { emu, monitorMeanMu } = await qsrc(seed);
      const mu = qsrcEmittedMu(emu)!;
      const gain = mu[0] / 0.8;
      gains.push(gain);
      expect(mu[1] / 0.1).toBeCloseTo(gain, 12);
      expect(mu[2]).toBe(0);
      expect(Math.abs(gain - 1)).toBeLessThanOrEqual(CALIBRATION_ERROR_SPREAD_REL + 1e-3);
      const truthMean = patternMeanMu(mu, [0.5, 0.25, 0.25]);
      // The monitor's error and 0.3 % noise (5 sigma), and the readout's resolution.
      expect(Math.abs((await monitorMeanMu()) / truthMean - 1)).toBeLessThan(MONITOR_ERROR_SPREAD_REL + 0.015 + 0.003);
    }
    // A per-source fact: sources differ.
    expect(new Set(gains.map((g) => g.toFixed(6))).size).toBe(4);
  });

  it('an injected drift (LASER_DEGRADED, as INTENSITY_DRIFT is tested) reaches both the emitted intensities and the monitor', async () => {
    const { clock, emu, d, monitorMeanMu } = await qsrc(5);
    const before = qsrcEmittedMu(emu)!;
    const monitorBefore = await monitorMeanMu();
    await d.sim({ kind: 'FAULT', faultId: d.faultId('LASER_DEGRADED'), active: true });
    await sleep(clock, 100);
    const after = qsrcEmittedMu(emu)!;
    expect(after[0] / before[0]).toBeCloseTo(0.5, 6);
    expect(after[1] / before[1]).toBeCloseTo(0.5, 6);
    expect((await monitorMeanMu()) / monitorBefore).toBeCloseTo(0.5, 1);
    // ... and the detections follow the emitted intensities.
    const clicks = (mu: Triple) => {
      const s = new DetectionSampler(DEFAULT_SOURCE, { ...DEFAULT_DETECTOR, afterpulseProb: 0 }, 1, 2);
      s.sample(0, 1e8, 2e-3, { emittedMu: mu });
      return s.stats.detections;
    };
    const ratio = clicks(after) / clicks(before);
    expect(ratio).toBeGreaterThan(0.46);
    expect(ratio).toBeLessThan(0.54);
  });

  it('is null for another board', () => {
    const emu = createEmulator('apt', { clock: new SimClock(), seed: 1 });
    expect(qsrcEmittedMu(emu)).toBeNull();
  });
});

describe('source-intensity helpers and the stated uncertainty', () => {
  it('spreads errors uniformly within ±spread; a calibrated source emits nominal / (1 + monitor error)', () => {
    expect(spreadError(0, 0.03)).toBeCloseTo(-0.03, 15);
    expect(spreadError(0.5, 0.03)).toBe(0);
    expect(emittedMu([0.8, 0.1, 0], 1.1)).toEqual([0.8 * 1.1, 0.1 * 1.1, 0]);
    const m = calibratedEmittedMu([0.8, 0.1, 0], 0.01);
    // The monitor then reads the nominal level.
    expect(m[0] * 1.01).toBeCloseTo(0.8, 12);
  });

  it('the payload states the drift FDIR tolerates plus its monitor accuracy; the distiller refuses an uncertainty that breaks the decoy conditions', () => {
    expect(intensityUncertaintyRel({ INTENSITY_DRIFT_MAX_PCT: 5 } as never)).toBeCloseTo(0.06, 12);
    expect(DEFAULT_DISTILL_CONFIG.muRelUncertainty).toBeCloseTo(0.06, 12);
    expect(() => checkDistillConfig({ ...DEFAULT_DISTILL_CONFIG, mu: [0.3, 0.14, 0.1], muRelUncertainty: 0.2 })).toThrow(DecoyConditionError);
    expect(checkDistillConfig({ ...DEFAULT_DISTILL_CONFIG, mu: [0.3, 0.14, 0.1], muRelUncertainty: 0 }).mu).toEqual([0.3, 0.14, 0.1]);
  });
});
