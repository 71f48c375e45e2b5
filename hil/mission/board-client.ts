import { fromRaw, register, registerAt, toRaw, type BoardDefinition } from '../../boards/definitions.ts';
import { type BoardMessage, type BoardRequest, decodeBoardMessage, encodeRequest, frameMessage, type ResponseMessage, SEQ_MODULO } from '../../protocols/board-link.ts';
import { countError, type ErrorCounts, isProtocolError } from '../../protocols/errors.ts';
import { decodeSerialFrame, DelimitedSplitter } from '../../protocols/serial-frame.ts';
import { oneShotOf, RESET_COUNTER } from '../driver.ts';
import type { ByteTransport } from '../transport/types.ts';
import type { MissionClock } from './clock.ts';

type Reply = (r: ResponseMessage | null) => void;

interface Pending {
  req: BoardRequest;
  cb?: Reply;
  /** Latest-value slot: a newer write with the same key replaces this one while queued. */
  key?: string;
}

export interface BoardClientStats {
  requests: number;
  retries: number;
  timeouts: number;
  failed: number;
  refused: number;
  coalesced: number;
  telemetryFrames: number;
  telemetryLost: number;
  staleResponses: number;
  frameErrors: ErrorCounts;
}

/**
 * A board-link client in callback style, for the firmware's synchronous HAL: requests
 * go out one at a time in order (16-bit seq, timeout and bounded retries on the mission
 * clock, a retry reuses its seq so the board answers from its cache), answers and the
 * board's telemetry stream update a cache of engineering values that the ports read
 * synchronously. Setpoint writes (mirror, body offset) are coalesced per key: only the
 * newest value waits in the queue, so a control loop faster than the line never builds
 * a backlog. Same wire format and framing as the bench's promise-based BoardDriver,
 * and the same rule for requests whose repetition changes state (RESET, power loss:
 * see oneShotOf in hil/driver.ts): sent once, and after a lost answer the board's reset
 * counter says whether it took effect; resent only when it did not.
 */
export class BoardClient {
  /** Latest engineering value of each register the board told us about. */
  readonly values = new Map<string, number>();
  /** Mission-clock ms of the last frame the board sent (any kind); -Infinity before the first. */
  lastAnswerMs = -Infinity;
  lastTelemetryMs = -Infinity;
  readonly stats: BoardClientStats = { requests: 0, retries: 0, timeouts: 0, failed: 0, refused: 0, coalesced: 0, telemetryFrames: 0, telemetryLost: 0, staleResponses: 0, frameErrors: {} };
  private readonly splitter = new DelimitedSplitter();
  private readonly queue: Pending[] = [];
  private outstanding: { seq: number; bytes: Uint8Array; p: Pending; attempt: number; retries: number; timer: unknown } | null = null;
  private seq = 0;
  private lastTlmSeq: number | null = null;
  private readonly tlmHandlers = new Set<(values: ReadonlyMap<string, number>) => void>();
  private readonly items: { name: string; reg: ReturnType<typeof register> }[];

  constructor(
    readonly def: BoardDefinition,
    readonly transport: ByteTransport,
    private readonly clock: MissionClock,
    private readonly opts: { timeoutMs: number; retries: number },
  ) {
    this.items = def.telemetry.items.map((name) => ({ name, reg: register(def, name) }));
    transport.onData((b) => this.onBytes(b));
  }

  get board(): string {
    return this.def.name;
  }

  value(name: string, fallback = 0): number {
    return this.values.get(name) ?? fallback;
  }

  onTelemetry(cb: (values: ReadonlyMap<string, number>) => void): () => void {
    this.tlmHandlers.add(cb);
    return () => this.tlmHandlers.delete(cb);
  }

  request(req: BoardRequest, cb?: Reply, key?: string): void {
    if (key !== undefined) {
      const q = this.queue.find((p) => p.key === key);
      if (q) {
        q.req = req;
        q.cb = cb;
        this.stats.coalesced++;
        return;
      }
    }
    this.queue.push({ req, cb, key });
    if (!this.outstanding) this.next();
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

  /** Requests in flight or queued. */
  get busy(): number {
    return this.queue.length + (this.outstanding ? 1 : 0);
  }

  /** Forgets queued requests and the stream counter (the board was reset). */
  flush(): void {
    this.queue.length = 0;
    this.lastTlmSeq = null;
  }

  private next(): void {
    const p = this.queue.shift();
    if (!p) return;
    const shot = oneShotOf(p.req);
    const counter = this.def.registers.find((r) => r.name === RESET_COUNTER);
    if (!shot) this.start(p, this.opts.retries);
    else if (shot.kind === 'arms' || !counter) this.start(p, 0);
    else this.oneShot(p, shot.settleMs, counter);
  }

  /** Puts one request on the line now (nothing may be outstanding). */
  private start(p: Pending, retries: number): void {
    const seq = this.seq;
    this.seq = (this.seq + 1) % SEQ_MODULO;
    this.stats.requests++;
    this.outstanding = { seq, bytes: frameMessage(encodeRequest(seq, p.req)), p, attempt: 0, retries, timer: null };
    this.send();
  }

  /** A request that resets the board: baseline reset counter, one send, and on a lost answer the counter decides. */
  private oneShot(p: Pending, settleMs: number, counter: ReturnType<typeof register>): void {
    const readCount = (retries: number, cb: (n: number | null) => void) =>
      this.start({ req: { op: 'READ_REGS', addresses: [counter.address] }, cb: (r) => {
        const v = r?.status === 'OK' && r.body?.op === 'READ_REGS' ? r.body.values.find((x) => x.address === counter.address) : undefined;
        cb(v === undefined ? null : fromRaw(counter, v.value));
      } }, retries);
    const done = (r: ResponseMessage | null) => {
      p.cb?.(r);
      if (!this.outstanding) this.next();
    };
    readCount(this.opts.retries, (before) => {
      if (before === null) return done(null);
      let sends = 0;
      let seqSent = 0;
      const send = () => {
        sends++;
        this.start({ req: p.req, cb: (r) => {
          if (r) return done(r);
          const deadline = this.clock.now() + settleMs + (this.opts.retries + 1) * this.opts.timeoutMs;
          const poll = () => readCount(0, (now) => {
            if (now === null) return this.clock.now() < deadline ? poll() : done(null);
            if (now !== before) return done({ kind: 'response', seq: seqSent, op: p.req.op as ResponseMessage['op'], status: 'OK', body: { op: p.req.op } as ResponseMessage['body'] });
            if (sends > this.opts.retries) return done(null);
            this.stats.retries++;
            send();
          });
          poll();
        } }, 0);
        seqSent = this.outstanding!.seq;
      };
      send();
    });
  }

  private send(): void {
    const o = this.outstanding!;
    o.timer = this.clock.setTimeout(() => this.onTimeout(), this.opts.timeoutMs);
    if (this.transport.isOpen) this.transport.write(o.bytes);
  }

  private onTimeout(): void {
    const o = this.outstanding;
    if (!o) return;
    this.stats.timeouts++;
    if (o.attempt < o.retries) {
      o.attempt++;
      this.stats.retries++;
      this.send();
      return;
    }
    this.stats.failed++;
    this.outstanding = null;
    o.p.cb?.(null);
    if (!this.outstanding) this.next();
  }

  private onBytes(bytes: Uint8Array): void {
    for (const chunk of this.splitter.push(bytes)) {
      if (chunk.length === 0) continue;
      let m: BoardMessage;
      try {
        m = decodeBoardMessage(decodeSerialFrame(chunk));
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        countError(this.stats.frameErrors, e);
        continue;
      }
      this.lastAnswerMs = this.clock.now();
      if (m.kind === 'response') this.onResponse(m);
      else if (m.kind === 'telemetry') this.onTelemetryFrame(m.seq, m.values);
    }
  }

  private onResponse(m: ResponseMessage): void {
    const o = this.outstanding;
    if (!o || o.seq !== m.seq) {
      this.stats.staleResponses++;
      return;
    }
    this.clock.clearTimeout(o.timer);
    this.outstanding = null;
    if (m.status !== 'OK') this.stats.refused++;
    const body = m.body;
    if (body && (body.op === 'READ_REGS' || body.op === 'WRITE_REGS')) {
      for (const v of body.values) {
        const r = registerAt(this.def, v.address);
        if (r) this.values.set(r.name, fromRaw(r, v.value));
      }
    }
    o.p.cb?.(m);
    if (!this.outstanding) this.next();
  }

  private onTelemetryFrame(seq: number, raw: number[]): void {
    this.stats.telemetryFrames++;
    if (this.lastTlmSeq !== null && seq !== 0) this.stats.telemetryLost += (seq - this.lastTlmSeq - 1 + SEQ_MODULO) % SEQ_MODULO;
    this.lastTlmSeq = seq;
    this.lastTelemetryMs = this.clock.now();
    const n = Math.min(this.items.length, raw.length);
    for (let i = 0; i < n; i++) this.values.set(this.items[i].name, fromRaw(this.items[i].reg, raw[i]));
    for (const h of this.tlmHandlers) h(this.values);
  }
}
