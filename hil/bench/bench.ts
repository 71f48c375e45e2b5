import { resolve } from 'node:path';
import { type Clock, SimClock, sleep, WallClock } from '../../boards/clock.ts';
import { type BoardDefinition, type BoardName, loadBoardDefinition, register } from '../../boards/definitions.ts';
import { type BoardEmulator, createEmulator } from '../../boards/emulator/index.ts';
import type { Identity, SimControl } from '../../protocols/board-link.ts';
import { APID_PAYLOAD, encodeCommand } from '../../protocols/dictionary/index.ts';
import { SequenceCounter } from '../../protocols/space-packet.ts';
import { CaptureWriter } from '../capture.ts';
import { startQemuAgent } from '../agent/qemu-host.ts';
import { startNativeAgent } from '../agent/native-host.ts';
import { BoardDriver } from '../driver.ts';
import { lockstepInProcess, spawnEmulatorProcess, stopChild } from '../emulator-host.ts';
import { BoardError } from '../errors.ts';
import { FrameLink } from '../framing.ts';
import { type ByteFaults, FaultyTransport } from '../transport/faulty.ts';
import { DEFAULT_QUANTUM_MS, installLockstep, LockstepLine } from '../transport/lockstep.ts';
import { emulatorTransport } from '../transport/memory.ts';
import { boardSerialSettings, Rfc2217Transport } from '../transport/rfc2217.ts';
import { SerialTransport } from '../transport/serial.ts';
import { TcpTransport } from '../transport/tcp.ts';
import { type ByteTransport, TransportError } from '../transport/types.ts';
import { type BenchConfig, type BoardConfig, describeBoardLine } from './config.ts';
import { boardSeed } from './seeds.ts';
import { LimitMonitor } from './limits.ts';
import { ingestPayloadTm } from './tm-ingest.ts';
import type { PayloadEndpoint } from './payload.ts';
import { type EventRecord, type Sample, TelemetryStore, type Value } from './store.ts';

export class BenchTimeout extends Error {
  override readonly name = 'BenchTimeout';
}

/** One board on the bench: its driver, its line, and (when emulated) the environment controls. */
export class BenchBoard {
  /** What the board said at its identity check when the bench opened (null until then). */
  identity: Identity | null = null;

  constructor(
    readonly name: BoardName,
    readonly def: BoardDefinition,
    readonly driver: BoardDriver,
    readonly line: FaultyTransport,
    /** The capture file of this line; null when the bench was opened without captures. */
    readonly capture: CaptureWriter | null,
    private readonly bench: Bench,
    /** Present only for in-process emulators. */
    readonly emulator: BoardEmulator | undefined,
  ) {}

  get port(): string {
    return this.line.description;
  }

  read(...names: string[]) {
    return this.driver.read(...names);
  }
  write(values: Record<string, number>) {
    return this.driver.write(values);
  }

  // Environment and faults of an emulated board (over the board link, so the same call
  // works in-process, on a pty and over TCP; a real board refuses with NOT_EMULATED).
  beacon(xUrad: number, yUrad: number, visible = true) {
    return this.sim({ kind: 'BEACON', xUrad, yUrad, visible });
  }
  linkLoss(lossDb: number, dropout = false) {
    return this.sim({ kind: 'LINK', lossDb, dropout });
  }
  ambient(ambientC: number) {
    return this.sim({ kind: 'TEMPERATURE', ambientC });
  }
  fault(name: string, active = true) {
    return this.sim({ kind: 'FAULT', faultId: this.driver.faultId(name), active });
  }
  /** Cuts the board's power now (after the answer) or after `afterRxBytes` more received bytes; it boots after offMs. */
  async powerLoss(offMs: number, afterRxBytes = 0): Promise<void> {
    this.driver.link.note('power-loss', `off ${offMs} ms after ${afterRxBytes} rx bytes`);
    await this.sim({ kind: 'POWER_LOSS', afterRxBytes, offMs });
  }
  async reset(): Promise<void> {
    this.driver.link.note('reset');
    await this.driver.reset();
  }
  sim(ctrl: SimControl): Promise<void> {
    this.driver.link.note('sim', JSON.stringify(ctrl));
    return this.driver.sim(ctrl);
  }

  // Transport faults (any board, real or emulated).
  injectBytes(f: ByteFaults): void {
    this.driver.link.note('inject', JSON.stringify(f));
    this.line.inject(f);
  }
  clearFaults(): void {
    this.driver.link.note('inject-clear');
    this.line.clear();
  }
  disconnect(): void {
    this.driver.link.note('disconnect');
    this.line.disconnect();
  }
  reconnect(): void {
    this.driver.link.note('reconnect');
    this.line.reconnect();
  }

  /** Frames the bench's framing rejected on this link so far. */
  get rejectedFrames(): number {
    return this.driver.link.rejected;
  }
}

export interface BenchOptions {
  seed?: number;
  /** Boards to connect (default: every board in the config). */
  boards?: BoardName[];
  /** Name used for capture files. */
  runName?: string;
  /** Repository root (for spawning emulator processes). */
  root?: string;
  payload?: PayloadEndpoint;
  /**
   * Write a capture file per board line (default true). A synchronous sim-time loop that
   * moves ~10^5 frames (the mission pass) turns them off: the file stream would only
   * drain after the loop.
   */
  capture?: boolean;
}

interface Owned {
  close(): Promise<void> | void;
}

/** A board resource turned into a byte line: the transport, and the emulator when it is in this process. */
interface Line {
  transport: ByteTransport;
  emulator?: BoardEmulator;
}

/**
 * The bench: boards on their lines, a clock (simulated or wall), telemetry histories,
 * limits monitoring, captures, and the suite API. Every wait is in bench time, so a
 * suite reads the same against in-process emulators (simulated time) and against a
 * pty emulator or a real board (wall time).
 */
export class Bench {
  readonly store = new TelemetryStore();
  readonly limits = new LimitMonitor();
  private readonly boardsByName = new Map<BoardName, BenchBoard>();
  private readonly owned: Owned[] = [];
  private payload: PayloadEndpoint | null = null;
  private readonly tcSeq = new SequenceCounter();
  readonly tcLog: { t: number; name: string; seq: number; args: Record<string, unknown> }[] = [];
  readonly captures: string[] = [];

  private constructor(
    readonly config: BenchConfig,
    readonly clock: Clock,
    readonly seed: number,
    readonly runName: string,
    private readonly captureFiles: boolean,
    /** The lockstep quantum when emulated boards follow the bench clock through lockstep hosts, else null. */
    readonly lockstepQuantumMs: number | null,
  ) {
    this.limits.onTransition((tr) => this.store.addEvent({ t: tr.t, name: `limit:${tr.item}`, severity: tr.to, fields: { value: tr.value, from: tr.from, to: tr.to, detail: tr.detail } }));
  }

  /**
   * Checks the boards and picks the clock: simulated when the bench emulates every board
   * itself (modes emulated and pty; clock auto), else wall. On simulated time, boards in
   * processes the bench starts follow the clock in lockstep (see `lockstepQuantumMs`).
   */
  private static create(config: BenchConfig, opts: BenchOptions): { bench: Bench; names: BoardName[]; root: string } {
    const names = (opts.boards ?? (Object.keys(config.boards) as BoardName[])).slice();
    for (const n of names) if (!config.boards[n]) throw new BoardError('PORT_NOT_FOUND', n, '(none)', `bench '${config.name}' has no board ${n}`);
    const plan = clockPlan(config, names);
    const clock: Clock = plan.clock === 'sim' ? new SimClock() : new WallClock();
    const quantumMs = plan.lockstepQuantumMs;
    const bench = new Bench(config, clock, opts.seed ?? 1, opts.runName ?? `${config.name}-${Date.now()}`, opts.capture ?? true, quantumMs);
    return { bench, names, root: opts.root ?? process.cwd() };
  }

  /**
   * Opens every board's line (the one factory: in-process emulator, emulator process on a
   * pty, serial port, TCP, RFC 2217), checks each board's identity and starts its telemetry stream
   * when the config says so. A line that cannot be opened fails naming board, port and
   * cause. Lines off the bench clock open together (emulator processes start in
   * parallel); boards are then attached and identified in board order, an in-process
   * emulator on the bench's own clock created in its turn.
   */
  static async open(config: BenchConfig, opts: BenchOptions = {}): Promise<Bench> {
    const { bench, names, root } = Bench.create(config, opts);
    try {
      const opened = await Promise.allSettled(names.map((n) => bench.openLine(n, config.boards[n]!, root)));
      const failed = opened.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      const lines = opened.map((r) => (r as PromiseFulfilledResult<Line | null>).value);
      bench.startLockstep(lines);
      for (const [i, n] of names.entries()) {
        const board = bench.attach(n, lines[i] ?? bench.memoryLine(n, config.boards[n]!)!, root);
        bench.boardsByName.set(n, board);
        board.identity = await board.driver.verifyIdentity();
        if (config.stream) await board.driver.startStream();
      }
      if (opts.payload) bench.attachPayload(opts.payload);
    } catch (e) {
      await bench.close();
      throw e;
    }
    return bench;
  }

  /**
   * The same bench opened without awaiting anything, for synchronous sim-time loops (the
   * mission pass): every board must be an in-process emulator, whose memory line is open
   * at once (behind a lockstep host with \`lockstep: "always"\`: its grants complete
   * inside their write). Drivers are built by the same code as open(); boards are not
   * identified and no stream is started (the payload's self-test, or the strategy's
   * 'powered', does that).
   */
  static openInProcess(config: BenchConfig, opts: BenchOptions = {}): Bench {
    const { bench, names, root } = Bench.create(config, opts);
    if (bench.clock.kind !== 'sim') throw new BoardError('PORT_OPEN_FAILED', names.join(','), '(bench)', `bench '${config.name}' runs on the wall clock: open it with Bench.open`);
    const other = names.find((n) => config.boards[n]!.mode !== 'emulated');
    if (other) throw new BoardError('PORT_OPEN_FAILED', other, '(bench)', `board ${other} is not in-process (mode ${config.boards[other]!.mode}): open the bench with Bench.open`);
    const lockstepLines = names.map((n) => bench.lockstepHostLine(n, config.boards[n]!));
    bench.startLockstep(lockstepLines);
    for (const [i, n] of names.entries()) bench.boardsByName.set(n, bench.attach(n, lockstepLines[i] ?? bench.memoryLine(n, config.boards[n]!)!, root));
    return bench;
  }

  /** Every board is an emulator in this process (environment, faults and physics can be reached directly). */
  get inProcess(): boolean {
    return this.boards.length > 0 && this.boards.every((b) => b.emulator !== undefined);
  }

  board(name: BoardName): BenchBoard {
    const b = this.boardsByName.get(name);
    if (!b) throw new Error(`board ${name} is not on this bench (have: ${[...this.boardsByName.keys()].join(', ') || 'none'})`);
    return b;
  }

  get boards(): BenchBoard[] {
    return [...this.boardsByName.values()];
  }

  /** Bench time, ms. */
  now(): number {
    return this.clock.now();
  }

  /** A mark for "since" queries: the current bench time. */
  mark(): number {
    return this.clock.now();
  }

  /** Waits `ms` of bench time (a SimClock runs held meanwhile, awaiting lockstep grants). */
  sleep(ms: number): Promise<void> {
    return sleep(this.clock, ms);
  }

  /**
   * Waits until `cond()` holds, re-checking on every new sample and every 10 ms of
   * bench time, for at most timeoutMs of bench time. Throws BenchTimeout naming `what`.
   */
  waitFor<T>(cond: () => T | undefined | false, opts: { timeoutMs: number; what: string }): Promise<T> {
    return new Promise((resolve, reject) => {
      const first = cond();
      if (first) return resolve(first);
      const release = this.clock.hold();
      let poll: unknown = null;
      const done = (fn: () => void) => {
        unsub();
        this.clock.clearTimeout(timer);
        if (poll !== null) this.clock.clearTimeout(poll);
        release();
        fn();
      };
      const check = () => {
        let v: T | undefined | false;
        try {
          v = cond();
        } catch (e) {
          return done(() => reject(e));
        }
        if (v) done(() => resolve(v as T));
      };
      const unsub = this.store.subscribe(check);
      const tick = () => {
        check();
        poll = this.clock.setTimeout(tick, 10);
      };
      poll = this.clock.setTimeout(tick, 10);
      const timer = this.clock.setTimeout(() => done(() => reject(new BenchTimeout(`timed out after ${opts.timeoutMs} ms of bench time waiting for ${opts.what}`))), opts.timeoutMs);
    });
  }

  /** Waits for a new sample of `item` (arriving from now on) that satisfies pred. */
  waitTlm(item: string, pred: (v: Value) => boolean, opts: { timeoutMs: number; since?: number }): Promise<Sample> {
    const since = opts.since ?? this.mark();
    return this.waitFor(() => this.store.history(item, since).find((s) => pred(s.value)), { timeoutMs: opts.timeoutMs, what: `${item} to satisfy ${pred.toString()}` });
  }

  history(item: string, since?: number): Sample[] {
    return this.store.history(item, since);
  }

  latest(item: string): Value | undefined {
    return this.store.latest(item)?.value;
  }

  /** Waits for an event (dictionary event name, or "limit:<item>") since a mark, optionally matching its fields. */
  assertEvent(name: string, opts: { timeoutMs: number; since?: number; where?: (fields: Record<string, unknown>) => boolean }): Promise<EventRecord> {
    const since = opts.since ?? this.mark();
    return this.waitFor(() => this.store.eventsSince(since, name).find((e) => !opts.where || opts.where(e.fields)), { timeoutMs: opts.timeoutMs, what: `event ${name}` });
  }

  events(since?: number, name?: string): EventRecord[] {
    return this.store.eventsSince(since, name);
  }

  // ------------------------------------------------------------ payload (PUS)

  /** Binds the payload controller's PUS packet stream: TM is decoded by the dictionary into histories and events. */
  attachPayload(endpoint: PayloadEndpoint): void {
    this.payload = endpoint;
    endpoint.onTm((p) => this.onTm(p));
  }

  /**
   * Sends a telecommand by dictionary name (arguments range-checked by the dictionary,
   * which throws FIELD_OUT_OF_RANGE naming the field before anything is sent). With
   * `await`, waits for that command's ST01 report (acceptance or completion) and
   * throws if it failed. Returns the TC's sequence count.
   */
  async cmd(name: string, args: Record<string, unknown> = {}, opts: { await?: 'none' | 'acceptance' | 'completion'; timeoutMs?: number } = {}): Promise<number> {
    if (!this.payload) throw new Error(`cmd ${name}: no payload endpoint on this bench (attachPayload first)`);
    const seq = this.tcSeq.take(APID_PAYLOAD);
    const packet = encodeCommand(name, args, { seq });
    const since = this.mark();
    this.tcLog.push({ t: since, name, seq, args });
    this.payload.sendTc(packet);
    const wait = opts.await ?? 'acceptance';
    if (wait === 'none') return seq;
    const okName = wait === 'acceptance' ? 'VERIFY_ACCEPT_OK' : 'VERIFY_COMPLETE_OK';
    const ev = await this.waitFor(
      () => this.store.eventsSince(since).find((e) => e.name.startsWith('VERIFY_') && e.fields.tcSeq === seq && (e.name === okName || e.name.endsWith('_FAIL'))),
      { timeoutMs: opts.timeoutMs ?? 2000, what: `${okName} for ${name} (seq ${seq})` },
    );
    if (ev.name.endsWith('_FAIL')) throw new Error(`${name} (seq ${seq}) failed: ${ev.name} ${String(ev.fields.failureCode)} ${String(ev.fields.detail ?? '')}`);
    return seq;
  }

  private onTm(packet: Uint8Array): void {
    ingestPayloadTm(this.store, this.limits, this.clock.now(), packet);
    this.store.notify();
  }

  // ------------------------------------------------------------ connection

  /** An in-process board sharing the bench's clock: its emulator on a memory line (open at once); null for any other mode. */
  private memoryLine(name: BoardName, bc: BoardConfig): Line | null {
    if (bc.mode !== 'emulated') return null;
    const emulator = createEmulator(name, { clock: this.clock, seed: boardSeed(this.seed, name), baud: bc.baud });
    const transport = emulatorTransport(emulator, this.clock);
    void transport.open(); // a memory line has nothing to wait for
    return { transport, emulator };
  }

  /**
   * An in-process board on a lockstep bench: its emulator behind the same lockstep host as
   * an emulator process (on its own SimClock, an unpaced memory pipe), so its line timing
   * is that of a pty or TCP board. Null unless the bench is in lockstep and the board in-process.
   */
  private lockstepHostLine(name: BoardName, bc: BoardConfig): Line | null {
    if (bc.mode !== 'emulated' || this.lockstepQuantumMs === null) return null;
    const { emulator, transport } = lockstepInProcess(name, { seed: boardSeed(this.seed, name), baud: bc.baud });
    const line = new LockstepLine(transport, this.clock);
    void line.open(); // a memory line has nothing to wait for
    return { transport: line, emulator };
  }

  /**
   * A board resource as an open line; errors name the board, the port and the cause. Null
   * for an in-process emulator on the bench's own clock: memoryLine creates it when the
   * board's turn comes (creating it schedules its physics on that clock).
   */
  private async openLine(name: BoardName, bc: BoardConfig, root: string): Promise<Line | null> {
    if (bc.mode === 'emulated') return this.lockstepHostLine(name, bc);
    const def = loadBoardDefinition(name);
    let transport: ByteTransport;
    if (bc.mode === 'pty') {
      const lockstep = this.lockstepQuantumMs !== null;
      const { address, child } = await spawnEmulatorProcess(root, name, { seed: boardSeed(this.seed, name), baud: bc.baud, lockstep });
      this.owned.push({ close: () => stopChild(child) });
      const serial = new SerialTransport({ path: address, baudRate: bc.baud ?? def.serial.baud, parity: def.serial.parity, stopBits: def.serial.stopBits });
      transport = lockstep ? new LockstepLine(serial, this.clock) : serial;
    } else if (bc.mode === 'qemu') {
      // The Cortex-M3 agent in QEMU: to the bench a real board on a serial device (wall clock).
      const qemu = await startQemuAgent(root, name);
      this.owned.push({ close: () => qemu.close() });
      transport = new SerialTransport({ path: qemu.address, baudRate: bc.baud ?? def.serial.baud, parity: def.serial.parity, stopBits: def.serial.stopBits });
    } else if (bc.mode === 'agent') {
      // The native board agent (host build) on a pty: to the bench a real board (wall clock).
      const agent = await startNativeAgent(name, { sanitize: bc.sanitize });
      this.owned.push({ close: () => agent.close() });
      transport = new SerialTransport({ path: agent.address, baudRate: bc.baud ?? def.serial.baud, parity: def.serial.parity, stopBits: def.serial.stopBits });
    } else if (bc.mode === 'port' || bc.mode === 'tcp' || bc.mode === 'rfc2217') {
      const line =
        bc.mode === 'port'
          ? new SerialTransport({ path: bc.path, baudRate: bc.baud ?? def.serial.baud, parity: def.serial.parity, stopBits: def.serial.stopBits })
          : bc.mode === 'tcp'
            ? new TcpTransport(bc.host, bc.port)
            : new Rfc2217Transport(bc.host, bc.port, boardSerialSettings(def.serial, bc.baud));
      // On a lockstep bench such a line is an emulator started with --lockstep by someone else (ser2net exporting its pty, say).
      transport = this.lockstepQuantumMs !== null ? new LockstepLine(line, this.clock) : line;
    } else {
      throw new Error(`unreachable: board ${name} mode ${(bc as BoardConfig).mode}`);
    }
    try {
      await transport.open();
    } catch (e) {
      const code = e instanceof TransportError && (e.code === 'PORT_NOT_FOUND' || e.code === 'CONNECT_FAILED') ? e.code : 'PORT_OPEN_FAILED';
      throw new BoardError(code, name, transport.description, (e as Error).message);
    }
    return { transport };
  }

  /** Makes the lockstep lines among `lines` follow the bench clock (every one granted each quantum, in parallel). */
  private startLockstep(lines: readonly (Line | null)[]): void {
    if (this.lockstepQuantumMs === null) return;
    const lockstep = lines.flatMap((l) => (l?.transport instanceof LockstepLine ? [l.transport] : []));
    const stop = installLockstep(this.clock as SimClock, lockstep, this.lockstepQuantumMs);
    // Closed first (owned closes in reverse): no grant goes to a line being closed.
    this.owned.push({ close: stop });
  }

  /** Puts a board on an open line: fault injection, capture, framing, its driver, telemetry into the histories (the caller adds it to the bench). */
  private attach(name: BoardName, { transport, emulator }: Line, root: string): BenchBoard {
    const def = loadBoardDefinition(name);
    const bc = this.config.boards[name]!;
    this.owned.push({ close: () => transport.close() });
    const line = new FaultyTransport(transport, this.clock, this.seed ^ def.identity.boardId);
    // A TCP line (ser2net) has no UART rate of its own: the board's serial rate stands in.
    const baud = bc.mode === 'tcp' ? def.serial.baud : (bc.baud ?? emulator?.baud ?? def.serial.baud);
    let capture: CaptureWriter | null = null;
    if (this.captureFiles) {
      const capPath = resolve(root, this.config.captureDir, `${safe(this.runName)}.${name}.cap.jsonl`);
      const writer = new CaptureWriter(capPath, { board: name, port: transport.description, clock: this.clock.kind, baud, seed: this.seed, startedAt: new Date().toISOString() });
      this.captures.push(capPath);
      this.owned.push({ close: () => writer.close() });
      capture = writer;
    }
    const link = new FrameLink(line, this.clock, capture);
    // The grant traffic never reaches the capture (docs/bench.md "Lockstep"): the quantum says all of it.
    if (transport instanceof LockstepLine) link.note('lockstep', `quantum ${this.lockstepQuantumMs} ms`);
    // Timeouts grow with the wire time of each exchange at the line rate.
    const driver = new BoardDriver(def, link, { clock: this.clock, timeoutMs: this.config.timeoutMs ?? def.link.timeoutMs, retries: this.config.retries ?? def.link.retries, baud });
    this.owned.push({ close: () => driver.close() });
    transport.onClose((reason) => {
      link.note('line-closed', reason);
      this.store.addEvent({ t: this.clock.now(), name: `board:${name}:line-closed`, fields: { reason } });
      this.store.notify();
    });
    driver.onTelemetrySample((s) => {
      for (const [k, v] of Object.entries(s.values)) {
        const item = `${name}.${k}`;
        this.store.add(item, s.t, v);
        const reg = register(def, k);
        if (reg.limits) this.limits.check(item, s.t, v, reg.limits);
      }
      this.store.notify();
    });
    return new BenchBoard(name, def, driver, line, capture, this, emulator);
  }

  /** Stops streams, closes lines, stops emulator processes, flushes captures. Never throws. */
  async close(): Promise<void> {
    for (const b of this.boardsByName.values()) {
      b.line.clear();
      b.line.reconnect();
      if (this.config.stream) await b.driver.stopStream().catch(() => undefined);
      b.emulator?.shutdown();
    }
    for (const o of this.owned.reverse()) {
      try {
        await o.close();
      } catch {
        // closing is best effort
      }
    }
    this.owned.length = 0;
    await this.payload?.close?.();
  }
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** How a bench runs time: its clock, and the lockstep quantum when emulated boards follow it through lockstep hosts. */
export interface ClockPlan {
  clock: 'sim' | 'wall';
  lockstepQuantumMs: number | null;
}

/**
 * The clock of a bench with `names` on it: simulated when the bench emulates every board
 * itself (clock auto), else wall; lockstep on simulated time when a board runs in a process
 * the bench starts (or with lockstep "always"). With clock "sim" and lockstep "always",
 * port and tcp boards are taken for emulators in lockstep that the bench did not start
 * (`npm run emulate -- BOARD --lockstep`, exported by ser2net, say). Throws naming the
 * boards when the config asks for simulated time with any other real board, or lockstep
 * on the wall clock.
 */
export function clockPlan(config: BenchConfig, names: readonly BoardName[]): ClockPlan {
  const real = names.filter((n) => !emulatedByBench(config.boards[n]!));
  const clock = config.clock === 'auto' ? (real.length === 0 ? 'sim' : 'wall') : config.clock;
  if (clock === 'sim' && real.length > 0 && config.lockstep !== 'always') {
    throw new BoardError('PORT_OPEN_FAILED', real.join(','), '(bench)', `simulated time needs every board emulated by the bench (mode "emulated" or "pty"); ${real.map((n) => `${n} is ${describeBoardLine(config.boards[n]!)}`).join(', ')}: such boards run on the wall clock (emulators started with --lockstep on such lines need lockstep "always")`);
  }
  if (config.lockstep === 'always' && clock !== 'sim') throw new BoardError('PORT_OPEN_FAILED', names.join(','), '(bench)', `lockstep "always" needs simulated time (bench '${config.name}' runs on the wall clock)`);
  const remote = names.some((n) => config.boards[n]!.mode === 'pty');
  const lockstep = clock === 'sim' && (remote || config.lockstep === 'always');
  return { clock, lockstepQuantumMs: lockstep ? (config.lockstepQuantumMs ?? DEFAULT_QUANTUM_MS) : null };
}

/** Whether the bench itself emulates the board (in-process, or an emulator process it starts): what simulated time needs. */
export function emulatedByBench(bc: BoardConfig): boolean {
  return bc.mode === 'emulated' || bc.mode === 'pty';
}
