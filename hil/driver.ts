import { configFlash, type FlashGeometry, fromRaw, register, registerAt, toRaw, type BoardDefinition } from '../boards/definitions.ts';
import { type BoardRequest, type Identity, MAX_MEM_CHUNK, MAX_REGS_PER_REQUEST, type ResponseBody, type SimControl } from '../protocols/board-link.ts';
import { crc32c } from '../protocols/crc.ts';
import { BoardError } from './errors.ts';
import type { FrameLink } from './framing.ts';
import { type EngineOptions, type RequestOptions, RequestEngine, type TelemetrySample } from './request-engine.ts';

type ResponseOf<O extends BoardRequest['op']> = Extract<ResponseBody, { op: O }>;

/**
 * Board driver: the promise face of the board-link request engine (hil/request-engine.ts),
 * for suites and the flasher. Every request holds the clock while it waits, so a
 * simulated clock runs until the answer (or the last timeout) comes. Sequence numbers,
 * timeouts, retries, one-shots and telemetry decoding are the engine's; `engine` is the
 * callback face of the same engine, for the firmware's HAL ports.
 */
export class BoardDriver {
  readonly engine: RequestEngine;

  constructor(
    readonly def: BoardDefinition,
    readonly link: FrameLink,
    opts: EngineOptions,
  ) {
    this.engine = new RequestEngine(def, link, opts);
  }

  get stats(): RequestEngine['stats'] {
    return this.engine.stats;
  }

  /** Changes timeout/retries for later requests (e.g. a suite on a noisy line). */
  configure(o: RequestOptions): void {
    this.engine.configure(o);
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
    return this.engine.baud;
  }

  /** Wire time of `req` and its longest answer on this line, ms (0 when the rate is unknown). */
  wireMs(req: BoardRequest): number {
    return this.engine.wireMs(req);
  }

  /** Sends one request and resolves with the OK body; throws BoardError (NO_RESPONSE, REFUSED, DISCONNECTED, CLOSED). */
  request<R extends BoardRequest>(req: R, opts: RequestOptions = {}): Promise<ResponseOf<R['op']>> {
    const release = this.engine.clock.hold();
    return new Promise((resolve, reject) => {
      this.engine.request(
        req,
        (r, err) => {
          release();
          if (err || !r?.body) reject(err ?? new BoardError('NO_RESPONSE', this.board, this.port, `${req.op} answered without a body`));
          else resolve(r.body as ResponseOf<R['op']>);
        },
        undefined,
        opts,
      );
    });
  }

  onTelemetrySample(cb: (s: TelemetrySample) => void): () => void {
    return this.engine.onTelemetry(cb);
  }

  close(): void {
    this.engine.close();
  }

  // ------------------------------------------------------------ operations

  async identify(): Promise<Identity> {
    return (await this.request({ op: 'IDENTIFY' })).identity;
  }

  /** Identifies the board and checks it is the one the definition describes (id, hw and fw version). */
  verifyIdentity(): Promise<Identity> {
    const release = this.engine.clock.hold();
    return new Promise((resolve, reject) =>
      this.engine.verifyIdentity((id, err) => {
        release();
        if (id) resolve(id);
        else reject(err);
      }),
    );
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
    await this.request({ op: 'MEM_ERASE', address, length }, { timeoutMs: this.engine.timeoutMs + Math.ceil(length / 256) });
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
  }

  async startStream(periodMs = this.def.telemetry.periodMs): Promise<number> {
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
