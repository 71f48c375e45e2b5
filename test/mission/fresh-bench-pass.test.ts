import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bench } from '../../hil/bench/bench.ts';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { withFreshBench } from '../../hil/bench/fresh-bench.ts';
import { RIG_BOARDS } from '../../hil/mission/rig.ts';
import { runMissionPassOnBench } from '../../hil/mission/run.ts';
import type { MissionPassOptions, MissionPassResult } from '../../hil/mission/types.ts';

/**
 * The passes suite runs each pass on a fresh bench like its own (docs/mission.md "In the
 * suites"): a pass is then the same whether it runs alone (vitest -t) or after others on
 * the same suite bench. A short pass, seconds in-process.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const SHORT: MissionPassOptions = { station: 'beijing', seed: 1, durationS: 10, leadS: 8, drainS: 10 };
const tmOf = (r: MissionPassResult) => r.tm.map((t) => `${t.tMs} ${Buffer.from(t.bytes).toString('hex')}`);

describe('the mission pass on a fresh bench like the suite bench', () => {
  it('gives the same key and TM bytes whatever ran on the suite bench before it', async () => {
    const like = await Bench.open(loadBenchConfig(join(ROOT, 'hil/benches/emulated.json')), { seed: 1, boards: [...RIG_BOARDS], capture: false, root: ROOT });
    try {
      const pass = (name: string, o: MissionPassOptions) => withFreshBench(like, name, (b) => runMissionPassOnBench(b, o));
      const alone = await pass('alone', SHORT);
      await pass('other', { ...SHORT, seed: 2, lockLoss: { atS: 3, durationS: 1 } });
      await like.sleep(2000);
      const after = await pass('after', SHORT);
      expect(alone.summary.keysEqual).toBe(true);
      expect(alone.summary.finalKeyBits).toBeGreaterThan(0);
      expect(after.summary.keySha256).toBe(alone.summary.keySha256);
      expect(after.summary.finalKeyBits).toBe(alone.summary.finalKeyBits);
      expect(tmOf(after)).toEqual(tmOf(alone));
    } finally {
      await like.close();
    }
  }, 120_000);
});
