import { SimClock } from '../../boards/clock.ts';
import { loadBoardDefinition, type BoardName } from '../../boards/definitions.ts';
import { createEmulator, type BoardEmulator } from '../../boards/emulator/index.ts';
import { createPayload, type Payload } from '../../firmware/payload.ts';
import { defaultParams, type Params } from '../../firmware/params.ts';
import { encodeConfigImage } from '../../protocols/config-image.ts';
import { decodePacket, parameterDef, type DecodedPacket } from '../../protocols/dictionary/index.ts';
import type { CaptureWriter } from '../capture.ts';
import { BoardDriver } from '../driver.ts';
import { FrameLink } from '../framing.ts';
import type { RequestEngine } from '../request-engine.ts';
import { emulatorTransport } from '../transport/memory.ts';
import { AcsPort, type ElevationSource } from './ports-acs.ts';
import { AptPort } from './ports-apt.ts';
import { ControllerFlash } from './ports-config.ts';
import { LctPort } from './ports-lct.ts';
import { QsrcPort } from './ports-qsrc.ts';

/** Board order of creation: fixes which seed each emulator gets (and so the bytes it sends). */
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

/** A counter-based hash of (seed, salt): independent seeds for the parts of one run. */
export function seedOf(seed: number, salt: number): number {
  let h = (seed ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The controller's config image for a parameter set (the format BOOT checks). */
export function configImageFor(params: Params, generation: number): Uint8Array {
  return encodeConfigImage({
    boardId: CONTROLLER_BOARD_ID,
    configVersion: 1,
    generation,
    params: new Map(Object.entries(params).map(([name, v]) => [parameterDef(name).id, v])),
  });
}

export interface RigBoard {
  emu: BoardEmulator;
  /** The board's driver (promise face, for suites that talk to the board directly). */
  driver: BoardDriver;
  /** The callback face of the same request engine: what the firmware's HAL port is bound to. */
  client: RequestEngine;
}

/** A TM packet the payload emitted, with its mission-clock time and its dictionary decoding. */
export interface RigTm {
  tMs: number;
  bytes: Uint8Array;
  /** null when the dictionary could not decode it (the firmware should never emit such a packet). */
  packet: DecodedPacket | null;
}

export interface PayloadRigOptions {
  /** Seeds the emulators and the firmware. Default 1. */
  seed?: number;
  /** Overrides of the flashed configuration, by dictionary parameter name. */
  params?: Record<string, number>;
  /** Generation of the flashed image. Default 1. */
  configGeneration?: number;
  /** Station elevation the ACS port reports (the acs board does not propagate orbits). Default 45 deg. */
  elevationFor?: ElevationSource;
  /** FINE_LOOP_RATE_HZ flashed (unless `params` sets it). Default 200. */
  loopRateHz?: number;
  baud?: Partial<Record<BoardName, number>>;
  /** Mission time (s since the PUS epoch) at clock 0. */
  epochOffsetS?: number;
  /** Extra housekeeping sources by SID (QKD_HK, LINK_HK). */
  hkProviders?: ReadonlyMap<number, () => Record<string, unknown>>;
  /** SIDs reported from the start (default PAYLOAD_HK only). */
  hkEnabled?: readonly number[];
  /** Decode each TM packet as it is recorded (default true). */
  decodeTm?: boolean;
  /**
   * Capture taps of the board lines (every byte each way). Default none: a pass moves
   * ~10^5 frames in a synchronous loop, so a capture costs memory until the loop ends.
   */
  captures?: Partial<Record<BoardName, CaptureWriter>>;
}

export interface PayloadRig {
  clock: SimClock;
  payload: Payload;
  /** The configuration flashed into bank A. */
  params: Params;
  /** The flashed image (bank A). */
  image: Uint8Array;
  boards: Record<BoardName, RigBoard>;
  ports: { apt: AptPort; acs: AcsPort; qsrc: QsrcPort; lct: LctPort; config: ControllerFlash };
  flash: ControllerFlash;
  /** Every TM packet, in order. */
  tm: RigTm[];
  /** Sends PUS TC bytes to the payload (as the bus would deliver them). */
  sendTc(bytes: Uint8Array): void;
  /** Runs simulated time forward by `ms`. */
  advanceMs(ms: number): void;
  /** Runs until `pred` holds (checked every `stepMs`) or `limitMs` passes; true when it held. */
  runUntilTrue(pred: () => boolean, limitMs: number, stepMs?: number): boolean;
  /** Powers the controller on at the current time and runs until STANDBY (or SAFE); throws if neither comes within `limitMs`. */
  boot(limitMs?: number): void;
  /** Decoded TM recorded since index `from` (a mark is `rig.tm.length`). */
  since(from: number): RigTm[];
  stop(): void;
}

/**
 * The payload firmware on the four in-process board emulators, in simulated time: the
 * emulators behind in-memory UART lines, a BoardDriver per board on a FrameLink (the
 * bench's board link, capture tap included), the firmware's HAL ports bound to the
 * callback face of each driver's request engine, the controller's two-bank
 * flash with the configuration image in bank A. Nothing is powered on; nothing of the
 * world (beacon, link loss, orbit) is simulated here: callers drive the emulators'
 * environment (`boards.apt.emu.applySim(...)`) themselves. Deterministic for a seed.
 */
export function createPayloadRig(options: PayloadRigOptions = {}): PayloadRig {
  const seed = options.seed ?? 1;
  const params = missionParams(options.loopRateHz ?? DEFAULT_LOOP_RATE_HZ, options.params);
  const clock = new SimClock();
  const loopPeriodMs = Math.max(1, Math.round(1000 / params.FINE_LOOP_RATE_HZ));
  const baud: Record<BoardName, number> = { ...RIG_BAUD, ...options.baud };
  const boards = {} as Record<BoardName, RigBoard>;
  RIG_BOARDS.forEach((name, i) => {
    const def = loadBoardDefinition(name);
    const emu = createEmulator(name, { clock, seed: seedOf(seed, 10 + i), baud: baud[name] });
    const t = emulatorTransport(emu, clock);
    void t.open();
    const link = new FrameLink(t, clock, options.captures?.[name] ?? null);
    const driver = new BoardDriver(def, link, { clock, timeoutMs: def.link.timeoutMs, retries: def.link.retries, baud: baud[name] });
    boards[name] = { emu, driver, client: driver.engine };
  });
  const elevationFor: ElevationSource = options.elevationFor ?? (() => 45);
  const apt = new AptPort(boards.apt.client, clock, loopPeriodMs);
  const acs = new AcsPort(boards.acs.client, clock, 100, elevationFor);
  const qsrc = new QsrcPort(boards.qsrc.client, clock, 100);
  const lct = new LctPort(boards.lct.client, clock, 100, { uplinkKbps: params.UPLINK_RATE_KBPS, downlinkKbps: params.DOWNLINK_RATE_MBPS * 1000 });
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
    clock,
    payload,
    params,
    image,
    boards,
    ports: { apt, acs, qsrc, lct, config: flash },
    flash,
    tm,
    sendTc: (bytes) => payload.sendTc(bytes),
    advanceMs: (ms) => clock.runUntil(clock.now() + ms),
    runUntilTrue: (pred, limitMs, stepMs) => clock.runUntilTrue(pred, limitMs, stepMs),
    boot(limitMs = 5000) {
      payload.powerOn();
      const up = clock.runUntilTrue(() => payload.mode() === 'STANDBY' || payload.mode() === 'SAFE', limitMs);
      if (!up) throw new Error(`payload did not reach STANDBY after power-on (mode ${payload.mode()})`);
    },
    since: (from) => tm.slice(from),
    stop: () => payload.stop(),
  };
}

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
 * pass): every fine-loop period the apt camera sees the beacon at its bias minus the
 * body line of sight (the ACS's target plus its isolated jitter), and the lct sees a
 * fixed link loss. `beaconVisible` / `linkDropout` hide the beacon or cut the link.
 */
export function attachBenchWorld(rig: PayloadRig, o: BenchWorldOptions = {}): BenchWorld {
  const bias = o.beaconBiasUrad ?? { x: 300, y: -200 };
  const acs = rig.boards.acs.emu;
  const apt = rig.boards.apt.emu;
  const lct = rig.boards.lct.emu;
  const periodMs = Math.max(1, Math.round(1000 / rig.params.FINE_LOOP_RATE_HZ));
  const isoA = 1 - Math.exp(-periodMs / 1000 / (o.isolationTauS ?? 0.3));
  const world: BenchWorld = { beaconVisible: true, linkDropout: false, stop: () => {} };
  let jitX = 0;
  let jitY = 0;
  let lastLink: string | null = null;
  apt.env.link.lossDb = o.beaconLossDb ?? 28;
  world.stop = rig.clock.every(periodMs, () => {
    const tx = acs.readRegister('TARGET_X_MRAD') * 1000;
    const ty = acs.readRegister('TARGET_Y_MRAD') * 1000;
    jitX += (acs.readRegister('ATT_X_MRAD') * 1000 - tx - jitX) * isoA;
    jitY += (acs.readRegister('ATT_Y_MRAD') * 1000 - ty - jitY) * isoA;
    apt.applySim({ kind: 'BEACON', xUrad: bias.x - tx - jitX, yUrad: bias.y - ty - jitY, visible: world.beaconVisible });
    const link = `${world.linkDropout}`;
    if (link !== lastLink) {
      lastLink = link;
      lct.applySim({ kind: 'LINK', lossDb: o.linkLossDb ?? 30, dropout: world.linkDropout });
    }
  });
  return world;
}
