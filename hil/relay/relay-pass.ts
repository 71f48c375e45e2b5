import type { KeyPool } from '../../qkd/pool.ts';
import type { Bench } from '../bench/bench.ts';
import { withFreshBench } from '../bench/fresh-bench.ts';
import { runPass } from '../mission/physics-pass.ts';
import { runMissionPassOnBench } from '../mission/run.ts';

/** One QKD pass of a relay run: over which station, with which seed, into which pools. */
export interface RelayPassRequest {
  station: string;
  seed: number;
  durationS?: number;
  /** The satellite's pool for the station (the payload's end, Alice) and the station's own (Bob). */
  pools: { satellite: KeyPool; ground: KeyPool };
  progress: (message: string) => void;
}

/** What the relay reports of a pass. */
export interface RelayPassFigures {
  finalKeyBits: number;
  qber: number;
}

/** How a relay run makes key: one pass adding to both pools of a station (the key it made is in them afterwards). */
export type RelayPass = (p: RelayPassRequest) => RelayPassFigures | Promise<RelayPassFigures>;

/** The physics-only engine (no firmware, no boards): what `npm run relay` runs. */
export const physicsRelayPass: RelayPass = ({ station, seed, durationS, pools, progress }) =>
  runPass({ station, seed, durationS, pools: { alice: pools.satellite, bob: pools.ground }, progress }).summary;

/**
 * The mission pass with the payload firmware on a bench's boards (runMissionPassOnBench),
 * each on a fresh bench like `like` (withFreshBench: same config, seed and boards, clock
 * at 0), so the relay's passes run on whatever lines the bench has.
 */
export function benchRelayPass(like: Bench): RelayPass {
  return ({ station, seed, durationS, pools, progress }) =>
    withFreshBench(like, `${station}-seed${seed}`, async (bench) => {
      const r = await runMissionPassOnBench(bench, {
        station,
        seed,
        durationS,
        pools: { payload: pools.satellite, ground: pools.ground },
        onProgress: (p) => progress(`t ${p.tS.toFixed(0)} s  ${p.mode}  final key ${p.finalKeyBits} bits`),
      });
      return r.summary;
    });
}
