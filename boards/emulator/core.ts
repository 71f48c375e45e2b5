import {
  type BoardRequest,
  decodeBoardMessage,
  encodeResponse,
  encodeTelemetry,
  frameMessage,
  type Opcode,
  packFwVersion,
  packHwVersion,
  peekRequestHeader,
  type ResponseBody,
  type SimControl,
  type Status,
} from '../../protocols/board-link.ts';
import { crc32c } from '../../protocols/crc.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { decodeSerialFrame, DelimitedSplitter } from '../../protocols/serial-frame.ts';
import type { Clock } from '../clock.ts';
import { configFlash, fromRaw, inWriteRange, registerAt, toRaw, type BoardDefinition, type RegisterDef } from '../definitions.ts';
import { FlashMemory } from '../flash.ts';
import { hash32, nameHash, Prng } from '../prng.ts';
import { UartTx } from '../uart.ts';

/** The simulated world around a board: set by SIM requests (or directly in-process). */
export interface Environment {
  ambientC: number;
  beacon: { xUrad: number; yUrad: number; visible: boolean };
  link: { lossDb: number; dropout: boolean };
}

export function defaultEnvironment(): Environment {
  return { ambientC: 20, beacon: { xUrad: 0, yUrad: 0, visible: false }, link: { lossDb: 35, dropout: false } };
}

/** What a physics model sees of its board. */
export interface PhysicsContext {
  readonly def: BoardDefinition;
  readonly env: Environment;
  /** Stored engineering value of a register (what was last written, or its reset value). */
  get(name: string): number;
  faultActive(name: string): boolean;
  prng(stream: string): Prng;
}

/** The simulated hardware behind one board's registers. */
export interface PhysicsModel {
  /** Power-on state. */
  reset(): void;
  /** Advances the hardware by dtS seconds (called on a fixed 1 ms grid). */
  step(dtS: number): void;
  /** Engineering value of a register the hardware drives; undefined = plain stored value. */
  read(name: string): number | undefined;
  /** Board (PCB) temperature in degC. */
  boardTempC(): number;
}

/** State that survives power loss and reset: flash (with its active-bank option byte) and the reset counter. */
export interface PersistentState {
  flash: FlashMemory;
  resetCount: number;
}

export interface EmulatorOptions {
  clock: Clock;
  seed?: number;
  /** Line rate of the board's UART; defaults to the definition's serial baud. */
  baud?: number;
  /** Keep flash across emulator instances (a "reboot" of the whole process in-process). */
  persistent?: PersistentState;
}

export type ModelFactory = (ctx: PhysicsContext) => PhysicsModel;

interface PendingFlashOp {
  kind: 'erase' | 'program';
  address: number;
  length: number;
  data?: Uint8Array;
  startMs: number;
  endMs: number;
  timer: unknown;
  respond: () => void;
}

const STEP_MS = 1;
const MAX_STEPS_PER_ADVANCE = 20_000;

/**
 * A board emulator: board-link server, register file, memories, telemetry streaming,
 * power and reset, over a byte interface (receive / onTransmit) on any clock. Hosts
 * wire the bytes to an in-memory transport, a pseudo-terminal or a TCP socket.
 */
export class BoardEmulator {
  readonly seed: number;
  readonly baud: number;
  readonly env: Environment = defaultEnvironment();
  readonly persistent: PersistentState;
  readonly faults = new Set<number>();
  readonly serialNumber: number;
  powered = true;
  /** Counters for tests and diagnostics. */
  readonly stats = { rxBytes: 0, framesOk: 0, frameErrors: 0, requests: 0, duplicates: 0, telemetryFrames: 0, powerCuts: 0 };

  private readonly regs = new Map<string, number>();
  private readonly model: PhysicsModel;
  private readonly uart: UartTx;
  private splitter = new DelimitedSplitter();
  private readonly sinks = new Set<(bytes: Uint8Array) => void>();
  private readonly prngs = new Map<string, Prng>();
  private readonly ram = new Map<string, Uint8Array>();
  private bootAtMs = 0;
  private lastStepMs = 0;
  private rxFrameErrors = 0;
  private streamPeriodMs: number | null = null;
  private streamTimer: unknown = null;
  private streamSeq = 0;
  private lastRequest: { seq: number; bytes: Uint8Array; response: Uint8Array } | null = null;
  private pendingFlash: PendingFlashOp | null = null;
  private backlog: Uint8Array[] = [];
  private cutAfterRxBytes: number | null = null;
  private cutOffMs = 0;
  private rebootTimer: unknown = null;
  private backgroundTimer: unknown = null;
  private cutAfterReplyMs: number | null = null;
  private readonly persistListeners = new Set<() => void>();

  constructor(
    readonly def: BoardDefinition,
    modelFactory: ModelFactory,
    private readonly opts: EmulatorOptions,
  ) {
    this.seed = opts.seed ?? 1;
    this.baud = opts.baud ?? def.serial.baud;
    this.serialNumber = hash32(this.seed, def.identity.boardId, 0);
    const g = configFlash(def);
    this.persistent = opts.persistent ?? { flash: new FlashMemory({ base: g.base, size: g.size, pageSize: g.pageSize, banks: g.banks }), resetCount: 0 };
    this.uart = new UartTx(this.baud, opts.clock, (b) => this.emit(b), () => this.refillLineRate());
    const ctx: PhysicsContext = {
      def,
      env: this.env,
      get: (name) => this.stored(name),
      faultActive: (name) => {
        const f = def.faults.find((x) => x.name === name);
        return !!f && this.faults.has(f.id);
      },
      prng: (stream) => this.prng(stream),
    };
    this.model = modelFactory(ctx);
    this.boot();
    // On the wall clock, keep the physics current in the background so a request
    // never pays for catching up a long idle gap.
    if (opts.clock.kind === 'wall') {
      const tick = () => {
        this.advance();
        this.backgroundTimer = opts.clock.setTimeout(tick, 20);
      };
      this.backgroundTimer = opts.clock.setTimeout(tick, 20);
    }
  }

  /** Stops background work (wall clock); the emulator answers nothing afterwards. */
  shutdown(): void {
    if (this.backgroundTimer !== null) this.clock.clearTimeout(this.backgroundTimer);
    this.backgroundTimer = null;
    this.cutPower(-1);
  }

  get clock(): Clock {
    return this.opts.clock;
  }

  get flash(): FlashMemory {
    return this.persistent.flash;
  }

  /** Called whenever persistent state (flash, active bank, reset counter) changed: hosts save it. */
  onPersistentChange(cb: () => void): () => void {
    this.persistListeners.add(cb);
    return () => this.persistListeners.delete(cb);
  }

  private persisted(): void {
    for (const cb of this.persistListeners) cb();
  }

  /** Subscribes to bytes the board transmits (after UART pacing). */
  onTransmit(cb: (bytes: Uint8Array) => void): () => void {
    this.sinks.add(cb);
    return () => this.sinks.delete(cb);
  }

  /** Bytes arriving on the board's receive line. */
  receive(bytes: Uint8Array): void {
    if (!this.powered) return;
    let chunk = bytes;
    if (this.cutAfterRxBytes !== null) {
      const left = this.cutAfterRxBytes;
      if (chunk.length >= left) {
        const before = chunk.subarray(0, left);
        this.stats.rxBytes += before.length;
        this.feed(before);
        this.cutPower(this.cutOffMs);
        return;
      }
      this.cutAfterRxBytes -= chunk.length;
    }
    this.stats.rxBytes += chunk.length;
    this.feed(chunk);
  }

  /**
   * Arms a power cut at an exact byte of incoming traffic: the board processes the
   * first `afterRxBytes` bytes from now, loses power on the next, and boots again
   * `offMs` later with flash intact. afterRxBytes = 0 cuts at once.
   */
  armPowerCut(afterRxBytes: number, offMs: number): void {
    if (afterRxBytes <= 0) {
      this.cutPower(offMs);
      return;
    }
    this.cutAfterRxBytes = afterRxBytes;
    this.cutOffMs = offMs;
  }

  /** Cuts power now; with offMs >= 0 the board boots again after that long (offMs < 0: stays off until powerOn()). */
  cutPower(offMs: number): void {
    if (!this.powered) return;
    this.stats.powerCuts++;
    this.tearPendingFlash();
    this.powered = false;
    this.cutAfterRxBytes = null;
    this.stopStream();
    this.uart.flush();
    this.splitter = new DelimitedSplitter();
    this.backlog = [];
    this.lastRequest = null;
    if (offMs >= 0) this.rebootTimer = this.clock.setTimeout(() => this.powerOn(), offMs);
  }

  powerOn(): void {
    if (this.rebootTimer !== null) this.clock.clearTimeout(this.rebootTimer);
    this.rebootTimer = null;
    if (this.powered) return;
    this.powered = true;
    this.persistent.resetCount = (this.persistent.resetCount + 1) & 0xffff;
    this.persisted();
    this.boot();
  }

  /** Soft reset: like a power cycle of zero length (pending flash work completes first). */
  reset(): void {
    this.stopStream();
    this.uart.flush();
    this.splitter = new DelimitedSplitter();
    this.persistent.resetCount = (this.persistent.resetCount + 1) & 0xffff;
    this.persisted();
    this.boot();
  }

  setFault(id: number, active: boolean): boolean {
    if (!this.def.faults.some((f) => f.id === id)) return false;
    if (active) this.faults.add(id);
    else this.faults.delete(id);
    return true;
  }

  /** Engineering value of a register as the bench would read it now. */
  readRegister(name: string): number {
    const r = this.def.registers.find((x) => x.name === name);
    if (!r) throw new Error(`board ${this.def.name} has no register ${name}`);
    this.advance();
    return fromRaw(r, toRaw(r, this.readEng(r)) >>> 0);
  }

  /** Applies a simulation control as the SIM request does. Returns the status it answers. */
  applySim(s: SimControl): Status {
    switch (s.kind) {
      case 'BEACON':
        this.advance();
        this.env.beacon = { xUrad: s.xUrad, yUrad: s.yUrad, visible: s.visible };
        return 'OK';
      case 'LINK':
        this.advance();
        this.env.link = { lossDb: s.lossDb, dropout: s.dropout };
        return 'OK';
      case 'TEMPERATURE':
        this.advance();
        this.env.ambientC = s.ambientC;
        return 'OK';
      case 'FAULT':
        this.advance();
        return this.setFault(s.faultId, s.active) ? 'OK' : 'OUT_OF_RANGE';
      case 'POWER_LOSS':
        if (s.afterRxBytes === 0) {
          // Cut once the answer to this request has left the line (see execute()).
          this.cutAfterReplyMs = s.offMs;
        } else {
          this.cutAfterRxBytes = s.afterRxBytes;
          this.cutOffMs = s.offMs;
        }
        return 'OK';
      case 'STEP':
        // Time is granted to a lockstep host (lockstep-host.ts), which consumes STEP before
        // the board sees it; a board that gets one runs on its own clock.
        return 'NOT_SUPPORTED';
    }
  }

  // ------------------------------------------------------------------ internals

  private boot(): void {
    this.regs.clear();
    for (const r of this.def.registers) this.regs.set(r.name, r.reset);
    this.ram.clear();
    for (const m of this.def.memory) if (m.kind === 'ram') this.ram.set(m.name, new Uint8Array(m.size));
    this.faults.clear();
    this.bootAtMs = this.clock.now();
    this.lastStepMs = this.bootAtMs;
    this.rxFrameErrors = 0;
    this.streamSeq = 0;
    this.lastRequest = null;
    this.model.reset();
  }

  private prng(stream: string): Prng {
    let p = this.prngs.get(stream);
    if (!p) {
      p = new Prng(this.seed, nameHash(`${this.def.name}/${stream}`));
      this.prngs.set(stream, p);
    }
    return p;
  }

  private stored(name: string): number {
    const v = this.regs.get(name);
    if (v === undefined) throw new Error(`board ${this.def.name} has no register ${name}`);
    return v;
  }

  /** Steps the physics on a fixed 1 ms grid up to now, so results do not depend on when registers are read. */
  private advance(): void {
    if (!this.powered) return;
    const now = this.clock.now();
    let steps = Math.floor((now - this.lastStepMs) / STEP_MS);
    if (steps <= 0) return;
    let dtMs = STEP_MS;
    if (steps > MAX_STEPS_PER_ADVANCE) {
      // A long idle gap (a wall-clock emulator nobody talked to): coarser steps.
      dtMs = (steps * STEP_MS) / MAX_STEPS_PER_ADVANCE;
      steps = MAX_STEPS_PER_ADVANCE;
    }
    for (let i = 0; i < steps; i++) this.model.step(dtMs / 1000);
    this.lastStepMs += steps * dtMs;
  }

  private readEng(r: RegisterDef): number {
    switch (r.name) {
      case 'UPTIME_MS':
        return Math.floor(this.clock.now() - this.bootAtMs);
      case 'STATUS':
        return (this.faults.size > 0 ? 1 : 0) | (this.streamPeriodMs !== null ? 2 : 0) | (this.pendingFlash ? 4 : 0);
      case 'FAULT_FLAGS': {
        let f = 0;
        for (const id of this.faults) f |= 1 << (id - 1);
        return f >>> 0;
      }
      case 'BOARD_TEMP_C':
        return this.model.boardTempC();
      case 'RX_FRAME_ERRORS':
        return this.rxFrameErrors & 0xffff;
      case 'RESET_COUNT':
        return this.persistent.resetCount;
      case 'SUPPLY_V':
        return 5 + 0.005 * this.prng('supply').normal();
      case 'CFG_ACTIVE_BANK':
        return this.flash.activeBank;
    }
    const v = this.model.read(r.name);
    return v ?? this.stored(r.name);
  }

  private emit(bytes: Uint8Array): void {
    for (const s of this.sinks) s(bytes);
  }

  private send(message: Uint8Array): void {
    if (!this.powered) return;
    this.uart.write(frameMessage(message));
  }

  private feed(bytes: Uint8Array): void {
    for (const chunk of this.splitter.push(bytes)) {
      if (chunk.length === 0) continue;
      if (this.pendingFlash) this.backlog.push(chunk.slice());
      else this.handleChunk(chunk);
    }
  }

  private handleChunk(chunk: Uint8Array): void {
    let payload: Uint8Array;
    try {
      payload = decodeSerialFrame(chunk);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.rxFrameErrors++;
      this.stats.frameErrors++;
      return;
    }
    this.stats.framesOk++;
    let msg;
    try {
      msg = decodeBoardMessage(payload);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.rxFrameErrors++;
      this.stats.frameErrors++;
      // A well-framed message with a bad body still names its opcode and seq: answer it.
      const head = peekRequestHeader(payload);
      if (head) this.reply(head.seq, head.op, 'BAD_REQUEST', undefined, payload);
      return;
    }
    if (msg.kind !== 'request') {
      this.rxFrameErrors++;
      return;
    }
    this.stats.requests++;
    // A retry of the request just answered (same seq, same bytes): resend, do not redo.
    if (this.lastRequest && this.lastRequest.seq === msg.seq && equal(this.lastRequest.bytes, payload)) {
      this.stats.duplicates++;
      this.uart.write(this.lastRequest.response);
      return;
    }
    this.advance();
    this.execute(msg.seq, msg.request, payload);
  }

  private reply(seq: number, op: Exclude<Opcode, 'TLM'>, status: Status, body: ResponseBody | undefined, requestBytes: Uint8Array): void {
    if (!this.powered) return;
    const frame = frameMessage(encodeResponse(seq, op, status, body));
    this.lastRequest = { seq, bytes: requestBytes.slice(), response: frame };
    this.uart.write(frame);
  }

  private execute(seq: number, req: BoardRequest, raw: Uint8Array): void {
    const ok = (body: ResponseBody) => this.reply(seq, req.op, 'OK', body, raw);
    const fail = (status: Status) => this.reply(seq, req.op, status, undefined, raw);
    switch (req.op) {
      case 'IDENTIFY':
        return ok({
          op: 'IDENTIFY',
          identity: {
            boardId: this.def.identity.boardId,
            hwVersion: packHwVersion(this.def.identity.hwVersion),
            fwVersion: packFwVersion(this.def.identity.fwVersion),
            serialNumber: this.serialNumber,
            emulated: true,
            name: this.def.name,
          },
        });
      case 'READ_REGS': {
        const values = [];
        for (const address of req.addresses) {
          const r = registerAt(this.def, address);
          if (!r) return fail('BAD_ADDRESS');
          if (r.access === 'w') return fail('READ_ONLY');
          values.push({ address, value: toRaw(r, this.readEng(r)) >>> 0 });
        }
        return ok({ op: 'READ_REGS', values });
      }
      case 'WRITE_REGS': {
        // Validate all first: a refused write changes nothing.
        const plan: [RegisterDef, number][] = [];
        for (const w of req.writes) {
          const r = registerAt(this.def, w.address);
          if (!r) return fail('BAD_ADDRESS');
          if (r.access === 'r') return fail('READ_ONLY');
          const eng = fromRaw(r, w.value);
          if (!rawFits(r, w.value) || !inWriteRange(r, eng)) return fail('OUT_OF_RANGE');
          plan.push([r, eng]);
        }
        for (const [r, eng] of plan) {
          if (r.name === 'CFG_ACTIVE_BANK') {
            this.flash.activeBank = eng;
            this.persisted();
          } else this.regs.set(r.name, eng);
        }
        return ok({ op: 'WRITE_REGS', values: plan.map(([r]) => ({ address: r.address, value: toRaw(r, this.readEng(r)) >>> 0 })) });
      }
      case 'MEM_READ': {
        const mem = this.memoryAt(req.address, req.length);
        if (!mem) return fail('BAD_ADDRESS');
        return ok({ op: 'MEM_READ', address: req.address, data: mem.read(req.address, req.length) });
      }
      case 'MEM_CRC': {
        const mem = this.memoryAt(req.address, req.length);
        if (!mem) return fail('BAD_ADDRESS');
        return ok({ op: 'MEM_CRC', address: req.address, length: req.length, crc32c: mem.crc(req.address, req.length) });
      }
      case 'MEM_WRITE': {
        const ramHit = this.ramAt(req.address, req.data.length);
        if (ramHit) {
          ramHit.bytes.set(req.data, ramHit.offset);
          return ok({ op: 'MEM_WRITE', address: req.address, length: req.data.length, crc32c: crc32c(req.data) });
        }
        const st = this.flash.checkProgram(req.address, req.data);
        if (st !== 'OK') return fail(st);
        const ms = this.flash.pagesIn(req.data.length) * (configFlash(this.def).region.pageProgramMs ?? 0);
        return this.startFlashOp({ kind: 'program', address: req.address, length: req.data.length, data: req.data }, ms, () =>
          ok({ op: 'MEM_WRITE', address: req.address, length: req.data.length, crc32c: this.flash.crc(req.address, req.data.length) }),
        );
      }
      case 'MEM_ERASE': {
        if (this.ramAt(req.address, req.length)) return fail('NOT_SUPPORTED');
        const st = this.flash.checkErase(req.address, req.length);
        if (st !== 'OK') return fail(st);
        const ms = (req.length / this.flash.geometry.pageSize) * (configFlash(this.def).region.pageEraseMs ?? 0);
        return this.startFlashOp({ kind: 'erase', address: req.address, length: req.length }, ms, () => ok({ op: 'MEM_ERASE', address: req.address, length: req.length }));
      }
      case 'RESET':
        this.reply(seq, 'RESET', 'OK', { op: 'RESET' }, raw);
        // Reset once the answer has left the line, as a board that acknowledges first.
        this.uart.whenIdle(() => this.reset());
        return;
      case 'STREAM_START':
        this.startStream(req.periodMs);
        return ok({ op: 'STREAM_START', items: this.def.telemetry.items.length });
      case 'STREAM_STOP':
        this.stopStream();
        return ok({ op: 'STREAM_STOP' });
      case 'SIM': {
        const st = this.applySim(req.sim);
        if (st !== 'OK') return fail(st);
        ok({ op: 'SIM' });
        if (this.cutAfterReplyMs !== null) {
          const offMs = this.cutAfterReplyMs;
          this.cutAfterReplyMs = null;
          this.uart.whenIdle(() => this.cutPower(offMs));
        }
        return;
      }
    }
  }

  private memoryAt(address: number, length: number): { read(a: number, n: number): Uint8Array; crc(a: number, n: number): number } | null {
    if (this.flash.contains(address, length)) return this.flash;
    const hit = this.ramAt(address, length);
    if (!hit) return null;
    return {
      read: (a, n) => hit.bytes.slice(a - hit.base, a - hit.base + n),
      crc: (a, n) => crc32c(hit.bytes, a - hit.base, a - hit.base + n),
    };
  }

  private ramAt(address: number, length: number): { bytes: Uint8Array; base: number; offset: number } | null {
    for (const m of this.def.memory) {
      if (m.kind !== 'ram') continue;
      if (address >= m.base && address + length <= m.base + m.size) return { bytes: this.ram.get(m.name)!, base: m.base, offset: address - m.base };
    }
    return null;
  }

  private startFlashOp(op: Omit<PendingFlashOp, 'startMs' | 'endMs' | 'timer' | 'respond'>, ms: number, respond: () => void): void {
    const now = this.clock.now();
    // Below a microsecond there is nothing to tear: complete at once.
    if (ms < 0.001) {
      this.completeFlash(op);
      respond();
      return;
    }
    const pending: PendingFlashOp = { ...op, startMs: now, endMs: now + ms, respond, timer: null };
    pending.timer = this.clock.setTimeout(() => {
      this.pendingFlash = null;
      this.completeFlash(pending);
      respond();
      this.drainBacklog();
    }, ms);
    this.pendingFlash = pending;
  }

  private completeFlash(op: { kind: 'erase' | 'program'; address: number; length: number; data?: Uint8Array }): void {
    if (op.kind === 'erase') this.flash.erase(op.address, op.length);
    else this.flash.program(op.address, op.data!);
    this.persisted();
  }

  /** Power lost while programming or erasing: the part done so far sticks. */
  private tearPendingFlash(): void {
    const p = this.pendingFlash;
    if (!p) return;
    this.clock.clearTimeout(p.timer);
    this.pendingFlash = null;
    const frac = Math.min(1, Math.max(0, (this.clock.now() - p.startMs) / (p.endMs - p.startMs)));
    if (p.kind === 'erase') this.flash.erase(p.address, p.length, Math.floor(frac * (p.length / this.flash.geometry.pageSize)));
    else this.flash.program(p.address, p.data!, Math.floor(frac * p.length));
    this.persisted();
  }

  private drainBacklog(): void {
    while (this.backlog.length > 0 && !this.pendingFlash && this.powered) this.handleChunk(this.backlog.shift()!);
  }

  private startStream(periodMs: number): void {
    this.stopStream();
    this.streamPeriodMs = periodMs;
    if (periodMs === 0) {
      this.refillLineRate();
      return;
    }
    const tick = () => {
      if (this.streamPeriodMs !== periodMs || !this.powered) return;
      this.sendTelemetry();
      this.streamTimer = this.clock.setTimeout(tick, periodMs);
    };
    this.streamTimer = this.clock.setTimeout(tick, periodMs);
  }

  private stopStream(): void {
    this.streamPeriodMs = null;
    if (this.streamTimer !== null) this.clock.clearTimeout(this.streamTimer);
    this.streamTimer = null;
  }

  /**
   * Line-rate streaming: keep about 8 ms of line time queued (at least two frames), so
   * the line never idles between timer ticks of a wall-clock host.
   */
  private refillLineRate(): void {
    if (this.streamPeriodMs !== 0 || !this.powered) return;
    const watermark = Math.max(128, Math.ceil((this.baud / 10) * 0.008));
    while (this.uart.queuedBytes < watermark) this.sendTelemetry();
  }

  private sendTelemetry(): void {
    this.advance();
    const values = this.def.telemetry.items.map((name) => {
      const r = this.def.registers.find((x) => x.name === name)!;
      return toRaw(r, this.readEng(r)) >>> 0;
    });
    const t = Math.floor(this.clock.now() - this.bootAtMs) >>> 0;
    this.stats.telemetryFrames++;
    this.send(encodeTelemetry(this.streamSeq, t, values));
    this.streamSeq = (this.streamSeq + 1) & 0xffff;
  }
}

/** Does a raw 32-bit value carry a number that fits the register's width and signedness? */
function rawFits(r: RegisterDef, raw32: number): boolean {
  const v = r.signed ? raw32 | 0 : raw32 >>> 0;
  if (r.signed) return v >= -(2 ** (r.width - 1)) && v <= 2 ** (r.width - 1) - 1;
  return v <= 2 ** r.width - 1;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
