import type { DecodedPacket } from '../../protocols/dictionary/index.ts';
import { createRig, DEFAULT_EPOCH_S, planArgs, type FakeRig } from './fakes/bench.ts';
import type { WorldOptions } from './fakes/world.ts';

export type RigOptions = Parameters<typeof createRig>[0];

/** Mode changes announced in TM, as "FROM->TO". */
export function modeChanges(rig: FakeRig): string[] {
  return rig.events('MODE_CHANGED').map((e) => `${e.fields!.from}->${e.fields!.to}`);
}

export function frames(rig: FakeRig): Array<{ frameNumber: number; pulseCount: number; reason: string }> {
  return rig.events('SOURCE_FRAME').map((e) => e.fields as { frameNumber: number; pulseCount: number; reason: string });
}

/** Mission-time seconds of a TM packet relative to the rig's epoch. */
export function tmTimeS(d: DecodedPacket): number {
  const t = (d.pus as { time: { coarse: number; fine: number } }).time;
  return t.coarse + t.fine / 65536 - DEFAULT_EPOCH_S;
}

export function reports(rig: FakeRig, name: string): DecodedPacket[] {
  return rig.decoded().filter((d) => d.kind === 'report' && d.name === name);
}

/** The nominal pass: plan uploaded at 2 s, pass 5 s..65 s, beacon on at 8 s. */
export const NOMINAL: Partial<WorldOptions> = { beaconOnMs: 8000, passStartMs: 5000, passEndMs: 65_000 };

/** Powers on, waits for STANDBY, uploads the plan for the world's pass window. */
export function bootAndPlan(rig: FakeRig): void {
  rig.payload.powerOn();
  if (rig.runUntil(() => rig.payload.mode() === 'STANDBY', 5000) < 0) throw new Error(`no STANDBY after boot (mode ${rig.payload.mode()})`);
  const nowMs = rig.clock.now();
  rig.tc('UPLOAD_PASS_PLAN', planArgs(rig, Math.round((rig.world.passStartMs - nowMs) / 1000), Math.round((rig.world.passEndMs - nowMs) / 1000)));
}

/** Boots, plans, and runs until the source emits in QKD. */
export function toEmitting(o: RigOptions = {}): FakeRig {
  const rig = createRig({ ...NOMINAL, ...o });
  bootAndPlan(rig);
  if (rig.runUntil(() => rig.payload.status.emitting, 30_000) < 0) throw new Error(`never emitting (mode ${rig.payload.mode()})`);
  return rig;
}

/** Sum of pulses over all SOURCE_FRAME events, with contiguity of frame numbers checked by the caller. */
export function accounted(rig: FakeRig): number {
  return frames(rig).reduce((a, f) => a + f.pulseCount, 0);
}
