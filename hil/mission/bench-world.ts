import { SimClock } from '../../boards/clock.ts';
import type { Params } from '../../firmware/params.ts';
import type { Bench } from '../bench/bench.ts';
import { benchEnvironment, type BoardEnvironment } from './board-environment.ts';
import { IsolatedBody } from './pointing.ts';

export interface BenchWorldOptions {
  /** Where the beacon really is relative to the ACS's nominal station pointing. Default (300, -200) urad. */
  beaconBiasUrad?: { x: number; y: number };
  /** Loss the apt camera sees on the beacon, dB. Default 28. */
  beaconLossDb?: number;
  /** Loss of the laser-terminal link, dB. Default 30. */
  linkLossDb?: number;
  /** Time constant of the payload's vibration isolation, s. Default 0.3. */
  isolationTauS?: number;
}

/** What a suite toggles in the bench world. */
export interface BenchWorld {
  beaconVisible: boolean;
  linkDropout: boolean;
  stop(): void;
}

/**
 * A ground beacon and a laser link that are always there (a bench on the ground, not a
 * pass): every `periodMs` the apt camera sees the beacon at its bias minus the body line
 * of sight (the ACS's target plus its isolated jitter), and the lct sees a fixed link
 * loss. `beaconVisible` / `linkDropout` hide the beacon or cut the link. The boards are
 * reached only through `env`.
 */
export function runBenchWorld(clock: { every(periodMs: number, fn: () => void): () => void }, env: BoardEnvironment, periodMs: number, o: BenchWorldOptions = {}): BenchWorld {
  const bias = o.beaconBiasUrad ?? { x: 300, y: -200 };
  const body = new IsolatedBody(periodMs, o.isolationTauS ?? 0.3);
  const world: BenchWorld = { beaconVisible: true, linkDropout: false, stop: () => {} };
  let lastDropout: boolean | null = null;
  env.setBeaconLossDb(o.beaconLossDb ?? 28);
  world.stop = clock.every(periodMs, () => {
    const b = body.step(env.attitudeMrad());
    env.setBeacon(bias.x - b.targetX - b.jitterX, bias.y - b.targetY - b.jitterY, world.beaconVisible);
    // The link is set only when the suite changes it (a SIM request on a real line).
    if (world.linkDropout !== lastDropout) {
      lastDropout = world.linkDropout;
      env.setLinkLoss(o.linkLossDb ?? 30, world.linkDropout);
    }
  });
  return world;
}

/**
 * The bench world for a payload hosted (either face) on a bench that keeps simulated
 * time, at the flashed fine-loop period on the bench's clock: on the emulators directly
 * when they share that clock, else over the board links (SIM requests to lockstep hosts
 * or emulator processes on ptys); see benchEnvironment. Throws on a wall-clock bench:
 * its boards cannot be given a beacon in step with the payload.
 */
export function attachBenchWorld(rig: { bench: Bench; params: Params }, o: BenchWorldOptions = {}): BenchWorld {
  const { clock } = rig.bench;
  if (!(clock instanceof SimClock)) throw new Error(`the bench world needs simulated time: bench '${rig.bench.config.name}' runs on the wall clock`);
  const periodMs = Math.max(1, Math.round(1000 / rig.params.FINE_LOOP_RATE_HZ));
  return runBenchWorld(clock, benchEnvironment(rig.bench), periodMs, o);
}
