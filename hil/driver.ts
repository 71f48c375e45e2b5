import type { Clock } from '../boards/clock.ts';
import { configFlash, type BoardDefinition, type FlashGeometry, formatFwVersion, formatHwVersion, fromRaw, packFwVersion, packHwVersion, register, registerAt, toRaw } from '../boards/definitions.ts';
import {
  type BoardMessage,
  type BoardRequest,
  encodeRequest,
  encodeResponse,
  frameMessage,
  type Identity,
  MAX_BOARD_NAME,
  MAX_MEM_CHUNK,
  MAX_REGS_PER_REQUEST,
  type ResponseBody,
  SEQ_MODULO,
  type SimControl,
  type TelemetryMessage,
  wireTimeMs,
} from '../protocols/board-link.ts';
import { crc32c } from '../protocols/crc.ts';
import { BoardError } from './errors.ts';
import type { FrameLink } from './framing.ts';

export interface DriverOptions {
  clock: Clock;
  /** Time the board may take to answer, on top of the request's and answer's wire time. */
  timeoutMs: number;
  retries: number;
  /** Line rate: each attempt's timeout grows by the wire time of its request and longest answer (none when absent). */
  baud?: number;
}

/** The longest answer the board can give to `req` (zero-free filler: COBS worst case), as framed on the wire. */
export function maxReplyFrameBytes(req: BoardRequest): number {
  const u32 = 0xffffffff;
  const regs = (addresses: number[]) => addresses.map((address) => ({ address, value: u32 }));
  let body: ResponseBody;
  switch (req.op) {
    case 'IDENTIFY':
      body = { op: 'IDENTIFY', identity: { boardId: 0xffff, hwVersion: 0xffff, fwVersion: 0xffffff, serialNumber: u32, emulated: true, name: 'x'.repeat(MAX_BOARD_NAME) } };
      break;
    case 'READ_REGS':
      body = { op: 'READ_REGS', values: regs(req.addresses) };
      break;
    case 'WRITE_REGS':
      body = { op: 'WRITE_REGS', values: regs(req.writes.map((w) => w.address)) };
      break;
    case 'MEM_READ':
      body = { op: 'MEM_READ', address: req.address, data: new Uint8Array(req.length).fill(0xa5) };
      break;
    case 'MEM_WRITE':
      body = { op: 'MEM_WRITE', address: req.address, length: req.data.length, crc32c: u32 };
      break;
    case 'MEM_CRC':
      body = { op: 'MEM_CRC', address: req.address, length: req.length, crc32c: u32 };
      break;
    case 'MEM_ERASE':
      body = { op: 'MEM_ERASE', address: req.address, length: req.length };
      break;
    case 'STREAM_START':
      body = { op: 'STREAM_START', items: 0xffff };
      break;
    default:
      body = { op: req.op };
  }
  return frameMessage(encodeResponse(0xffff, req.op, 'OK', body)).length;
}

/** Wire time of a request and its longest answer at `baud` (8N1), ms. */
export function exchangeWireMs(req: BoardRequest, baud: number): number {
  return wireTimeMs(frameMessage(encodeRequest(0xffff, req)).length + maxReplyFrameBytes(req), baud);
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
 * A request whose repetition changes state. The board's duplicate cache (same seq, same
 * bytes: answer again, do not redo) dies with the reset these requests cause, so a resend
 * after a lost answer could reset the board twice. They are never resent blindly:
 *  - 'reboots' (RESET; POWER_LOSS now): executed means the board's reset counter moved;
 *    after a lost answer the rig reads RESET_COUNT (waiting out `settleMs`, the board's
 *    time off) and resends only when the counter did not move;
 *  - 'arms' (POWER_LOSS after N more bytes): nothing to read until the cut, so sent once.
 * WRITE_REGS sets absolute values, so repeating one changes nothing (the flasher still
 * checks the bank register rather than resend its switch, see hil/flash/flasher.ts).
 */
export type OneShot = { kind: 'reboots'; settleMs: number } | { kind: 'arms' };

export function oneShotOf(req: BoardRequest): OneShot | null {
  if (req.op === 'RESET') return { kind: 'reboots', settleMs: 0 };
  if (req.op === 'SIM' && req.sim.kind === 'POWER_LOSS') return req.sim.afterRxBytes === 0 ? { kind: 'reboots', settleMs: req.sim.offMs } : { kind: 'arms' };
  return null;
}

/** The register a one-shot's effect is read from. */
export const RESET_COUNTER = 'RESET_COUNT';

/**
 * Board driver: request/response over a FrameLink with 16-bit sequence numbers,
 * a timeout per attempt on the bench clock and bounded retries (a retry reuses the
 * seq, so a board that already executed it answers from its cache instead of doing
 * it twice). One-shot requests (oneShotOf) are confirmed by the reset counter instead.
 * One request is outstanding at a time, in call order. Telemetry frames are decoded
 * with the board definition into engineering values.
 */
export class BoardDriver {
  private seq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private waiting: { seq: number; resolve: (m: BoardMessage & { kind: 'response' }) => void } | null = null;
  private readonly tlmHandlers = new Set<(s: TelemetrySample) => void>();
  private lastTlmSeq: number | null = null;
  private closed = false;
  readonly stats = { requests: 0, retries: 0, timeouts: 0, confirmedByState: 0, staleResponses: 0, telemetryFrames: 0, telemetryGaps: 0, telemetryLost: 0 };

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

  /** Line rate the timeouts are scaled for, if known. */
  get baud(): number | undefined {
    return this.opts.baud;
  }

  /** Wire time of `req` and its longest answer on this line, ms (0 when the rate is unknown). */
  wireMs(req: BoardRequest): number {
    return this.opts.baud ? exchangeWireMs(req, this.opts.baud) : 0;
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
    const shot = oneShotOf(req);
    if (shot) return this.exchangeOneShot(req, shot, timeoutMs, retries);
    const reply = await this.exchangeRaw(req, timeoutMs, retries);
    if (reply === null) throw this.noResponse(req, retries + 1, timeoutMs);
    return reply;
  }

  /** Sends with up to `retries` resends of the same seq; null when no answer came. */
  private async exchangeRaw(req: BoardRequest, timeoutMs: number, retries: number): Promise<ResponseBody | null> {
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
      const reply = await this.attempt(seq, bytes, timeoutMs + this.wireMs(req));
      if (reply === null) {
        this.stats.timeouts++;
        continue;
      }
      if (reply.op !== req.op) throw new BoardError('REFUSED', this.board, this.port, `answered ${reply.op} to ${req.op} (seq ${seq})`);
      if (reply.status !== 'OK') throw new BoardError('REFUSED', this.board, this.port, `${req.op} refused with ${reply.status}`);
      return reply.body!;
    }
    return null;
  }

  private noResponse(req: BoardRequest, attempts: number, timeoutMs: number, why = ''): BoardError {
    return new BoardError('NO_RESPONSE', this.board, this.port, `no response to ${req.op} (seq ${(this.seq + SEQ_MODULO - 1) % SEQ_MODULO}) after ${attempts} attempt(s) of ${timeoutMs} ms${why}`);
  }

  /** The reset counter, or null when the board did not answer. */
  private async resetCount(timeoutMs: number, retries: number): Promise<number | null> {
    const reg = register(this.def, RESET_COUNTER);
    const r = await this.exchangeRaw({ op: 'READ_REGS', addresses: [reg.address] }, timeoutMs, retries);
    const v = r?.op === 'READ_REGS' ? r.values.find((x) => x.address === reg.address) : undefined;
    return v === undefined ? null : fromRaw(reg, v.value);
  }

  /**
   * A one-shot: sent once; on a lost answer the reset counter tells whether it took
   * effect (done) or not (sent again, up to `retries` times). Never resent blindly.
   */
  private async exchangeOneShot(req: BoardRequest, shot: OneShot, timeoutMs: number, retries: number): Promise<ResponseBody> {
    const hasCounter = shot.kind === 'reboots' && this.def.registers.some((r) => r.name === RESET_COUNTER);
    const before = hasCounter ? await this.resetCount(timeoutMs, retries) : null;
    if (hasCounter && before === null) throw new BoardError('NO_RESPONSE', this.board, this.port, `no answer to ${RESET_COUNTER}, so ${req.op} was not sent`);
    for (let send = 1; ; send++) {
      const reply = await this.exchangeRaw(req, timeoutMs, 0);
      if (reply !== null) return reply;
      if (shot.kind === 'arms' || before === null) {
        throw this.noResponse(req, send, timeoutMs, `; not resent: a second ${req.op} could take effect twice, and whether this one did cannot be read back`);
      }
      // The board may be off or rebooting (settleMs): ask its reset counter until it answers.
      const deadline = this.opts.clock.now() + (shot.kind === 'reboots' ? shot.settleMs : 0) + (retries + 1) * timeoutMs;
      let now: number | null = null;
      while (now === null && this.opts.clock.now() < deadline) now = await this.resetCount(timeoutMs, 0);
      if (now === null) {
        throw this.noResponse(req, send, timeoutMs, `; the board has not answered since, so whether it took effect is unknown; not resent (a second one would act twice)`);
      }
      if (now !== before) {
        this.stats.confirmedByState++;
        this.link.note('confirmed', `${req.op}: answer lost, ${RESET_COUNTER} ${before} -> ${now}: it took effect`);
        return { op: req.op } as ResponseBody;
      }
      if (send > retries) throw this.noResponse(req, send, timeoutMs, `; ${RESET_COUNTER} still ${before}: it did not take effect`);
      this.stats.retries++;
      this.link.note('retry', `${req.op}: answer lost, ${RESET_COUNTER} still ${before}: not executed, sending again`);
    }
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
  async write(values: Record<string, number>, opts: { retries?: number } = {}): Promise<Record<string, number>> {
    const writes = Object.entries(values).map(([n, v]) => {
      const reg = register(this.def, n);
      return { address: reg.address, value: toRaw(reg, v) };
    });
    const r = await this.request({ op: 'WRITE_REGS', writes }, opts);
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
