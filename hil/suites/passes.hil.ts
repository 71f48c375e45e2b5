import { describe, expect } from 'vitest';
import { decodePacket } from '../../protocols/dictionary/index.ts';
import { useBench } from '../fixture.ts';
import { recordMetrics } from '../metrics.ts';
import { RIG_BOARDS, runMissionPass, type MissionPassResult } from '../mission/index.ts';
import { writeMissionReportData } from '../report/mission-data.ts';

/**
 * Passes over Beijing with everything in the loop (docs/mission.md): the firmware on
 * emulated boards over board links, the pass plan by telecommand, the source's real
 * frame schedule through the channel, distillation over the optical link.
 */
const ctx = useBench({ boards: [...RIG_BOARDS], suite: import.meta.filename });
/**
 * The mission pass runs its world (orbit, channel, detectors) against in-process
 * emulators, on the same lines and seed as the bench's: on a bench with other lines
 * each pass is reported skipped with the reason (until the pass runs in lockstep on them).
 */
const pass = ctx.needs('emulator');

function report(name: string, r: MissionPassResult, seed: number): void {
  const s = r.summary;
  recordMetrics({
    durationS: s.durationS,
    maxElevationDeg: s.maxElevationDeg,
    lossDbMin: s.lossDbMin,
    lossDbMax: s.lossDbMax,
    qber: s.qber,
    finalKeyBits: s.finalKeyBits,
    pointingRmsUrad: s.pointingRmsUrad,
  });
  writeMissionReportData(import.meta.filename, name, seed, r);
}

const eventsNamed = (r: MissionPassResult, name: string) => r.tm.filter((t) => decodePacket(t.bytes).name === name);

function expectSoundDistillation(r: MissionPassResult): void {
  const s = r.summary;
  expect(s.keysEqual).toBe(true);
  expect(s.frames.allAccounted).toBe(true);
  expect(s.frames.contiguous).toBe(true);
  for (const dir of [s.link.distillation.down, s.link.distillation.up]) {
    expect(dir.delivered).toBe(dir.messages);
    expect(dir.duplicates + dir.outOfOrder + dir.crcErrors + dir.malformed).toBe(0);
  }
}

describe('passes over Beijing', () => {
  pass('nominal pass: OFF to QKD to STANDBY, key in the published class at 1-3 % QBER', () => {
    const r = runMissionPass({ station: 'beijing', seed: ctx.bench.seed });
    const s = r.summary;
    const modes = s.modeTimeline.map((m) => `${m.from}->${m.to}`);
    expect(modes).toContain('FINE_POINTING->QKD');
    expect(modes.at(-1)).toBe('QKD->STANDBY');
    expect(s.finalKeyBits).toBeGreaterThanOrEqual(250_000);
    expect(s.finalKeyBits).toBeLessThanOrEqual(1_100_000);
    expect(s.qber).toBeGreaterThanOrEqual(0.01);
    expect(s.qber).toBeLessThanOrEqual(0.03);
    expect(s.lossDbMin).toBeGreaterThan(30);
    expect(s.lossDbMax).toBeLessThan(55);
    expectSoundDistillation(r);
    report('nominal', r, ctx.bench.seed);
  }, 240_000);

  pass('lock loss mid-pass: emission pauses, the loop re-locks, key still delivered', () => {
    const r = runMissionPass({ station: 'beijing', seed: ctx.bench.seed, durationS: 60, lockLoss: { atS: 25, durationS: 1.2 } });
    expect(eventsNamed(r, 'FINE_LOCK_LOST').length).toBeGreaterThanOrEqual(1);
    expect(eventsNamed(r, 'FINE_LOCK_ACQUIRED').length).toBeGreaterThanOrEqual(2);
    expect(r.summary.frames.byReason.PAUSED_LOCK).toBeGreaterThanOrEqual(1);
    expect(r.summary.finalKeyBits).toBeGreaterThan(0);
    expectSoundDistillation(r);
    report('lock loss', r, ctx.bench.seed);
  }, 240_000);

  pass('injected link errors: frames lost and repeated, every distillation message exactly once', () => {
    const r = runMissionPass({
      station: 'beijing',
      seed: ctx.bench.seed,
      durationS: 60,
      linkErrors: { berZenith: 2e-6, burstRatePerS: 0.5, dropout: { atS: 20, durationS: 1.5 } },
    });
    expect(r.summary.link.groundFecfErrors).toBeGreaterThan(0);
    expect(r.summary.link.reliableRetransmissions + r.summary.link.fopRetransmissions).toBeGreaterThan(0);
    expect(r.summary.finalKeyBits).toBeGreaterThan(0);
    expectSoundDistillation(r);
    report('link errors', r, ctx.bench.seed);
  }, 240_000);
});
