import { type Clock, SimClock } from '../../boards/clock.ts';
import type { BoardName } from '../../boards/definitions.ts';
import type { BoardEmulator } from '../../boards/emulator/index.ts';
import { createPayload, type Payload } from '../../firmware/payload.ts';
import { defaultParams, type Params } from '../../firmware/params.ts';
import { encodeConfigImage } from '../../protocols/config-image.ts';
import { decodePacket, parameterDef, type DecodedPacket } from '../../protocols/dictionary/index.ts';
import { Bench } from '../bench/bench.ts';
import type { BenchConfig } from '../bench/config.ts';
import type { BoardDriver } from '../driver.ts';
import type { RequestEngine } from '../request-engine.ts';
import { AcsPort, type ElevationSource } from './ports-acs.ts';
import { AptPort } from './ports-apt.ts';
import { ControllerFlash } from './ports-config.ts';
import { LctPort } from './ports-lct.ts';
import { QsrcPort } from './ports-qsrc.ts';

/** The payload's boards, in the order the rig's bench creates them: it fixes the order of their events on the one clock (seeds: boardSeed). */
export const RIG_BOARDS = ['qsrc', 'apt', 'lct', 'acs'] as const satisfies readonly BoardName[];
/** Default UART rates of the in-process lines (the apt carries a telemetry frame and a mirror write per loop period). */
export const RIG_BAUD: Record<BoardName, number> = { qsrc: 921_600, apt: 2_000_000, lct: 115_200, acs: 115_200 };
/** Fine-loop rate the rig flashes (FINE_LOOP_RATE_HZ); see docs/mission.md for why 200 Hz. */
export const DEFAULT_LOOP_RATE_HZ = 200;
/** Board id the controller's config image carries. */
const CONTROLLER_BOARD_ID = 0x5100;

/**
 * The configuration flashed into the controller's bank A (dictionary names): the fine
 * loop at `loopRateHz` with its integral gain tuned for the apt board (Ki 100 /s: the
 * firmware default 40 leaves twice the residual, 200 is unstable at 200 Hz with the
 * line delay), and link rates that carry the detection reports.
 */
export function missionParams(loopRateHz: number, overrides: Record<string, number> = {}): Params {
  return { ...defaultParams(), FINE_LOOP_RATE_HZ: loopRateHz, FSM_KI: 100, UPLINK_RATE_KBPS: 5000, DOWNLINK_RATE_MBPS: 2, ...overrides };
}

export { seedOf } from '../bench/seeds.ts';

/** The controller's config image for a parameter set (the format BOOT checks). */
export function configImageFor(params: Params, generation: number): Uint8Array {
  return encodeConfigImage({
    boardId: CONTROLLER_BOARD_ID,
    configVersion: 1,
    generation,
    params: new Map(Object.entries(params).map(([name, v]) => [parameterDef(name).id, v])),
  });
}

export interface HostedBoard {
  /** The board's emulator when it runs in this process (environment, faults and physics reached directly); else undefined. */
  emu: BoardEmulator | undefined;
  /** The board's driver (promise face, for suites that talk to the board directly). */
  driver: BoardDriver;
  /** The callback face of the same request engine: what the firmware's HAL port is bound to. */
  client: RequestEngine;
}

/** A board of the in-process rig: its emulator is always there. */
export interface RigBoard extends HostedBoard {
  emu: BoardEmulator;
}

/** A TM packet the payload emitted, with its mission-clock time and its dictionary decoding. */
export interface RigTm {
  tMs: number;
  bytes: Uint8Array;
  /** null when the dictionary could not decode it (the firmware should never emit such a packet). */
  packet: DecodedPacket | null;
}

export interface PayloadRigOptions {
  /** Seeds the firmware (the bench seeds the emulators from the same seed). Default: the bench's seed, else 1. */
  seed?: number;
  /** Overrides of the flashed configuration, by dictionary parameter name. */
  params?: Record<string, number>;
  /** Generation of the flashed image. Default 1. */
  configGeneration?: number;
  /** Station elevation the ACS port reports (the acs board does not propagate orbits). Default 45 deg. */
  elevationFor?: ElevationSource;
  /** FINE_LOOP_RATE_HZ flashed (unless `params` sets it). Default 200. */
  loopRateHz?: number;
  /** UART rates of the in-process lines createPayloadRig opens (a hosted payload uses the bench's lines as they are). */
  baud?: Partial<Record<BoardName, number>>;
  /** Mission time (s since the PUS epoch) at clock 0. */
  epochOffsetS?: number;
  /** Extra housekeeping sources by SID (QKD_HK, LINK_HK). */
  hkProviders?: ReadonlyMap<number, () => Record<string, unknown>>;
  /** SIDs reported from the start (default PAYLOAD_HK only). */
  hkEnabled?: readonly number[];
  /** Decode each TM packet as it is recorded (default true). */
  decodeTm?: boolean;
}

/** The parts of the payload on a bench that do not depend on how time is run. */
interface PayloadParts {
  bench: Bench;
  payload: Payload;
  /** The configuration flashed into bank A. */
  params: Params;
  /** The flashed image (bank A). */
  image: Uint8Array;
  ports: { apt: AptPort; acs: AcsPort; qsrc: QsrcPort; lct: LctPort; config: ControllerFlash };
  flash: ControllerFlash;
  /** Every TM packet, in order. */
  tm: RigTm[];
  /** Sends PUS TC bytes to the payload (as the bus would deliver them). */
  sendTc(bytes: Uint8Array): void;
  /** Decoded TM recorded since index `from` (a mark is `rig.tm.length`). */
  since(from: number): RigTm[];
  stop(): void;
}

/**
 * The payload firmware hosted by a bench, on any lines (promise face, for suites). Time
 * runs through the bench: on an all-in-process bench synchronously and at once (the
 * promise is already settled); otherwise by waiting bench time (`bench.sleep`): the
 * held SimClock on a lockstep bench (each quantum's grants to the emulator processes
 * awaited), the wall clock on real boards.
 */
export interface HostedPayload extends PayloadParts {
  clock: Clock;
  boards: Record<BoardName, HostedBoard>;
  /** Runs bench time forward by `ms`. */
  advanceMs(ms: number): Promise<void>;
  /** Runs until `pred` holds (checked every `stepMs`, default 10) or `limitMs` passes; true when it held. */
  runUntilTrue(pred: () => boolean, limitMs: number, stepMs?: number): Promise<boolean>;
  /** Powers the controller on at the current time and runs until STANDBY (or SAFE); throws if neither comes within `limitMs`. */
  boot(limitMs?: number): Promise<void>;
}

/** The payload on the in-process bench (synchronous face, for sim-time loops such as the mission pass). */
export interface PayloadRig extends PayloadParts {
  clock: SimClock;
  boards: Record<BoardName, RigBoard>;
  /** Runs simulated time forward by `ms`. */
  advanceMs(ms: number): void;
  /** Runs until `pred` holds (checked every `stepMs`) or `limitMs` passes; true when it held. */
  runUntilTrue(pred: () => boolean, limitMs: number, stepMs?: number): boolean;
  /** Powers the controller on at the current time and runs until STANDBY (or SAFE); throws if neither comes within `limitMs`. */
  boot(limitMs?: number): void;
}

/** The in-process bench the rig opens: the four boards as emulators at the rig's line rates, no streams (the payload starts them). */
export function inProcessBenchConfig(baud: Partial<Record<BoardName, number>> = {}): BenchConfig {
  const rates = { ...RIG_BAUD, ...baud };
  return {
    name: 'in-process',
    description: 'the payload rig: every board an in-process emulator',
    clock: 'sim',
    boards: Object.fromEntries(RIG_BOARDS.map((n) => [n, { mode: 'emulated', baud: rates[n] }])),
    stream: false,
    captureDir: 'reports/captures',
  };
}

/**
 * The in-process bench of `npm run pass` and the rig benchmark: the same boards, each
 * behind a lockstep host (hil/benches/lockstep.json at the rig's line rates), so its line
 * timing, and with it the key, TM bytes and final key bits of a pass, are those of the
 * pty and TCP benches by construction. The shared-clock bench (`inProcessBenchConfig`)
 * hands bytes over at exact line times instead of quantum boundaries: as deterministic,
 * faster, but not the same run as on boards in processes.
 */
export function inProcessLockstepBenchConfig(): BenchConfig {
  return { ...inProcessBenchConfig(), name: 'in-process-lockstep', description: 'the payload rig: every board an in-process emulator behind a lockstep host', lockstep: 'always' };
}

/**
 * Binds the payload firmware to the boards of a bench: its HAL ports on the callback face
 * of each board's request engine (`bench.board(n).driver.engine`), its timers on
 * `bench.clock`, the controller's two-bank flash with the configuration image in bank A.
 * Nothing is powered on; nothing of the world (beacon, link loss, orbit) is simulated
 * here. Deterministic for a seed on an in-process bench.
 */
function bindPayload(bench: Bench, options: PayloadRigOptions): PayloadParts {
  const missing = RIG_BOARDS.filter((n) => !bench.boards.some((b) => b.name === n));
  if (missing.length > 0) throw new Error(`the payload needs boards ${RIG_BOARDS.join(', ')} on the bench; '${bench.config.name}' lacks ${missing.join(', ')}`);
  const clock = bench.clock;
  const seed = options.seed ?? bench.seed;
  const params = missionParams(options.loopRateHz ?? DEFAULT_LOOP_RATE_HZ, options.params);
  const loopPeriodMs = Math.max(1, Math.round(1000 / params.FINE_LOOP_RATE_HZ));
  const engine = (n: BoardName) => bench.board(n).driver.engine;
  const elevationFor: ElevationSource = options.elevationFor ?? (() => 45);
  const apt = new AptPort(engine('apt'), clock, loopPeriodMs);
  const acs = new AcsPort(engine('acs'), clock, 100, elevationFor);
  const qsrc = new QsrcPort(engine('qsrc'), clock, 100);
  const lct = new LctPort(engine('lct'), clock, 100, { uplinkKbps: params.UPLINK_RATE_KBPS, downlinkKbps: params.DOWNLINK_RATE_MBPS * 1000 });
  const flash = new ControllerFlash();
  const image = configImageFor(params, options.configGeneration ?? 1);
  flash.flash('A', image);

  const payload = createPayload({
    ports: { pointing: apt, attitude: acs, source: qsrc, link: lct, config: flash },
    clock,
    seed,
    epochOffsetS: options.epochOffsetS ?? 0,
    hkProviders: options.hkProviders,
    hkEnabled: options.hkEnabled,
  });
  const tm: RigTm[] = [];
  const decode = options.decodeTm ?? true;
  payload.onTm((bytes) => {
    let packet: DecodedPacket | null = null;
    if (decode) {
      try {
        packet = decodePacket(bytes);
      } catch {
        packet = null;
      }
    }
    tm.push({ tMs: clock.now(), bytes, packet });
  });
  return {
    bench,
    payload,
    params,
    image,
    ports: { apt, acs, qsrc, lct, config: flash },
    flash,
    tm,
    sendTc: (bytes) => payload.sendTc(bytes),
    since: (from) => tm.slice(from),
    stop: () => payload.stop(),
  };
}

function boardsOf(bench: Bench): Record<BoardName, HostedBoard> {
  return Object.fromEntries(RIG_BOARDS.map((n) => [n, { emu: bench.board(n).emulator, driver: bench.board(n).driver, client: bench.board(n).driver.engine }])) as Record<BoardName, HostedBoard>;
}

const booted = (p: Payload) => p.mode() === 'STANDBY' || p.mode() === 'SAFE';
const bootFailed = (p: Payload) => new Error(`payload did not reach STANDBY after power-on (mode ${p.mode()})`);

/**
 * Bench time waited for (`bench.sleep`): a SimClock runs held, one event at a time with
 * each lockstep grant awaited; the wall clock just passes. The same order of events on
 * every line kind of a lockstep bench, in-process hosts included.
 */
export function heldTime(bench: Bench): { advanceMs(ms: number): Promise<void>; runUntilTrue(pred: () => boolean, limitMs: number, stepMs?: number): Promise<boolean> } {
  return {
    advanceMs: (ms) => bench.sleep(ms),
    async runUntilTrue(pred, limitMs, stepMs = 10) {
      const end = bench.now() + limitMs;
      while (bench.now() < end) {
        if (pred()) return true;
        await bench.sleep(Math.min(stepMs, end - bench.now()));
      }
      return pred();
    },
  };
}

/** The payload hosted by `bench` (any lines), with time run through the bench (see HostedPayload). */
export function hostPayload(bench: Bench, options: PayloadRigOptions = {}): HostedPayload {
  const parts = bindPayload(bench, options);
  // Only an all-in-process bench can run its clock in a plain loop: grants to emulator
  // processes are asynchronous, so a lockstep bench with one runs its clock held (bench.sleep).
  const sim = bench.clock instanceof SimClock && bench.inProcess ? bench.clock : null;
  const held = heldTime(bench);
  const advanceMs = async (ms: number): Promise<void> => {
    if (sim) sim.runUntil(sim.now() + ms);
    else await held.advanceMs(ms);
  };
  const runUntilTrue = async (pred: () => boolean, limitMs: number, stepMs = 10): Promise<boolean> => {
    if (sim) return sim.runUntilTrue(pred, limitMs, stepMs);
    return held.runUntilTrue(pred, limitMs, stepMs);
  };
  return {
    ...parts,
    clock: bench.clock,
    boards: boardsOf(bench),
    advanceMs,
    runUntilTrue,
    async boot(limitMs = 5000) {
      parts.payload.powerOn();
      if (!(await runUntilTrue(() => booted(parts.payload), limitMs))) throw bootFailed(parts.payload);
    },
  };
}

/**
 * The synchronous face of a payload hosted on an all-in-process bench (its SimClock run
 * in a plain loop, every board's emulator at hand): for sim-time loops such as the
 * mission pass and the bench world. Throws on any other bench.
 */
export function inProcessRig(rig: HostedPayload): PayloadRig {
  const { bench } = rig;
  if (!(bench.clock instanceof SimClock) || !bench.inProcess) throw new Error(`bench '${bench.config.name}' is not all in-process emulators on simulated time: it has no synchronous face`);
  const clock = bench.clock;
  return {
    ...rig,
    clock,
    boards: rig.boards as Record<BoardName, RigBoard>,
    advanceMs: (ms) => clock.runUntil(clock.now() + ms),
    runUntilTrue: (pred, limitMs, stepMs) => clock.runUntilTrue(pred, limitMs, stepMs),
    boot(limitMs = 5000) {
      rig.payload.powerOn();
      if (!clock.runUntilTrue(() => booted(rig.payload), limitMs)) throw bootFailed(rig.payload);
    },
  };
}

/**
 * The payload firmware on the four in-process board emulators, in simulated time: a
 * bench opened synchronously on in-memory UART lines at RIG_BAUD (the same factory as
 * every bench: emulators, board links with their capture tap, drivers), the payload
 * hosted on it, its synchronous face. Callers drive the emulators' environment
 * (`boards.apt.emu.applySim(...)`) themselves. Deterministic for a seed.
 */
export function createPayloadRig(options: PayloadRigOptions = {}): PayloadRig {
  const seed = options.seed ?? 1;
  const bench = Bench.openInProcess(inProcessBenchConfig(options.baud), { seed, boards: [...RIG_BOARDS], runName: `payload-rig-seed${seed}`, capture: false });
  return inProcessRig(hostPayload(bench, { ...options, seed }));
}

// The bench world (beacon and link always there) lives with the mission's world parts.
export { attachBenchWorld, type BenchWorld, type BenchWorldOptions } from './bench-world.ts';
