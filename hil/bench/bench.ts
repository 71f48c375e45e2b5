import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { type Clock, SimClock, WallClock } from '../../boards/clock.ts';
import { type BoardDefinition, type BoardName, loadBoardDefinition, register } from '../../boards/definitions.ts';
import { type BoardEmulator, createEmulator } from '../../boards/emulator/index.ts';
import type { Identity, SimControl } from '../../protocols/board-link.ts';
import { APID_PAYLOAD, encodeCommand } from '../../protocols/dictionary/index.ts';
import { SequenceCounter } from '../../protocols/space-packet.ts';
import { CaptureWriter } from '../capture.ts';
import { BoardDriver } from '../driver.ts';
import { BoardError } from '../errors.ts';
import { FrameLink } from '../framing.ts';
import { type ByteFaults, FaultyTransport } from '../transport/faulty.ts';
import { emulatorTransport } from '../transport/memory.ts';
import { SerialTransport } from '../transport/serial.ts';
import { TcpTransport } from '../transport/tcp.ts';
import { type ByteTransport, TransportError } from '../transport/types.ts';
import type { BenchConfig, BoardConfig } from './config.ts';
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
  ) {
    this.limits.onTransition((tr) => this.store.addEvent({ t: tr.t, name: `limit:${tr.item}`, severity: tr.to, fields: { value: tr.value, from: tr.from, to: tr.to, detail: tr.detail } }));
  }

  /** Checks the boards and picks the clock: simulated when every board is in-process (clock auto), else wall. */
  private static create(config: BenchConfig, opts: BenchOptions): { bench: Bench; names: BoardName[]; root: string } {
    const names = (opts.boards ?? (Object.keys(config.boards) as BoardName[])).slice();
    for (const n of names) if (!config.boards[n]) throw new BoardError('PORT_NOT_FOUND', n, '(none)', `bench '${config.name}' has no board ${n}`);
    const allInProcess = names.every((n) => config.boards[n]!.mode === 'emulated');
    const clockKind = config.clock === 'auto' ? (allInProcess ? 'sim' : 'wall') : config.clock;
    if (clockKind === 'sim' && !allInProcess) throw new BoardError('PORT_OPEN_FAILED', names.join(','), '(bench)', 'simulated time needs every board in-process (mode "emulated")');
    const clock: Clock = clockKind === 'sim' ? new SimClock() : new WallClock();
    const bench = new Bench(config, clock, opts.seed ?? 1, opts.runName ?? `${config.name}-${Date.now()}`, opts.capture ?? true);
    return { bench, names, root: opts.root ?? process.cwd() };
  }

  /**
   * Opens every board's line (the one factory: in-process emulator, emulator process on a
   * pty, serial port, TCP), checks each board's identity and starts its telemetry stream
   * when the config says so. A line that cannot be opened fails naming board, port and cause.
   */
  static async open(config: BenchConfig, opts: BenchOptions = {}): Promise<Bench> {
    const { bench, names, root } = Bench.create(config, opts);
    try {
      for (const n of names) {
        const board = bench.attach(n, await bench.openLine(n, config.boards[n]!, root), root);
        board.identity = await board.driver.verifyIdentity();
        if (config.stream) await board.driver.startStream();
        bench.boardsByName.set(n, board);
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
   * at once. Drivers are built by the same code as open(); boards are not identified and
   * no stream is started (the payload's self-test, or the strategy's 'powered', does that).
   */
  static openInProcess(config: BenchConfig, opts: BenchOptions = {}): Bench {
    const { bench, names, root } = Bench.create(config, opts);
    if (bench.clock.kind !== 'sim') throw new BoardError('PORT_OPEN_FAILED', names.join(','), '(bench)', `bench '${config.name}' runs on the wall clock: open it with Bench.open`);
    for (const n of names) {
      const line = bench.memoryLine(n, config.boards[n]!);
      if (!line) throw new BoardError('PORT_OPEN_FAILED', n, '(bench)', `board ${n} is not in-process (mode ${config.boards[n]!.mode}): open the bench with Bench.open`);
      bench.boardsByName.set(n, bench.attach(n, line, root));
    }
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

  sleep(ms: number): Promise<void> {
    const release = this.clock.hold();
    return new Promise((resolve) =>
      this.clock.setTimeout(() => {
        release();
        resolve();
      }, ms),
    );
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

  /** An in-process board: its emulator on a memory line (open at once); null for any other mode. */
  private memoryLine(name: BoardName, bc: BoardConfig): Line | null {
    if (bc.mode !== 'emulated') return null;
    const emulator = createEmulator(name, { clock: this.clock, seed: boardSeed(this.seed, name), baud: bc.baud });
    const transport = emulatorTransport(emulator, this.clock);
    void transport.open(); // a memory line has nothing to wait for
    return { transport, emulator };
  }

  /** A board resource as an open line; errors name the board, the port and the cause. */
  private async openLine(name: BoardName, bc: BoardConfig, root: string): Promise<Line> {
    const memory = this.memoryLine(name, bc);
    if (memory) return memory;
    const def = loadBoardDefinition(name);
    let transport: ByteTransport;
    if (bc.mode === 'pty') {
      const { path, child } = await spawnEmulator(root, name, boardSeed(this.seed, name), bc.baud);
      this.owned.push({ close: () => stopChild(child) });
      transport = new SerialTransport({ path, baudRate: bc.baud ?? def.serial.baud, parity: def.serial.parity, stopBits: def.serial.stopBits });
    } else if (bc.mode === 'port') {
      transport = new SerialTransport({ path: bc.path, baudRate: bc.baud ?? def.serial.baud, parity: def.serial.parity, stopBits: def.serial.stopBits });
    } else if (bc.mode === 'tcp') {
      transport = new TcpTransport(bc.host, bc.port);
    } else {
      throw new Error(`unreachable: board ${name} mode ${bc.mode}`);
    }
    try {
      await transport.open();
    } catch (e) {
      const code = e instanceof TransportError && (e.code === 'PORT_NOT_FOUND' || e.code === 'CONNECT_FAILED') ? e.code : 'PORT_OPEN_FAILED';
      throw new BoardError(code, name, transport.description, (e as Error).message);
    }
    return { transport };
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

/** Starts `scripts/emulate.ts BOARD` as a child process and reads the pty path it prints. */
export function spawnEmulator(root: string, board: string, seed: number, baud?: number, timeoutMs = 15_000): Promise<{ path: string; child: ChildProcess }> {
  const args = ['--import', 'tsx', join(root, 'scripts', 'emulate.ts'), board, '--seed', String(seed), ...(baud ? ['--baud', String(baud)] : [])];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolvePath, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new BoardError('PORT_OPEN_FAILED', board, 'pty', `emulator process printed no device path within ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolvePath({ path: out.slice(0, nl).trim(), child });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new BoardError('PORT_OPEN_FAILED', board, 'pty', `emulator process exited (${code}): ${err.trim()}`));
    });
  });
}

export function stopChild(child: ChildProcess, timeoutMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}
