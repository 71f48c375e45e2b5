/**
 * npm run bench -- rig
 * The one rig at speed: the nominal Beijing pass (seed 1, defaults) with the payload
 * firmware in the loop on the pty bench (hil/benches/pty.json: every board an emulator
 * process on a pseudo-terminal, following the bench's SimClock in lockstep at 1 ms
 * quanta, quiet boards left ungranted), its wall time against the simulated time it
 * covers (goal: at most 0.5, twice real time), and the same pass in-process for
 * comparison: on the in-process lockstep bench (`npm run pass` by default; it must give
 * the pty bench's key, or the benchmark fails) and on the shared clock. Captures off:
 * this measures the pass, not the capture files.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from '../../hil/bench/bench.ts';
import { type BenchConfig, loadBenchConfig } from '../../hil/bench/config.ts';
import { inProcessLockstepBenchConfig, RIG_BOARDS } from '../../hil/mission/rig.ts';
import { runMissionPass, runMissionPassOnBench } from '../../hil/mission/run.ts';
import type { MissionSummary } from '../../hil/mission/types.ts';
import type { Benchmark } from './types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SEED = 1;

const bench: Benchmark = async ({ progress }) => {
  progress('nominal pass in-process, shared clock');
  const shared = runMissionPass({ station: 'beijing', seed: SEED }).summary;
  progress(`shared clock: ${shared.wallS.toFixed(1)} s wall, key ${shared.keySha256.slice(0, 12)}`);

  progress('nominal pass in-process, lockstep hosts (npm run pass)');
  const inProcess = await timedPass(inProcessLockstepBenchConfig(), 'in-process', progress);
  progress('nominal pass on the pty bench in lockstep (four emulator processes)');
  const pty = await timedPass(loadBenchConfig(join(root, 'hil/benches/pty.json')), 'pty', progress);
  if (pty.summary.keySha256 !== inProcess.summary.keySha256) {
    throw new Error(`the pty bench's key ${pty.summary.keySha256} is not the in-process lockstep bench's ${inProcess.summary.keySha256}`);
  }
  const simS = pty.summary.simS;
  return [
    { key: 'ptyPassWallS', label: 'nominal pass on the pty bench in lockstep, wall (processes started and stopped included)', value: pty.wallS, unit: 's' },
    { key: 'passDurationS', label: 'simulated time the pass covers (power-on to settled)', value: simS, unit: 's' },
    { key: 'ptyRealTimeRatio', label: 'pty pass wall over simulated time', value: pty.wallS / simS, unit: 'ratio', target: '<= 0.5' },
    { key: 'inProcessPassWallS', label: 'the same pass in-process on lockstep hosts (same key as pty), wall', value: inProcess.wallS, unit: 's' },
    { key: 'sharedClockPassWallS', label: 'the same pass in-process on the shared clock (exact line times), wall', value: shared.wallS, unit: 's' },
  ];
};

async function timedPass(config: BenchConfig, name: string, progress: (line: string) => void): Promise<{ wallS: number; summary: MissionSummary }> {
  const t0 = performance.now();
  const b = await Bench.open(config, { seed: SEED, boards: [...RIG_BOARDS], capture: false, root });
  try {
    const r = await runMissionPassOnBench(b, {
      station: 'beijing',
      seed: SEED,
      onProgress: (p) => progress(`${name}: t ${p.tS.toFixed(0)} s ${p.mode}, ${((performance.now() - t0) / 1000).toFixed(0)} s wall`),
    });
    progress(`${name}: key ${r.summary.keySha256.slice(0, 12)}, ${r.summary.finalKeyBits} bits`);
    return { wallS: (performance.now() - t0) / 1000, summary: r.summary };
  } finally {
    await b.close();
  }
}

export default bench;
