import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Bench } from '../../hil/bench/bench.ts';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { inProcessBenchConfig, RIG_BOARDS } from '../../hil/mission/rig.ts';
import { runMissionPass, runMissionPassOnBench } from '../../hil/mission/run.ts';
import type { MissionPassOptions, MissionPassResult } from '../../hil/mission/types.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { toolTier } from '../tiers.ts';

/**
 * The mission pass with the firmware in the loop on a bench (docs/mission.md "On a
 * bench"): the same seed and options give the same key, final key bits and PUS TM bytes
 * whether the boards sit behind lockstep hosts in this process (lockstep.json) or run
 * as emulator processes on ptys in lockstep (pty.json). A short pass, so each bench
 * stays well under a minute.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const SHORT: MissionPassOptions = { station: 'beijing', seed: 1, durationS: 10, leadS: 8, drainS: 10 };
const LONG = 180_000;

async function passOn(benchFile: string): Promise<MissionPassResult> {
  const bench = await Bench.open(loadBenchConfig(join(ROOT, 'hil/benches', benchFile)), { seed: SHORT.seed, boards: [...RIG_BOARDS], capture: false, root: ROOT });
  try {
    return await runMissionPassOnBench(bench, SHORT);
  } finally {
    await bench.close();
  }
}

const tmOf = (r: MissionPassResult) => r.tm.map((t) => `${t.tMs} ${Buffer.from(t.bytes).toString('hex')}`);

describe('the mission pass on a bench', () => {
  it('on an in-process bench sharing its clock it is runMissionPass: same key and TM bytes', async () => {
    const bench = Bench.openInProcess(inProcessBenchConfig(), { seed: 1, boards: [...RIG_BOARDS], capture: false });
    const onBench = await runMissionPassOnBench(bench, SHORT);
    await bench.close();
    const fast = runMissionPass(SHORT);
    expect(onBench.summary.keySha256).toBe(fast.summary.keySha256);
    expect(onBench.summary.finalKeyBits).toBe(fast.summary.finalKeyBits);
    expect(tmOf(onBench)).toEqual(tmOf(fast));
  }, LONG);

  it('refuses a bench on the wall clock, saying why', async () => {
    const bench = await Bench.open({ ...inProcessBenchConfig(), clock: 'wall' }, { seed: 1, boards: [...RIG_BOARDS], capture: false });
    try {
      await expect(runMissionPassOnBench(bench, SHORT)).rejects.toThrow(/needs simulated time: bench 'in-process' runs on the wall clock/);
    } finally {
      await bench.close();
    }
  }, LONG);
});

describe('the mission pass on lockstep hosts in-process (lockstep.json)', () => {
  let r: MissionPassResult;
  beforeAll(async () => {
    r = await passOn('lockstep.json');
  }, LONG);

  it('runs the pass through QKD to key, equal at both ends, the world reaching the boards over their links', () => {
    const s = r.summary;
    expect(s.modeTimeline.map((m) => m.to)).toContain('QKD');
    expect(s.keysEqual).toBe(true);
    expect(s.finalKeyBits).toBeGreaterThan(0);
    // The world's SIM requests (beacon every loop period, link losses every 100 ms) went over the apt and lct links.
    expect(s.boardLinks.apt.requests).toBeGreaterThan(0.9 * s.simS * 200);
    expect(s.boardLinks.lct.requests).toBeGreaterThan(s.simS * 10 - 50);
  });

  describe.runIf(toolTier('mission pass pty tier', ['socat'], socatAvailable()))('and on emulator processes on ptys in lockstep (pty.json)', () => {
    let pty: MissionPassResult;
    beforeAll(async () => {
      pty = await passOn('pty.json');
    }, LONG);

    it('gives the same key, final key bits and PUS TM bytes', () => {
      expect(pty.summary.keySha256).toBe(r.summary.keySha256);
      expect(pty.summary.finalKeyBits).toBe(r.summary.finalKeyBits);
      expect(tmOf(pty)).toEqual(tmOf(r));
    });
  });
});
