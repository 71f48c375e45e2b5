import type { StationTarget } from '../../firmware/hal.ts';
import { decodePacket, encodeCommand, type DecodedPacket } from '../../protocols/dictionary/index.ts';
import { attachBenchWorld, createPayloadRig, type BenchWorld, type PayloadRig } from '../../hil/mission/rig.ts';

/**
 * The firmware tests' rig: the assembled payload (firmware bound to the four board
 * emulators over in-memory UART lines, createPayloadRig) with the bench world (beacon,
 * link) attached, plus the few conveniences the tests share. Every stimulus reaches the
 * payload as it would on the bench: telecommands as PUS bytes, the environment through
 * the emulators' SIM control or the bench world, time by running the bench's clock.
 */
export interface TestRig extends PayloadRig {
  world: BenchWorld;
  /** The pass window (clock ms) the station elevation follows. */
  passStartMs: number;
  passEndMs: number;
  /** Clock ms the beacon is switched on (Infinity: never). */
  beaconOnMs: number;
  decoded(): DecodedPacket[];
  events(name?: string): DecodedPacket[];
  /** Sends a dictionary TC with the rig's own sequence count (0, 1, 2, ...). */
  tc(name: string, args?: Record<string, unknown>): void;
  /** Runs until `pred` holds (checked every `stepMs`) or `limitMs` passes; the ms it took, or -1. */
  runUntil(pred: () => boolean, limitMs: number, stepMs?: number): number;
  /** Sets a board's ambient temperature (SIM TEMPERATURE): its board temperature follows. */
  ambient(board: 'qsrc' | 'apt' | 'lct' | 'acs', ambientC: number): void;
  /** Raises or clears an emulator fault by the board definition's name (SIM FAULT). */
  fault(board: 'qsrc' | 'apt' | 'lct' | 'acs', name: string, active?: boolean): void;
}

export interface TestRigOptions {
  seed?: number;
  /** Flashed parameter overrides by dictionary name. */
  params?: Record<string, number>;
  hkEnabled?: number[];
  /** Clock ms the ground beacon comes on (default 0; Infinity: never). */
  beaconOnMs?: number;
  /** Where the beacon is relative to the ACS's nominal station pointing. */
  beaconBiasUrad?: { x: number; y: number };
  /** Pass window in clock ms, for the elevation profile (a half sine). */
  passStartMs?: number;
  passEndMs?: number;
  maxElevationDeg?: number;
}

/** Mission time at clock 0 (s since the PUS epoch). */
export const DEFAULT_EPOCH_S = 800_000_000;
/** Generation of the image flashed into bank A. */
export const CONFIG_GENERATION = 7;

/** Elevation over a pass window: a half sine from 0 at start and end to the maximum (what the ACS's orbit propagation would give). */
function halfSineElevation(startMs: number, endMs: number, maxDeg: number) {
  return (_target: StationTarget, nowMs: number): number => {
    if (nowMs <= startMs || nowMs >= endMs) return 0;
    return maxDeg * Math.sin((Math.PI * (nowMs - startMs)) / (endMs - startMs));
  };
}

export function createTestRig(o: TestRigOptions = {}): TestRig {
  const passStartMs = o.passStartMs ?? 0;
  const passEndMs = o.passEndMs ?? 300_000;
  const rig = createPayloadRig({
    seed: o.seed ?? 1,
    params: o.params,
    configGeneration: CONFIG_GENERATION,
    epochOffsetS: DEFAULT_EPOCH_S,
    hkEnabled: o.hkEnabled,
    elevationFor: halfSineElevation(passStartMs, passEndMs, o.maxElevationDeg ?? 60),
  });
  const world = attachBenchWorld(rig, o.beaconBiasUrad ? { beaconBiasUrad: o.beaconBiasUrad } : {});
  const beaconOnMs = o.beaconOnMs ?? 0;
  if (beaconOnMs > 0) {
    world.beaconVisible = false;
    if (Number.isFinite(beaconOnMs)) rig.clock.setTimeout(() => (world.beaconVisible = true), beaconOnMs);
  }
  let seq = 0;
  const decoded = () => rig.tm.map((t) => t.packet ?? decodePacket(t.bytes));
  const sim = (board: 'qsrc' | 'apt' | 'lct' | 'acs') => rig.boards[board].emu;
  return Object.assign(rig, {
    world,
    passStartMs,
    passEndMs,
    beaconOnMs,
    decoded,
    events: (name?: string) => decoded().filter((d) => d.kind === 'event' && (name === undefined || d.name === name)),
    tc: (name: string, args: Record<string, unknown> = {}) => rig.sendTc(encodeCommand(name, args, { seq: seq++ })),
    runUntil: (pred: () => boolean, limitMs: number, stepMs = 10) => {
      const t0 = rig.clock.now();
      return rig.runUntilTrue(pred, limitMs, stepMs) ? rig.clock.now() - t0 : -1;
    },
    ambient: (board: 'qsrc' | 'apt' | 'lct' | 'acs', ambientC: number) => void sim(board).applySim({ kind: 'TEMPERATURE', ambientC }),
    fault: (board: 'qsrc' | 'apt' | 'lct' | 'acs', name: string, active = true) => {
      const f = sim(board).def.faults.find((x) => x.name === name);
      if (!f) throw new Error(`board ${board} has no fault ${name}`);
      sim(board).applySim({ kind: 'FAULT', faultId: f.id, active });
    },
  });
}

/** Mode changes announced in TM, as "FROM->TO". */
export function modeChanges(rig: TestRig): string[] {
  return rig.events('MODE_CHANGED').map((e) => `${e.fields!.from}->${e.fields!.to}`);
}

export function frames(rig: TestRig): Array<{ frameNumber: number; pulseCount: number; reason: string }> {
  return rig.events('SOURCE_FRAME').map((e) => e.fields as { frameNumber: number; pulseCount: number; reason: string });
}

/** Mission-time seconds of a TM packet relative to the rig's epoch. */
export function tmTimeS(d: DecodedPacket): number {
  const t = (d.pus as { time: { coarse: number; fine: number } }).time;
  return t.coarse + t.fine / 65536 - DEFAULT_EPOCH_S;
}

export function reports(rig: TestRig, name: string): DecodedPacket[] {
  return rig.decoded().filter((d) => d.kind === 'report' && d.name === name);
}

/** A pass plan `startInS`..`endInS` seconds from now in mission time. */
export function planArgs(rig: TestRig, startInS: number, endInS: number, minElevationDeg = 15, station = { station: 'beijing', latDeg: 40.0, lonDeg: 116.4, altM: 50 }) {
  const nowS = Math.floor(DEFAULT_EPOCH_S + rig.clock.now() / 1000);
  return {
    ...station,
    startS: nowS + startInS,
    endS: nowS + endInS,
    minElevationDeg,
    tleLine1: '1 00000U 00000A   26326.50000000  .00000000  00000-0  00000-0 0  0000',
    tleLine2: '2 00000  97.4000 000.0000 0001000 000.0000 000.0000 15.20000000    00',
  };
}

/** Powers on and runs until STANDBY; throws naming the mode otherwise. */
export function boot(rig: TestRig): void {
  rig.payload.powerOn();
  if (rig.runUntil(() => rig.payload.mode() === 'STANDBY', 5000) < 0) throw new Error(`no STANDBY after boot (mode ${rig.payload.mode()})`);
}

/** The nominal pass: plan uploaded after boot, pass 5 s..65 s, beacon on at 8 s. */
export const NOMINAL: TestRigOptions = { beaconOnMs: 8000, passStartMs: 5000, passEndMs: 65_000 };

/** Powers on, waits for STANDBY, uploads the plan for the rig's pass window. */
export function bootAndPlan(rig: TestRig): void {
  boot(rig);
  const nowMs = rig.clock.now();
  rig.tc('UPLOAD_PASS_PLAN', planArgs(rig, Math.round((rig.passStartMs - nowMs) / 1000), Math.round((rig.passEndMs - nowMs) / 1000)));
}

/** Boots, plans, and runs until the source emits in QKD. */
export function toEmitting(o: TestRigOptions = {}): TestRig {
  const rig = createTestRig({ ...NOMINAL, ...o });
  bootAndPlan(rig);
  if (rig.runUntil(() => rig.payload.status.emitting, 30_000) < 0) throw new Error(`never emitting (mode ${rig.payload.mode()})`);
  return rig;
}

/** Sum of pulses over all SOURCE_FRAME events, with contiguity of frame numbers checked by the caller. */
export function accounted(rig: TestRig): number {
  return frames(rig).reduce((a, f) => a + f.pulseCount, 0);
}
