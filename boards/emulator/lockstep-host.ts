import { decodeBoardMessage, encodeRequest, encodeResponse, frameMessage, KIND_REQUEST, OPCODES, SIM_KINDS } from '../../protocols/board-link.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { DEFAULT_MAX_FRAME_PAYLOAD, decodeSerialFrame, FRAME_DELIMITER, maxEncodedFrameLength } from '../../protocols/serial-frame.ts';
import { SimClock } from '../clock.ts';
import { UartTx } from '../uart.ts';
import type { BoardEmulator } from './core.ts';

/**
 * What went wrong in lockstep, on either end: a STEP into the board's past (the host
 * refuses it; the bench's line sees the refusal in the answer), no answer to a STEP in
 * time, the line gone while a grant was out, a grant while one is still out, output
 * from a board that had said it was quiet.
 */
export type LockstepErrorCode = 'STEP_IN_PAST' | 'STEP_NOT_REACHED' | 'NO_STEP_ANSWER' | 'LINE_CLOSED' | 'GRANT_PENDING' | 'NOT_QUIET';

export class LockstepError extends Error {
  override readonly name = 'LockstepError';
  constructor(
    readonly code: LockstepErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Encoded length (without the 0x00) of every STEP request frame: the host only decodes chunks of this size. */
const STEP_CHUNK_BYTES = frameMessage(encodeRequest(0, { op: 'SIM', sim: { kind: 'STEP', toMs: 0 } })).length - 1;
const MAX_CHUNK = maxEncodedFrameLength(DEFAULT_MAX_FRAME_PAYLOAD);

/** The seq and time of a SIM STEP request in a 0x00-delimited chunk, or null when the chunk is anything else. */
export function stepRequestIn(chunk: Uint8Array): { seq: number; toMs: number } | null {
  if (chunk.length !== STEP_CHUNK_BYTES) return null;
  try {
    const p = decodeSerialFrame(chunk);
    if (p[0] !== KIND_REQUEST || p[3] !== OPCODES.SIM || p[4] !== SIM_KINDS.STEP) return null;
    const m = decodeBoardMessage(p);
    return m.kind === 'request' && m.request.op === 'SIM' && m.request.sim.kind === 'STEP' ? { seq: m.seq, toMs: m.request.sim.toMs } : null;
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return null;
  }
}

/**
 * Hosts a board emulator in lockstep with a bench's simulated clock, over one byte
 * pipe (a memory pipe in-process, a pty or a TCP socket in another process: only the
 * pipe differs, so the results are the same by construction).
 *
 * The emulator runs on its OWN SimClock, which moves only when the bench grants time
 * with SIM STEP(toMs). Bytes from the bench are split at 0x00: a chunk that is a STEP
 * request is consumed here; every other chunk is held, byte-exact, until the next STEP.
 * On STEP(toMs) the host
 *   1. hands the held chunks to the board's receive UART at the board's current time
 *      (the previous grant; the bench wrote them no later than that, so causality holds
 *      and a request costs one quantum less than handing them over at toMs),
 *   2. runs the board's clock to toMs, collecting what its UART transmits meanwhile,
 *   3. writes that output and then the STEP answer (OK, reachedMs = toMs, quietUntilMs =
 *      the time of the board's next event) in one write. Until quietUntilMs the board
 *      sends nothing unless sent something, so the bench may leave it ungranted (and
 *      save a round trip per quantum) until then or until it writes to it.
 * A STEP to a time before the board's clock is refused: time does not move, the
 * answer carries the time the board stands at (the bench's line turns that into a
 * STEP_IN_PAST error) and onError listeners get a LockstepError.
 */
export class LockstepHost {
  readonly stats = { steps: 0, refused: 0, rxBytes: 0, txBytes: 0 };
  private readonly clock: SimClock;
  /** Paces bench bytes into the board at the line rate (a pty or socket does not). */
  private readonly rx: UartTx;
  /** Complete chunks (with their 0x00) from the bench, waiting for the next STEP. */
  private held: Uint8Array[] = [];
  /** Bytes since the last 0x00. */
  private partial: Uint8Array = new Uint8Array(0);
  private out: Uint8Array[] = [];
  private readonly errorListeners = new Set<(e: LockstepError) => void>();

  constructor(
    readonly emulator: BoardEmulator,
    private readonly write: (bytes: Uint8Array) => void,
  ) {
    if (!(emulator.clock instanceof SimClock)) throw new Error(`a lockstep host needs the ${emulator.def.name} emulator on its own SimClock`);
    this.clock = emulator.clock;
    this.rx = new UartTx(emulator.baud, this.clock, (b) => emulator.receive(b));
    emulator.onTransmit((b) => this.out.push(b));
  }

  /** The board's simulated time, ms. */
  now(): number {
    return this.clock.now();
  }

  onError(cb: (e: LockstepError) => void): () => void {
    this.errorListeners.add(cb);
    return () => this.errorListeners.delete(cb);
  }

  /** Bytes from the bench, in any chunking. */
  receive(bytes: Uint8Array): void {
    let start = 0;
    for (let i = bytes.indexOf(FRAME_DELIMITER); i >= 0; i = bytes.indexOf(FRAME_DELIMITER, start)) {
      const chunk = this.joinPartial(bytes.subarray(start, i + 1));
      start = i + 1;
      const step = stepRequestIn(chunk.subarray(0, chunk.length - 1));
      if (step) this.step(step.seq, step.toMs);
      else this.hold(chunk);
    }
    this.partial = this.joinPartial(bytes.subarray(start));
    // A run without delimiter longer than any frame is no STEP: pass it on, keeping memory bounded.
    if (this.partial.length > MAX_CHUNK) {
      this.hold(this.partial);
      this.partial = new Uint8Array(0);
    }
  }

  private joinPartial(b: Uint8Array): Uint8Array {
    if (this.partial.length === 0) return b.slice();
    const j = new Uint8Array(this.partial.length + b.length);
    j.set(this.partial);
    j.set(b, this.partial.length);
    this.partial = new Uint8Array(0);
    return j;
  }

  private hold(chunk: Uint8Array): void {
    this.stats.rxBytes += chunk.length;
    this.held.push(chunk);
  }

  private step(seq: number, toMs: number): void {
    const now = this.clock.now();
    if (!(toMs >= now)) {
      this.stats.refused++;
      this.answer(seq, now);
      const e = new LockstepError('STEP_IN_PAST', `board ${this.emulator.def.name}: STEP to ${toMs} ms refused, its clock is at ${now} ms`);
      for (const cb of [...this.errorListeners]) cb(e);
      return;
    }
    const held = this.held;
    this.held = [];
    for (const chunk of held) this.rx.write(chunk);
    this.clock.runUntil(toMs);
    this.stats.steps++;
    this.answer(seq, this.clock.now());
  }

  /** Everything the board sent during the step, then the STEP answer, as one write. */
  private answer(seq: number, reachedMs: number): void {
    const parts = this.out;
    this.out = [];
    parts.push(frameMessage(encodeResponse(seq, 'SIM', 'OK', { op: 'SIM', reachedMs, quietUntilMs: this.clock.nextEventMs() })));
    let n = 0;
    for (const p of parts) n += p.length;
    const all = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    this.stats.txBytes += n;
    this.write(all);
  }
}
