import { describe, expect } from 'vitest';
import { decodePacket } from '../../protocols/dictionary/index.ts';
import { withFreshBench } from '../bench/fresh-bench.ts';
import { emulatorMissing, useBench } from '../fixture.ts';
import { recordMetrics } from '../metrics.ts';
import { RIG_BOARDS, runMissionPassOnBench, type MissionPassOptions, type MissionPassResult } from '../mission/index.ts';
import { writeMissionReportData } from '../report/mission-data.ts';

/**
 * Passes over Beijing with everything in the loop (docs/mission.md): the firmware on
 * the bench's boards over their board links, the pass plan by telecommand, the source's
 * real frame schedule through the channel, distillation over the optical link.
 */
const ctx = useBench({ boards: [...RIG_BOARDS], suite: import.meta.filename });
/**
 * Each pass runs with the payload hosted on the suite's bench (runMissionPassOnBench):
 * in-process emulators, lockstep hosts, or emulator processes on ptys in lockstep. The
 * pass is planned on bench time from power-on and gives the boards its world by SIM
 * requests, so it needs simulated time on boards the bench emulates itself; elsewhere
 * (real boards, TCP) each pass is reported skipped with the reason.
 */
const pass = ctx.needs('sim-time');
/** In-process a pass takes seconds; in lockstep on ptys it runs at about real time (docs/bench.md), ~400 s simulated for the nominal one. */
const PASS_TIMEOUT_MS = emulatorMissing(RIG_BOARDS) === null ? 240_000 : 1_800_000;

/** One pass on a fresh bench like the suite's (same config, seed, boards): the same pass whether it runs alone (-t) or after the others. */
function passOnBench(name: string, options: MissionPassOptions): Promise<MissionPassResult> {
  return withFreshBench(ctx.bench, name, (bench) => runMissionPassOnBench(bench, options));
}

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
  pass('nominal pass: OFF to QKD to STANDBY, key in the published class at 1-3 % QBER', async () => {
    const r = await passOnBench('nominal', { station: 'beijing', seed: ctx.bench.seed });
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
  }, PASS_TIMEOUT_MS);

  pass('lock loss mid-pass: emission pauses, the loop re-locks, key still delivered', async () => {
    const r = await passOnBench('lock-loss', { station: 'beijing', seed: ctx.bench.seed, durationS: 60, lockLoss: { atS: 25, durationS: 1.2 } });
    expect(eventsNamed(r, 'FINE_LOCK_LOST').length).toBeGreaterThanOrEqual(1);
    expect(eventsNamed(r, 'FINE_LOCK_ACQUIRED').length).toBeGreaterThanOrEqual(2);
    expect(r.summary.frames.byReason.PAUSED_LOCK).toBeGreaterThanOrEqual(1);
    expect(r.summary.finalKeyBits).toBeGreaterThan(0);
    expectSoundDistillation(r);
    report('lock loss', r, ctx.bench.seed);
  }, PASS_TIMEOUT_MS);

  pass('injected link errors: frames lost and repeated, every distillation message exactly once', async () => {
    const r = await passOnBench('link-errors', {
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
  }, PASS_TIMEOUT_MS);
});
