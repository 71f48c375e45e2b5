import type { Clock } from '../boards/clock.ts';
import { configFlash, type BoardDefinition, type FlashGeometry, formatFwVersion, formatHwVersion, fromRaw, packFwVersion, packHwVersion, register, registerAt, toRaw } from '../boards/definitions.ts';
import {
  type BoardMessage,
  type BoardRequest,
  encodeRequest,
  type Identity,
  MAX_MEM_CHUNK,
  MAX_REGS_PER_REQUEST,
  type ResponseBody,
  SEQ_MODULO,
  type SimControl,
  type TelemetryMessage,
} from '../protocols/board-link.ts';
import { crc32c } from '../protocols/crc.ts';
import { BoardError } from './errors.ts';
import type { FrameLink } from './framing.ts';

export interface DriverOptions {
  clock: Clock;
  timeoutMs: number;
  retries: number;
}

export interface TelemetrySample {
  /** Bench time of arrival, ms. */
  t: number;
  boardTimeMs: number;
  seq: number;
  values: Record<string, number>;
}

type ResponseOf<O extends BoardRequest['op']> = Extract<ResponseBody, { op: O }>;

/**
 * Board driver: request/response over a FrameLink with 16-bit sequence numbers,
 * a timeout per attempt on the bench clock and bounded retries (a retry reuses the
 * seq, so a board that already executed it answers from its cache instead of doing
 * it twice). One request is outstanding at a time, in call order. Telemetry frames
 * are decoded with the board definition into engineering values.
 */
export class BoardDriver {
  private seq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private waiting: { seq: number; resolve: (m: BoardMessage & { kind: 'response' }) => void } | null = null;
  private readonly tlmHandlers = new Set<(s: TelemetrySample) => void>();
  private lastTlmSeq: number | null = null;
  private closed = false;
  readonly stats = { requests: 0, retries: 0, timeouts: 0, staleResponses: 0, telemetryFrames: 0, telemetryGaps: 0, telemetryLost: 0 };

  constructor(
    readonly def: BoardDefinition,
    readonly link: FrameLink,
    private readonly opts: DriverOptions,
  ) {
    link.onMessage((m) => this.onMessage(m));
  }

  /** Changes timeout/retries for later requests (e.g. a suite on a noisy line). */
  configure(o: { timeoutMs?: number; retries?: number }): void {
    if (o.timeoutMs !== undefined) this.opts.timeoutMs = o.timeoutMs;
    if (o.retries !== undefined) this.opts.retries = o.retries;
  }

  get board(): string {
    return this.def.name;
  }
  get port(): string {
    return this.link.transport.description;
  }
  get flashGeometry(): FlashGeometry {
    return configFlash(this.def);
  }

  /** Sends one request and resolves with the OK body; throws BoardError (NO_RESPONSE, REFUSED, DISCONNECTED). */
  request<R extends BoardRequest>(req: R, opts: { timeoutMs?: number; retries?: number } = {}): Promise<ResponseOf<R['op']>> {
    const run = this.chain.then(
      () => this.exchange(req, opts),
      () => this.exchange(req, opts),
    );
    this.chain = run.catch(() => undefined);
    return run as Promise<ResponseOf<R['op']>>;
  }

  private async exchange(req: BoardRequest, opts: { timeoutMs?: number; retries?: number }): Promise<ResponseBody> {
    if (this.closed) throw new BoardError('CLOSED', this.board, this.port, `driver closed; ${req.op} not sent`);
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs;
    const retries = opts.retries ?? this.opts.retries;
    const seq = this.seq;
    this.seq = (this.seq + 1) % SEQ_MODULO;
    const bytes = encodeRequest(seq, req);
    this.stats.requests++;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        this.link.note('retry', `${req.op} seq ${seq} attempt ${attempt + 1}`);
      }
      if (!this.link.transport.isOpen) throw new BoardError('DISCONNECTED', this.board, this.port, `line is not open; ${req.op} not sent`);
      const reply = await this.attempt(seq, bytes, timeoutMs);
      if (reply === null) {
        this.stats.timeouts++;
        continue;
      }
      if (reply.op !== req.op) throw new BoardError('REFUSED', this.board, this.port, `answered ${reply.op} to ${req.op} (seq ${seq})`);
      if (reply.status !== 'OK') throw new BoardError('REFUSED', this.board, this.port, `${req.op} refused with ${reply.status}`);
      return reply.body!;
    }
    throw new BoardError('NO_RESPONSE', this.board, this.port, `no response to ${req.op} (seq ${seq}) after ${retries + 1} attempt(s) of ${timeoutMs} ms`);
  }

  private attempt(seq: number, bytes: Uint8Array, timeoutMs: number): Promise<(BoardMessage & { kind: 'response' }) | null> {
    const release = this.opts.clock.hold();
    return new Promise((resolve) => {
      const timer = this.opts.clock.setTimeout(() => {
        this.waiting = null;
        release();
        resolve(null);
      }, timeoutMs);
      this.waiting = {
        seq,
        resolve: (m) => {
          this.opts.clock.clearTimeout(timer);
          this.waiting = null;
          release();
          resolve(m);
        },
      };
      try {
        this.link.send(bytes);
      } catch (e) {
        this.opts.clock.clearTimeout(timer);
        this.waiting = null;
        release();
        resolve(null);
        this.link.note('send-failed', (e as Error).message);
      }
    });
  }

  private onMessage(m: BoardMessage): void {
    if (m.kind === 'response') {
      if (this.waiting && this.waiting.seq === m.seq) this.waiting.resolve(m);
      else this.stats.staleResponses++;
      return;
    }
    if (m.kind === 'telemetry') this.onTelemetry(m);
  }

  private onTelemetry(m: TelemetryMessage): void {
    this.stats.telemetryFrames++;
    if (this.lastTlmSeq !== null) {
      const gap = (m.seq - this.lastTlmSeq - 1 + SEQ_MODULO) % SEQ_MODULO;
      // A counter back at 0 after a reset is not a loss.
      if (gap > 0 && m.seq !== 0) {
        this.stats.telemetryGaps++;
        this.stats.telemetryLost += gap;
      }
    }
    this.lastTlmSeq = m.seq;
    const items = this.def.telemetry.items;
    const values: Record<string, number> = {};
    for (let i = 0; i < Math.min(items.length, m.values.length); i++) values[items[i]] = fromRaw(register(this.def, items[i]), m.values[i]);
    const s: TelemetrySample = { t: this.opts.clock.now(), boardTimeMs: m.boardTimeMs, seq: m.seq, values };
    for (const h of [...this.tlmHandlers]) h(s);
  }

  onTelemetrySample(cb: (s: TelemetrySample) => void): () => void {
    this.tlmHandlers.add(cb);
    return () => this.tlmHandlers.delete(cb);
  }

  close(): void {
    this.closed = true;
  }

  // ------------------------------------------------------------ operations

  async identify(): Promise<Identity> {
    return (await this.request({ op: 'IDENTIFY' })).identity;
  }

  /** Identifies the board and checks it is the one the definition describes (id, hw and fw version). */
  async verifyIdentity(): Promise<Identity> {
    const id = await this.identify();
    const want = this.def.identity;
    const problems: string[] = [];
    if (id.boardId !== want.boardId) problems.push(`board id 0x${id.boardId.toString(16)} (${id.name || '?'}) where ${this.board} is 0x${want.boardId.toString(16)}`);
    if (id.hwVersion !== packHwVersion(want.hwVersion)) problems.push(`hardware ${formatHwVersion(id.hwVersion)} where ${want.hwVersion} is expected`);
    if (id.fwVersion !== packFwVersion(want.fwVersion)) problems.push(`firmware ${formatFwVersion(id.fwVersion)} where ${want.fwVersion} is expected`);
    if (problems.length > 0) throw new BoardError('WRONG_IDENTITY', this.board, this.port, `wrong identity: ${problems.join('; ')}`);
    return id;
  }

  /** Reads registers by name, in engineering units. */
  async read(...names: string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (let i = 0; i < names.length; i += MAX_REGS_PER_REQUEST) {
      const part = names.slice(i, i + MAX_REGS_PER_REQUEST).map((n) => register(this.def, n));
      const r = await this.request({ op: 'READ_REGS', addresses: part.map((x) => x.address) });
      for (const v of r.values) {
        const reg = registerAt(this.def, v.address);
        if (reg) out[reg.name] = fromRaw(reg, v.value);
      }
    }
    return out;
  }

  async readReg(name: string): Promise<number> {
    return (await this.read(name))[name];
  }

  /** Writes registers by name (engineering units; range-checked by the board). Returns read-back values. */
  async write(values: Record<string, number>): Promise<Record<string, number>> {
    const writes = Object.entries(values).map(([n, v]) => {
      const reg = register(this.def, n);
      return { address: reg.address, value: toRaw(reg, v) };
    });
    const r = await this.request({ op: 'WRITE_REGS', writes });
    const out: Record<string, number> = {};
    for (const v of r.values) {
      const reg = registerAt(this.def, v.address);
      if (reg) out[reg.name] = fromRaw(reg, v.value);
    }
    return out;
  }

  async writeReg(name: string, value: number): Promise<number> {
    return (await this.write({ [name]: value }))[name];
  }

  // -------------------------------------------------- memory (config flash)

  /** Reads any length, in MEM_READ chunks. */
  async memRead(address: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    for (let o = 0; o < length; o += MAX_MEM_CHUNK) {
      const n = Math.min(MAX_MEM_CHUNK, length - o);
      const r = await this.request({ op: 'MEM_READ', address: address + o, length: n });
      if (r.data.length !== n) throw new BoardError('VERIFY_FAILED', this.board, this.port, `MEM_READ 0x${(address + o).toString(16)} returned ${r.data.length} of ${n} bytes`);
      out.set(r.data, o);
    }
    return out;
  }

  /**
   * Programs bytes (flash must be erased first; RAM any time) in chunks of at most
   * `chunk` bytes; every chunk's acknowledgement carries the CRC-32C of what the
   * board now holds there, checked against what was sent.
   */
  async memWrite(address: number, data: Uint8Array, chunk = MAX_MEM_CHUNK): Promise<void> {
    for (let o = 0; o < data.length; o += chunk) {
      const part = data.subarray(o, Math.min(data.length, o + chunk));
      const r = await this.request({ op: 'MEM_WRITE', address: address + o, data: part });
      const want = crc32c(part);
      if (r.crc32c !== want) {
        throw new BoardError('VERIFY_FAILED', this.board, this.port, `MEM_WRITE 0x${(address + o).toString(16)}: board holds CRC-32C 0x${r.crc32c.toString(16)}, sent 0x${want.toString(16)}`);
      }
    }
  }

  async memErase(address: number, length: number): Promise<void> {
    await this.request({ op: 'MEM_ERASE', address, length }, { timeoutMs: this.opts.timeoutMs + Math.ceil(length / 256) });
  }

  async memCrc(address: number, length: number): Promise<number> {
    return (await this.request({ op: 'MEM_CRC', address, length })).crc32c;
  }

  async activeBank(): Promise<number> {
    return this.readReg('CFG_ACTIVE_BANK');
  }

  async setActiveBank(bank: number): Promise<void> {
    await this.write({ CFG_ACTIVE_BANK: bank });
  }

  // -------------------------------------------------------------- control

  async reset(): Promise<void> {
    await this.request({ op: 'RESET', mode: 0 });
    this.lastTlmSeq = null;
  }

  async startStream(periodMs = this.def.telemetry.periodMs): Promise<number> {
    this.lastTlmSeq = null;
    return (await this.request({ op: 'STREAM_START', periodMs })).items;
  }

  async stopStream(): Promise<void> {
    await this.request({ op: 'STREAM_STOP' });
  }

  /** Emulator-only simulation control; a real board answers NOT_SUPPORTED (thrown as NOT_EMULATED). */
  async sim(ctrl: SimControl): Promise<void> {
    try {
      await this.request({ op: 'SIM', sim: ctrl });
    } catch (e) {
      if (e instanceof BoardError && e.code === 'REFUSED' && /NOT_SUPPORTED|UNKNOWN_OPCODE/.test(e.message)) {
        throw new BoardError('NOT_EMULATED', this.board, this.port, `simulation control ${ctrl.kind} needs an emulated board`);
      }
      throw e;
    }
  }

  faultId(name: string): number {
    const f = this.def.faults.find((x) => x.name === name);
    if (!f) throw new BoardError('REFUSED', this.board, this.port, `no fault named ${name} (known: ${this.def.faults.map((x) => x.name).join(', ')})`);
    return f.id;
  }
}
