/**
 * npm run bench -- rig
 * The one rig at speed: the nominal Beijing pass (seed 1, defaults) with the payload
 * firmware in the loop on the pty bench (hil/benches/pty.json: every board an emulator
 * process on a pseudo-terminal, following the bench's SimClock in lockstep at 1 ms
 * quanta), its wall time against the simulated time it covers (goal: at most 0.5, twice
 * real time), and the same pass in-process (shared clock) for comparison. Captures off:
 * this measures the pass, not the capture files.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from '../../hil/bench/bench.ts';
import { loadBenchConfig } from '../../hil/bench/config.ts';
import { RIG_BOARDS } from '../../hil/mission/rig.ts';
import { runMissionPass, runMissionPassOnBench } from '../../hil/mission/run.ts';
import type { Benchmark } from './types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SEED = 1;

const bench: Benchmark = async ({ progress }) => {
  progress('nominal pass in-process (shared clock)');
  const inProcess = runMissionPass({ station: 'beijing', seed: SEED });
  progress(`in-process: ${inProcess.summary.wallS.toFixed(1)} s wall, key ${inProcess.summary.keySha256.slice(0, 12)}`);

  progress('nominal pass on the pty bench in lockstep (four emulator processes)');
  const t0 = performance.now();
  const pty = await Bench.open(loadBenchConfig(join(root, 'hil/benches/pty.json')), { seed: SEED, boards: [...RIG_BOARDS], capture: false, root });
  let simS: number;
  try {
    const r = await runMissionPassOnBench(pty, {
      station: 'beijing',
      seed: SEED,
      onProgress: (p) => progress(`pty: t ${p.tS.toFixed(0)} s ${p.mode}, ${((performance.now() - t0) / 1000).toFixed(0)} s wall`),
    });
    simS = r.summary.simS;
    progress(`pty: key ${r.summary.keySha256.slice(0, 12)}, ${r.summary.finalKeyBits} bits`);
  } finally {
    await pty.close();
  }
  const wallS = (performance.now() - t0) / 1000;
  return [
    { key: 'ptyPassWallS', label: 'nominal pass on the pty bench in lockstep, wall (processes started and stopped included)', value: wallS, unit: 's' },
    { key: 'passDurationS', label: 'simulated time the pass covers (power-on to settled)', value: simS, unit: 's' },
    { key: 'ptyRealTimeRatio', label: 'pty pass wall over simulated time', value: wallS / simS, unit: 'ratio', target: '<= 0.5' },
    { key: 'inProcessPassWallS', label: 'the same pass in-process (shared clock), wall', value: inProcess.summary.wallS, unit: 's' },
  ];
};

export default bench;
