import type {
  AttitudePort,
  AttitudeStatus,
  BankName,
  BeaconSpot,
  LinkPort,
  PayloadClock,
  PayloadPorts,
  PointingPort,
  SelfTestState,
  SourceFrameReport,
  SourcePattern,
  SourcePort,
  StationTarget,
} from '../../../firmware/hal.ts';
import type { BoardName } from '../../../protocols/dictionary/index.ts';
import { ControllerFlash } from '../../../hil/mission/ports-config.ts';

/**
 * In-memory fakes of the four boards and the config flash, with just enough physics
 * for the firmware's loops: a beacon somewhere in the pointing-uncertainty cone, body
 * pointing that drifts, a mirror that follows its command, a laser whose temperature
 * follows its set point, a monitor photodiode, and a pulse counter. Noise comes from a
 * counter-based hash of (seed, ms, channel), so a run is reproducible bit for bit.
 */

export function hashUnit(seed: number, a: number, b: number): number {
  let h = (seed ^ Math.imul(a | 0, 0x9e3779b1) ^ Math.imul(b | 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

export interface WorldOptions {
  clock: PayloadClock;
  seed: number;
  /** Where the beacon sits relative to the ACS's nominal station pointing. */
  beaconOffsetUrad?: { x: number; y: number };
  /** Payload-clock ms at which the ground beacon is switched on. */
  beaconOnMs?: number;
  /** Pass window in payload-clock ms, for the elevation profile. */
  passStartMs?: number;
  passEndMs?: number;
  maxElevationDeg?: number;
  /** RMS of the spot measurement noise. */
  jitterUrad?: number;
  epochOffsetS?: number;
}

class FakeBoard {
  answering = true;
  selfTestResult: 'passed' | 'failed' = 'passed';
  selfTest: SelfTestState = 'idle';
  tempC = 25;
  resets = 0;
  /** Whether a reset brings a silent board back. */
  resetRestores = true;
  lastAnswerMs = 0;
  constructor(
    readonly board: BoardName,
    protected readonly w: FakeWorld,
  ) {}
  protected touch(): void {
    if (this.answering) this.lastAnswerMs = this.w.clock.now();
  }
  requestSelfTest(): void {
    this.touch();
    if (this.answering) this.selfTest = this.selfTestResult;
  }
  selfTestState(): SelfTestState {
    return this.answering ? this.selfTest : 'running';
  }
  reset(): void {
    this.resets++;
    if (this.resetRestores) this.answering = true;
    this.touch();
  }
  /** Stops answering from now on (the watchdog counts from the last answer). */
  goSilent(): void {
    this.lastAnswerMs = this.w.clock.now();
    this.answering = false;
  }
  lastAnswerAgeMs(): number {
    if (this.answering) return 0;
    return this.w.clock.now() - this.lastAnswerMs;
  }
  boardTempC(): number {
    this.touch();
    return this.tempC;
  }
}

class FakeApt extends FakeBoard implements PointingPort {
  override readonly board = 'apt' as const;
  fsm = { x: 0, y: 0 };
  cameraHalfFovUrad = 400;
  /** Extra disturbance (urad) added to the spot, e.g. a vibration kick to break lock. */
  disturbance: (ms: number) => { x: number; y: number } = () => ({ x: 0, y: 0 });
  constructor(w: FakeWorld) {
    super('apt', w);
  }
  beaconSpot(): BeaconSpot {
    this.touch();
    const w = this.w;
    const now = w.clock.now();
    if (!w.beaconOn()) return { visible: false, xUrad: 0, yUrad: 0 };
    const body = w.acs.lineOfSightUrad();
    const d = this.disturbance(now);
    const ms = Math.floor(now);
    const nx = (hashUnit(w.seed, ms, 1) - 0.5) * 2 * Math.sqrt(3) * w.jitterUrad;
    const ny = (hashUnit(w.seed, ms, 2) - 0.5) * 2 * Math.sqrt(3) * w.jitterUrad;
    const x = w.beaconOffset.x - (body.x + this.fsm.x) + d.x + nx;
    const y = w.beaconOffset.y - (body.y + this.fsm.y) + d.y + ny;
    if (Math.hypot(x, y) > this.cameraHalfFovUrad) return { visible: false, xUrad: 0, yUrad: 0 };
    return { visible: true, xUrad: x, yUrad: y };
  }
  commandFsmUrad(xUrad: number, yUrad: number): void {
    this.touch();
    this.fsm = { x: xUrad, y: yUrad };
  }
  fsmPositionUrad() {
    this.touch();
    return { xUrad: this.fsm.x, yUrad: this.fsm.y };
  }
}

class FakeAcs extends FakeBoard implements AttitudePort {
  override readonly board = 'acs' as const;
  target: StationTarget | null = null;
  pointingSinceMs = 0;
  slewMs = 2000;
  offset = { x: 0, y: 0 };
  constructor(w: FakeWorld) {
    super('acs', w);
  }
  requestStationPointing(target: StationTarget): void {
    this.touch();
    this.target = target;
    this.pointingSinceMs = this.w.clock.now();
  }
  setPointingOffsetUrad(xUrad: number, yUrad: number): void {
    this.touch();
    this.offset = { x: xUrad, y: yUrad };
  }
  releasePointing(): void {
    this.touch();
    this.target = null;
  }
  /** Body line of sight relative to nominal station pointing: offset plus a slow drift. */
  lineOfSightUrad(): { x: number; y: number } {
    const t = this.w.clock.now() / 1000;
    return { x: this.offset.x + 30 * Math.sin(t * 0.3), y: this.offset.y + 20 * Math.cos(t * 0.21) };
  }
  status(): AttitudeStatus {
    this.touch();
    return { settled: this.target !== null && this.w.clock.now() - this.pointingSinceMs >= this.slewMs, stationElevationDeg: this.w.elevationDeg() };
  }
}

class FakeQsrc extends FakeBoard implements SourcePort {
  override readonly board = 'qsrc' as const;
  setpointC = 20;
  laserC0 = 20;
  tempSetAtMs = 0;
  tempFromC = 20;
  tecWorking = true;
  rateMhz = 625;
  levels = { signalMu: 0.8, decoyMu: 0.1, vacuumMu: 0 };
  /** Modulator efficiency: measured = drive * efficiency. Tests change it to make the intensity drift. */
  efficiency = 0.9;
  rngFailures = 0;
  frame: { n: number; pulses: number; startMs: number; stoppedAtMs: number | null } | null = null;
  /** Every pulse the board ever emitted (the truth frame accounting must match). */
  totalEmitted = 0;
  framesStarted: number[] = [];
  constructor(w: FakeWorld) {
    super('qsrc', w);
  }
  setLaserTempSetpointC(tempC: number): void {
    this.touch();
    this.tempFromC = this.laserTempC();
    this.tempSetAtMs = this.w.clock.now();
    this.setpointC = tempC;
  }
  laserTempC(): number {
    this.touch();
    if (!this.tecWorking) return this.laserC0;
    const dtS = (this.w.clock.now() - this.tempSetAtMs) / 1000;
    return this.setpointC + (this.tempFromC - this.setpointC) * Math.exp(-dtS / 1.5);
  }
  pattern: SourcePattern | null = null;
  configurePattern(pattern: SourcePattern): void {
    this.touch();
    this.pattern = pattern;
    this.rateMhz = pattern.repRateMhz;
  }
  setIntensityLevels(levels: { signalMu: number; decoyMu: number; vacuumMu: number }): void {
    this.touch();
    this.levels = levels;
  }
  monitorSignalMu(): number {
    this.touch();
    return this.levels.signalMu * this.efficiency;
  }
  rngHealthFailures(): number {
    this.touch();
    return this.rngFailures;
  }
  private emitted(atMs: number): number {
    const f = this.frame!;
    const perMs = Math.floor(this.rateMhz * 1000);
    return Math.min(f.pulses, Math.floor(atMs - f.startMs) * perMs);
  }
  private settle(): void {
    if (this.frame && this.frame.stoppedAtMs === null && this.emitted(this.w.clock.now()) >= this.frame.pulses) {
      this.frame.stoppedAtMs = this.frame.startMs + Math.ceil(this.frame.pulses / Math.floor(this.rateMhz * 1000));
    }
  }
  startFrame(frameNumber: number, pulses: number): void {
    this.touch();
    if (this.frame) {
      this.finish();
      this.totalEmitted += this.emitted(this.frame.stoppedAtMs!);
    }
    this.frame = { n: frameNumber, pulses, startMs: this.w.clock.now(), stoppedAtMs: null };
    this.framesStarted.push(frameNumber);
  }
  private finish(): void {
    if (this.frame) {
      this.settle();
      if (this.frame.stoppedAtMs === null) this.frame.stoppedAtMs = this.w.clock.now();
    }
  }
  stopFrame(): void {
    this.touch();
    if (this.frame && this.frame.stoppedAtMs === null) {
      this.frame.stoppedAtMs = this.w.clock.now();
    }
  }
  frameReport(): SourceFrameReport | null {
    this.touch();
    if (!this.frame) return null;
    this.settle();
    const f = this.frame;
    const end = f.stoppedAtMs ?? this.w.clock.now();
    return { frameNumber: f.n, pulsesEmitted: this.emitted(end), ended: f.stoppedAtMs !== null };
  }
  /** Pulses emitted by all frames so far (closed ones counted once). */
  pulsesEmittedTotal(): number {
    return this.totalEmitted + (this.frame ? this.emitted(this.frame.stoppedAtMs ?? this.w.clock.now()) : 0);
  }
  override reset(): void {
    super.reset();
  }
}

class FakeLct extends FakeBoard implements LinkPort {
  override readonly board = 'lct' as const;
  up = true;
  /** Drop-out windows [fromMs, toMs). */
  dropouts: Array<[number, number]> = [];
  constructor(w: FakeWorld) {
    super('lct', w);
  }
  linkUp(): boolean {
    this.touch();
    const now = this.w.clock.now();
    return this.up && !this.dropouts.some(([a, b]) => now >= a && now < b);
  }
  timeSync() {
    this.touch();
    return { locked: true, epochMs: 0 };
  }
}

/** The controller flash of the bench, except that writing an image leaves the active bank as it was. */
export class FakeConfigStore extends ControllerFlash {
  override flash(bank: BankName, image: Uint8Array): void {
    const active = this.activeBank();
    super.flash(bank, image);
    this.selectBank(active);
  }
}

export class FakeWorld {
  readonly clock: PayloadClock;
  readonly seed: number;
  beaconOffset: { x: number; y: number };
  beaconOnMs: number;
  beaconOffMs = Infinity;
  passStartMs: number;
  passEndMs: number;
  maxElevationDeg: number;
  jitterUrad: number;
  readonly apt: FakeApt;
  readonly acs: FakeAcs;
  readonly qsrc: FakeQsrc;
  readonly lct: FakeLct;
  readonly config = new FakeConfigStore();

  constructor(o: WorldOptions) {
    this.clock = o.clock;
    this.seed = o.seed;
    this.beaconOffset = o.beaconOffsetUrad ?? { x: 700, y: -450 };
    this.beaconOnMs = o.beaconOnMs ?? 0;
    this.passStartMs = o.passStartMs ?? 0;
    this.passEndMs = o.passEndMs ?? 300_000;
    this.maxElevationDeg = o.maxElevationDeg ?? 60;
    this.jitterUrad = o.jitterUrad ?? 0.4;
    this.apt = new FakeApt(this);
    this.acs = new FakeAcs(this);
    this.qsrc = new FakeQsrc(this);
    this.lct = new FakeLct(this);
  }

  beaconOn(): boolean {
    const now = this.clock.now();
    return now >= this.beaconOnMs && now < this.beaconOffMs;
  }

  /** Elevation over the pass: a half sine from 0 at start and end to the maximum. */
  elevationDeg(): number {
    const now = this.clock.now();
    if (now <= this.passStartMs || now >= this.passEndMs) return 0;
    return this.maxElevationDeg * Math.sin((Math.PI * (now - this.passStartMs)) / (this.passEndMs - this.passStartMs));
  }

  ports(): PayloadPorts {
    return { pointing: this.apt, attitude: this.acs, source: this.qsrc, link: this.lct, config: this.config };
  }
}
