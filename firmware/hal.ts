import type { BoardName } from '../protocols/dictionary/index.ts';

/**
 * The payload controller's hardware abstraction layer: small typed ports, one per
 * board, in a command/observation style.
 *
 * - Commands are fire-and-forget (`void`): the binding queues them to the board.
 * - Observations are synchronous reads of the binding's latest cached value (the
 *   boards stream telemetry; emulators answer at once). Each port reports how long
 *   ago its board last answered, which is what the per-port watchdog checks.
 *
 * Synchronous ports keep the firmware's control loops free of promises, so a run on a
 * simulated clock is a plain sequence of timer callbacks (fast, deterministic), and
 * the same code runs against real boards on the wall clock, where the binding updates
 * its cache from the serial link in between loop ticks.
 */

/** Clock the firmware reads and schedules on: xstate's Clock plus `now()` in ms. */
export interface PayloadClock {
  setTimeout(fn: (...args: unknown[]) => void, timeoutMs: number): unknown;
  clearTimeout(id: unknown): void;
  now(): number;
}

/** Answers of a board's self-test, requested at BOOT. */
export type SelfTestState = 'idle' | 'running' | 'passed' | 'failed';

/** What every board port offers: self-test, reset, and the watchdog view. */
export interface BoardPort {
  readonly board: BoardName;
  requestSelfTest(): void;
  selfTestState(): SelfTestState;
  /** Resets the board (FDIR retry, RESET_BOARD telecommand). */
  reset(): void;
  /** Milliseconds since the board last answered anything; Infinity if never. */
  lastAnswerAgeMs(): number;
  /** Board temperature (electronics), for the over/under temperature monitors. */
  boardTempC(): number;
}

/** Spot of the beacon on the beacon camera / quadrant detector, relative to the line of sight. */
export interface BeaconSpot {
  visible: boolean;
  xUrad: number;
  yUrad: number;
}

/** APT board: beacon camera / quadrant detector and the fast steering mirror. */
export interface PointingPort extends BoardPort {
  readonly board: 'apt';
  beaconSpot(): BeaconSpot;
  commandFsmUrad(xUrad: number, yUrad: number): void;
  fsmPositionUrad(): { xUrad: number; yUrad: number };
}

/** Where the pass plan says the station is (forwarded to the ACS, which propagates the orbit). */
export interface StationTarget {
  latDeg: number;
  lonDeg: number;
  altM: number;
  tleLine1: string;
  tleLine2: string;
}

export interface AttitudeStatus {
  /** Body pointing has converged on the requested target. */
  settled: boolean;
  /** Elevation of the station seen from the spacecraft's ground track (for the emission gate). */
  stationElevationDeg: number;
}

/** ACS interface: the payload asks for body pointing and offloads the mirror residual. */
export interface AttitudePort extends BoardPort {
  readonly board: 'acs';
  requestStationPointing(target: StationTarget): void;
  /** Offsets the commanded body pointing (acquisition scan, mirror offload). */
  setPointingOffsetUrad(xUrad: number, yUrad: number): void;
  /** Stops pointing at the station (end of pass, SAFE). */
  releasePointing(): void;
  status(): AttitudeStatus;
}

/** Accounting of the current or last source frame, as the board's frame counter reports it. */
export interface SourceFrameReport {
  frameNumber: number;
  pulsesEmitted: number;
  /** The gate opened for the frame; a frame withdrawn or refused before its start never opens (and sends nothing). */
  opened: boolean;
  /** The board is done with the frame (all pulses sent, stopped, or withdrawn before it opened). */
  ended: boolean;
}

export interface SourcePattern {
  repRateMhz: number;
  /** Sending probabilities of the signal, decoy and vacuum intensities (sum 1). */
  pSignal: number;
  pDecoy: number;
  pVacuum: number;
  /** Probability of the key basis. */
  pKeyBasis: number;
}

/** QSRC board: laser temperature, intensity modulator, monitor photodiode, QRNG, pulse frames. */
export interface SourcePort extends BoardPort {
  readonly board: 'qsrc';
  setLaserTempSetpointC(tempC: number): void;
  laserTempC(): number;
  /** Pulse pattern generator: repetition rate and the sending probabilities it draws settings with. */
  configurePattern(pattern: SourcePattern): void;
  /** Intensity modulator drive levels as mean photon numbers (signal, decoy, vacuum). */
  setIntensityLevels(levels: { signalMu: number; decoyMu: number; vacuumMu: number }): void;
  /** Mean photon number of the signal level measured by the monitor photodiode. */
  monitorSignalMu(): number;
  /** Number of QRNG health-test failures since the last reset. */
  rngHealthFailures(): number;
  /**
   * Arms frame `frameNumber` ahead of its start: the board opens the gate at payload time
   * `startAtMs` by its own clock (or, if later, when the frame before it ends or when the
   * command arrived), emits exactly `pulses` pulses, then stops. When the gate opens does
   * not depend on when the acknowledgement returns. One frame may be armed while another
   * emits; arming again replaces the armed one.
   */
  startFrame(frameNumber: number, pulses: number, startAtMs: number): void;
  /** Closes the emission gate now: the emitting frame ends with what it sent; an armed frame is withdrawn unopened. */
  stopFrame(): void;
  /** The board's report on frame `frameNumber`, or null when it knows no such frame. */
  frameReport(frameNumber: number): SourceFrameReport | null;
}

/** LCT: the laser communication terminal. */
export interface LinkPort extends BoardPort {
  readonly board: 'lct';
  linkUp(): boolean;
  /** Time synchronisation with the ground: locked, and the epoch frames align to (ms, payload clock). */
  timeSync(): { locked: boolean; epochMs: number };
}

export type BankName = 'A' | 'B';

/** The controller's own configuration flash: two banks holding config images. */
export interface ConfigStorePort {
  bankSizeBytes(): number;
  readBank(bank: BankName): Uint8Array;
  /** Writes bytes into a bank; throws RangeError outside the bank. */
  writeBank(bank: BankName, offsetBytes: number, data: Uint8Array): void;
  activeBank(): BankName;
  selectBank(bank: BankName): void;
}

export interface PayloadPorts {
  pointing: PointingPort;
  attitude: AttitudePort;
  source: SourcePort;
  link: LinkPort;
  config: ConfigStorePort;
}

export function boardPorts(p: PayloadPorts): BoardPort[] {
  return [p.source, p.pointing, p.link, p.attitude];
}

export function portOf(p: PayloadPorts, board: BoardName): BoardPort {
  switch (board) {
    case 'qsrc':
      return p.source;
    case 'apt':
      return p.pointing;
    case 'lct':
      return p.link;
    case 'acs':
      return p.attitude;
  }
}
