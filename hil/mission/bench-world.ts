import { inProcessEnvironment, type BoardEnvironment } from './board-environment.ts';
import { IsolatedBody } from './pointing.ts';
import type { PayloadRig } from './rig.ts';

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

/** The bench world on the in-process rig's emulators, at the flashed fine-loop period. */
export function attachBenchWorld(rig: PayloadRig, o: BenchWorldOptions = {}): BenchWorld {
  const periodMs = Math.max(1, Math.round(1000 / rig.params.FINE_LOOP_RATE_HZ));
  return runBenchWorld(rig.clock, inProcessEnvironment(rig.boards), periodMs, o);
}
