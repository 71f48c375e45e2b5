import type { Clock } from '../boards/clock.ts';
import { type BoardDefinition, fromRaw, register, registerAt, toRaw } from '../boards/definitions.ts';
import {
  type BoardMessage,
  type BoardRequest,
  encodeRequest,
  encodeResponse,
  formatFwVersion,
  formatHwVersion,
  frameMessage,
  type Identity,
  MAX_BOARD_NAME,
  packFwVersion,
  packHwVersion,
  type ResponseBody,
  type ResponseMessage,
  SEQ_MODULO,
  type TelemetryMessage,
  wireTimeMs,
} from '../protocols/board-link.ts';
import { maxEncodedFrameLength } from '../protocols/serial-frame.ts';
import { BoardError } from './errors.ts';
import type { FrameLink } from './framing.ts';

export interface EngineOptions {
  clock: Clock;
  /** Time the board may take to answer, on top of the request's and answer's wire time. */
  timeoutMs: number;
  retries: number;
  /** Line rate: each attempt's timeout grows by the wire time of its request and longest answer (none when absent). */
  baud?: number;
}

/** Per-request overrides of the engine's timeout and retries. */
export interface RequestOptions {
  timeoutMs?: number;
  retries?: number;
}

/**
 * The outcome of a request, for the callback face: `r` is the board's answer (OK, or
 * refused with its status) or null when none came; `err` says why it failed (no
 * response, refused, line not open, engine closed) and is absent on success.
 */
export type Reply = (r: ResponseMessage | null, err?: BoardError) => void;

export interface TelemetrySample {
  /** Bench time of arrival, ms. */
  t: number;
  boardTimeMs: number;
  seq: number;
  values: Record<string, number>;
}

export interface EngineStats {
  /** Exchanges put on the line (a retry of the same seq is not a new one). */
  requests: number;
  retries: number;
  timeouts: number;
  /** Exchanges that got no answer after all their attempts. */
  failed: number;
  refused: number;
  /** Queued writes replaced by a newer one with the same key. */
  coalesced: number;
  /** One-shots whose answer was lost but whose effect the reset counter showed. */
  confirmedByState: number;
  staleResponses: number;
  telemetryFrames: number;
  telemetryGaps: number;
  telemetryLost: number;
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
      body = { op: 'STREAM_START', items: 0xff };
      break;
    default:
      body = { op: req.op };
  }
  return frameMessage(encodeResponse(0xffff, req.op, 'OK', body)).length;
}

/** Wire time of a request and its longest answer at `baud` (8N1), ms (both framed at their worst-case COBS size). */
export function exchangeWireMs(req: BoardRequest, baud: number): number {
  return wireTimeMs(maxEncodedFrameLength(encodeRequest(0xffff, req).length) + maxReplyFrameBytes(req), baud);
}

/** What the longest answer to `req` depends on: its op and its size (register count, memory length). */
function replyShape(req: BoardRequest): string {
  switch (req.op) {
    case 'READ_REGS':
      return `R${req.addresses.length}`;
    case 'WRITE_REGS':
      return `W${req.writes.length}`;
    case 'MEM_READ':
      return `MR${req.length}`;
    default:
      return req.op;
  }
}

/**
 * A request whose repetition changes state. The board's duplicate cache (same seq, same
 * bytes: answer again, do not redo) dies with the reset these requests cause, so a resend
 * after a lost answer could reset the board twice. They are never resent blindly:
 *  - 'reboots' (RESET; POWER_LOSS now): executed means the board's reset counter moved;
 *    after a lost answer the engine reads RESET_COUNT (waiting out `settleMs`, the board's
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

/** How an answered IDENTIFY differs from the board definition (id, hw and fw version); empty when it is that board. */
export function identityProblems(def: BoardDefinition, id: Identity): string[] {
  const want = def.identity;
  const problems: string[] = [];
  if (id.boardId !== want.boardId) problems.push(`board id 0x${id.boardId.toString(16)} (${id.name || '?'}) where ${def.name} is 0x${want.boardId.toString(16)}`);
  if (id.hwVersion !== packHwVersion(want.hwVersion)) problems.push(`hardware ${formatHwVersion(id.hwVersion)} where ${want.hwVersion} is expected`);
  if (id.fwVersion !== packFwVersion(want.fwVersion)) problems.push(`firmware ${formatFwVersion(id.fwVersion)} where ${want.fwVersion} is expected`);
  return problems;
}

interface Job {
  req: BoardRequest;
  cb?: Reply;
  /** Latest-value slot: a newer request with the same key replaces this one while queued. */
  key?: string;
  opts?: RequestOptions;
}

/** One exchange's result: the answer (if any), and an error when it was refused or could not be sent. */
interface Exchanged {
  seq: number;
  reply: ResponseMessage | null;
  error?: BoardError;
}

/**
 * The board-link request engine, on a FrameLink (so every byte goes through its capture
 * tap). Requests run one at a time in submission order with 16-bit sequence numbers, a
 * timeout per attempt on the clock (plus the wire time of the request and its longest
 * answer at the line rate) and bounded retries that reuse the seq, so a board that
 * already executed one answers from its cache instead of doing it twice. One-shots
 * (oneShotOf) are never resent blindly: the reset counter says whether they took effect.
 * Requests with a key are coalesced while queued (only the newest value waits), so a
 * control loop faster than the line never builds a backlog. Answers and the telemetry
 * stream update a cache of engineering values; stream gaps are counted as lost frames.
 *
 * This is the callback face, for the firmware's synchronous HAL ports in sim-time
 * loops; BoardDriver (hil/driver.ts) is the promise face over the same engine. A
 * coalesced or flushed request is dropped without its callback being called.
 */
export class RequestEngine {
  /** Latest engineering value of each register the board told us about. */
  readonly values = new Map<string, number>();
  /** Clock ms of the last frame the board sent (any kind); -Infinity before the first. */
  lastAnswerMs = -Infinity;
  lastTelemetryMs = -Infinity;
  readonly stats: EngineStats = { requests: 0, retries: 0, timeouts: 0, failed: 0, refused: 0, coalesced: 0, confirmedByState: 0, staleResponses: 0, telemetryFrames: 0, telemetryGaps: 0, telemetryLost: 0 };
  private seq = 0;
  private readonly queue: Job[] = [];
  /** A job is running (a one-shot spans several exchanges). */
  private active = false;
  private waiting: { seq: number; answer: (m: ResponseMessage) => void } | null = null;
  private lastTlmSeq: number | null = null;
  private closed = false;
  private readonly tlmHandlers = new Set<(s: TelemetrySample) => void>();
  private readonly items: { name: string; reg: ReturnType<typeof register> }[];
  /** Longest framed answer by request shape (a control loop sends the same shape thousands of times). */
  private readonly replyBytes = new Map<string, number>();

  constructor(
    readonly def: BoardDefinition,
    readonly link: FrameLink,
    private readonly opts: EngineOptions,
  ) {
    this.items = def.telemetry.items.map((name) => ({ name, reg: register(def, name) }));
    link.onMessage((m) => this.onMessage(m));
  }

  get board(): string {
    return this.def.name;
  }
  get port(): string {
    return this.link.transport.description;
  }
  get clock(): Clock {
    return this.opts.clock;
  }
  get baud(): number | undefined {
    return this.opts.baud;
  }
  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  /** Changes timeout/retries for requests not yet started (e.g. a suite on a noisy line). */
  configure(o: RequestOptions): void {
    if (o.timeoutMs !== undefined) this.opts.timeoutMs = o.timeoutMs;
    if (o.retries !== undefined) this.opts.retries = o.retries;
  }

  /** Wire time of `req` and its longest answer on this line, ms (0 when the rate is unknown). */
  wireMs(req: BoardRequest): number {
    return this.opts.baud ? exchangeWireMs(req, this.opts.baud) : 0;
  }

  /** One attempt's timeout: the board's time plus the wire time of the request (`messageBytes` unframed) and its longest answer. */
  private attemptMs(req: BoardRequest, messageBytes: number, timeoutMs: number): number {
    const baud = this.opts.baud;
    if (!baud) return timeoutMs;
    const shape = replyShape(req);
    let reply = this.replyBytes.get(shape);
    if (reply === undefined) this.replyBytes.set(shape, (reply = maxReplyFrameBytes(req)));
    return timeoutMs + wireTimeMs(maxEncodedFrameLength(messageBytes) + reply, baud);
  }

  value(name: string, fallback = 0): number {
    return this.values.get(name) ?? fallback;
  }

  onTelemetry(cb: (s: TelemetrySample) => void): () => void {
    this.tlmHandlers.add(cb);
    return () => this.tlmHandlers.delete(cb);
  }

  /** Queues a request; `cb` gets its outcome. With `key`, a queued request of the same key is replaced. */
  request(req: BoardRequest, cb?: Reply, key?: string, opts?: RequestOptions): void {
    if (key !== undefined) {
      const q = this.queue.find((p) => p.key === key);
      if (q) {
        Object.assign(q, { req, cb, opts });
        this.stats.coalesced++;
        return;
      }
    }
    this.queue.push({ req, cb, key, opts });
    if (!this.active) this.next();
  }

  /** Writes registers by name (engineering units). */
  write(values: Record<string, number>, cb?: Reply, key?: string): void {
    const writes = Object.entries(values).map(([n, v]) => {
      const r = register(this.def, n);
      return { address: r.address, value: toRaw(r, v) >>> 0 };
    });
    this.request({ op: 'WRITE_REGS', writes }, cb, key);
  }

  read(names: string[], cb?: Reply): void {
    this.request({ op: 'READ_REGS', addresses: names.map((n) => register(this.def, n).address) }, cb);
  }

  /** IDENTIFY, checked against the board definition (WRONG_IDENTITY when it is another board or version). */
  verifyIdentity(cb: (id: Identity | null, err?: BoardError) => void): void {
    this.request({ op: 'IDENTIFY' }, (r, err) => {
      if (err || r?.body?.op !== 'IDENTIFY') return cb(null, err ?? new BoardError('NO_RESPONSE', this.board, this.port, 'no answer to IDENTIFY'));
      const problems = identityProblems(this.def, r.body.identity);
      if (problems.length > 0) return cb(null, new BoardError('WRONG_IDENTITY', this.board, this.port, `wrong identity: ${problems.join('; ')}`));
      cb(r.body.identity);
    });
  }

  /** Requests in flight or queued. */
  get busy(): number {
    return this.queue.length + (this.active ? 1 : 0);
  }

  /** Forgets queued requests and the stream counter (the board is being reset). */
  flush(): void {
    this.queue.length = 0;
    this.lastTlmSeq = null;
  }

  /** Later requests fail with CLOSED. */
  close(): void {
    this.closed = true;
  }

  // ------------------------------------------------------------ jobs

  private next(): void {
    const job = this.queue.shift();
    if (!job) return;
    this.active = true;
    const op = job.req.op;
    if (this.closed) return this.finish(job, null, new BoardError('CLOSED', this.board, this.port, `driver closed; ${op} not sent`));
    const timeoutMs = job.opts?.timeoutMs ?? this.opts.timeoutMs;
    const retries = job.opts?.retries ?? this.opts.retries;
    const shot = oneShotOf(job.req);
    // A new stream, or a board that restarts, counts its telemetry from 0 again.
    if (op === 'STREAM_START' || shot?.kind === 'reboots') this.lastTlmSeq = null;
    if (shot) return this.oneShot(job, shot, timeoutMs, retries);
    this.exchange(job.req, timeoutMs, retries, (x) => this.finish(job, x.reply, x.error ?? (x.reply ? undefined : this.noResponse(job.req, x.seq, retries + 1, timeoutMs))));
  }

  private finish(job: Job, r: ResponseMessage | null, err?: BoardError): void {
    this.active = false;
    job.cb?.(r, err);
    if (!this.active) this.next();
  }

  private noResponse(req: BoardRequest, seq: number, attempts: number, timeoutMs: number, why = ''): BoardError {
    return new BoardError('NO_RESPONSE', this.board, this.port, `no response to ${req.op} (seq ${seq}) after ${attempts} attempt(s) of ${timeoutMs} ms${why}`);
  }

  /**
   * A one-shot: sent once; on a lost answer the reset counter tells whether it took
   * effect (done) or not (sent again, up to `retries` times). Never resent blindly.
   */
  private oneShot(job: Job, shot: OneShot, timeoutMs: number, retries: number): void {
    const req = job.req;
    const counter = shot.kind === 'reboots' ? this.def.registers.find((r) => r.name === RESET_COUNTER) : undefined;
    const fail = (err: BoardError) => this.finish(job, null, err);
    const readCount = (tries: number, cb: (n: number | null) => void) =>
      this.exchange({ op: 'READ_REGS', addresses: [counter!.address] }, timeoutMs, tries, (x) => {
        if (x.error) return fail(x.error);
        const v = x.reply?.body?.op === 'READ_REGS' ? x.reply.body.values.find((y) => y.address === counter!.address) : undefined;
        cb(v === undefined ? null : fromRaw(counter!, v.value));
      });
    const sendOnce = (send: number, before: number | null) =>
      this.exchange(req, timeoutMs, 0, (x) => {
        if (x.reply || x.error) return this.finish(job, x.reply, x.error);
        if (before === null) {
          return fail(this.noResponse(req, x.seq, send, timeoutMs, `; not resent: a second ${req.op} could take effect twice, and whether this one did cannot be read back`));
        }
        // The board may be off or rebooting (settleMs): ask its reset counter until it answers.
        const deadline = this.opts.clock.now() + (shot.kind === 'reboots' ? shot.settleMs : 0) + (retries + 1) * timeoutMs;
        const poll = () =>
          readCount(0, (now) => {
            if (now === null) {
              if (this.opts.clock.now() < deadline) return poll();
              return fail(this.noResponse(req, x.seq, send, timeoutMs, `; the board has not answered since, so whether it took effect is unknown; not resent (a second one would act twice)`));
            }
            if (now !== before) {
              this.stats.confirmedByState++;
              this.link.note('confirmed', `${req.op}: answer lost, ${RESET_COUNTER} ${before} -> ${now}: it took effect`);
              return this.finish(job, { kind: 'response', seq: x.seq, op: req.op, status: 'OK', body: { op: req.op } as ResponseBody } as ResponseMessage);
            }
            if (send > retries) return fail(this.noResponse(req, x.seq, send, timeoutMs, `; ${RESET_COUNTER} still ${before}: it did not take effect`));
            this.stats.retries++;
            this.link.note('retry', `${req.op}: answer lost, ${RESET_COUNTER} still ${before}: not executed, sending again`);
            sendOnce(send + 1, before);
          });
        poll();
      });
    if (!counter) return sendOnce(1, null);
    readCount(retries, (before) => {
      if (before === null) return fail(new BoardError('NO_RESPONSE', this.board, this.port, `no answer to ${RESET_COUNTER}, so ${req.op} was not sent`));
      sendOnce(1, before);
    });
  }

  // ------------------------------------------------------------ exchanges

  /** One request on the line with up to `retries` resends of the same seq. */
  private exchange(req: BoardRequest, timeoutMs: number, retries: number, done: (x: Exchanged) => void): void {
    const seq = this.seq;
    this.seq = (this.seq + 1) % SEQ_MODULO;
    const bytes = encodeRequest(seq, req);
    const attemptMs = this.attemptMs(req, bytes.length, timeoutMs);
    const clock = this.opts.clock;
    this.stats.requests++;
    const attempt = (k: number): void => {
      if (k > 0) {
        this.stats.retries++;
        this.link.note('retry', `${req.op} seq ${seq} attempt ${k + 1}`);
      }
      if (!this.link.transport.isOpen) return done({ seq, reply: null, error: new BoardError('DISCONNECTED', this.board, this.port, `line is not open; ${req.op} not sent`) });
      const timedOut = () => {
        this.waiting = null;
        this.stats.timeouts++;
        if (k < retries) return attempt(k + 1);
        this.stats.failed++;
        done({ seq, reply: null });
      };
      const timer = clock.setTimeout(timedOut, attemptMs);
      this.waiting = {
        seq,
        answer: (m) => {
          clock.clearTimeout(timer);
          this.waiting = null;
          done({ seq, reply: m, error: this.refusal(req, m) });
        },
      };
      try {
        this.link.send(bytes);
      } catch (e) {
        clock.clearTimeout(timer);
        this.link.note('send-failed', (e as Error).message);
        timedOut();
      }
    };
    attempt(0);
  }

  private refusal(req: BoardRequest, m: ResponseMessage): BoardError | undefined {
    if (m.op !== req.op) return new BoardError('REFUSED', this.board, this.port, `answered ${m.op} to ${req.op} (seq ${m.seq})`);
    if (m.status === 'OK') return undefined;
    this.stats.refused++;
    return new BoardError('REFUSED', this.board, this.port, `${req.op} refused with ${m.status}`);
  }

  // ------------------------------------------------------------ inbound

  private onMessage(m: BoardMessage): void {
    this.lastAnswerMs = this.opts.clock.now();
    if (m.kind === 'response') this.onResponse(m);
    else if (m.kind === 'telemetry') this.onTelemetryFrame(m);
  }

  private onResponse(m: ResponseMessage): void {
    const w = this.waiting;
    if (!w || w.seq !== m.seq) {
      this.stats.staleResponses++;
      return;
    }
    const body = m.body;
    if (body && (body.op === 'READ_REGS' || body.op === 'WRITE_REGS')) {
      for (const v of body.values) {
        const r = registerAt(this.def, v.address);
        if (r) this.values.set(r.name, fromRaw(r, v.value));
      }
    }
    w.answer(m);
  }

  private onTelemetryFrame(m: TelemetryMessage): void {
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
    const now = this.opts.clock.now();
    this.lastTelemetryMs = now;
    const values: Record<string, number> = {};
    const n = Math.min(this.items.length, m.values.length);
    for (let i = 0; i < n; i++) {
      const v = fromRaw(this.items[i].reg, m.values[i]);
      values[this.items[i].name] = v;
      this.values.set(this.items[i].name, v);
    }
    const s: TelemetrySample = { t: now, boardTimeMs: m.boardTimeMs, seq: m.seq, values };
    for (const h of [...this.tlmHandlers]) h(s);
  }
}
