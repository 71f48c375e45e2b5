import type { AdvanceHook, Clock, SimClock } from '../../boards/clock.ts';
import { LockstepError } from '../../boards/emulator/lockstep-host.ts';
import { decodeBoardMessage, encodeRequest, encodeResponse, frameMessage, KIND_RESPONSE, OPCODES, SEQ_MODULO } from '../../protocols/board-link.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { decodeSerialFrame, FRAME_DELIMITER } from '../../protocols/serial-frame.ts';
import { type ByteTransport, Listeners } from './types.ts';

/** Simulated time granted per STEP by default, ms. */
export const DEFAULT_QUANTUM_MS = 1;
/** Wall time a STEP answer may take before the line is declared dead, ms (generous: a loaded CI machine). */
export const DEFAULT_STEP_ANSWER_TIMEOUT_MS = 5000;

/** Encoded lengths (without the 0x00) of a STEP answer and of a bodiless SIM refusal: only chunks of these sizes are decoded. */
const ANSWER_CHUNK_BYTES = frameMessage(encodeResponse(0, 'SIM', 'OK', { op: 'SIM', reachedMs: 0, quietUntilMs: 0 })).length - 1;
const REFUSAL_CHUNK_BYTES = frameMessage(encodeResponse(0, 'SIM', 'NOT_SUPPORTED')).length - 1;

export interface LockstepLineOptions {
  answerTimeoutMs?: number;
  /** Leave quiet boards ungranted (default true); false grants every quantum: the reference the equivalence test compares with. */
  skipQuiet?: boolean;
}

interface Grant {
  seq: number;
  toMs: number;
  /** Sent before bench bytes to bring a quiet board to the time they reach it: nobody waits for it, and it must bring no output. */
  catchUp: boolean;
  /** Why no answer may come (a board that refused STEP as NOT_SUPPORTED), for the timeout message. */
  hint?: string;
  /** Ends the grant's promise (an answer from another process). */
  settle?: () => void;
}

/**
 * The bench's end of lockstep: a ByteTransport decorator around any line (memory,
 * serial/pty, TCP) whose far end is a lockstep host (boards/emulator/lockstep-host.ts).
 *
 * The bench clock offers every quantum boundary (`grant(toMs)`, from the SimClock's
 * advance hook, see `installLockstep`). The line writes SIM STEP(toMs) and waits for
 * its answer, unless the board is quiet: the bench wrote nothing to it since its last
 * grant and its last answer said its next event comes after `toMs` (`quietUntilMs`).
 * Such a quantum would bring nothing, so the board is left where it stands; when the
 * bench then writes to it, a catch-up STEP to the last boundary goes first (not
 * awaited: it cannot bring output), so the bytes reach the board at the same time as
 * if every quantum had been granted. The run is the same bit for bit as with a STEP
 * per quantum, with a round trip only where something happens.
 *
 * Bytes the board sent before an answer are held and handed to the consumer (the
 * FrameLink) as one chunk at exactly `toMs` of bench time, whatever the OS did with
 * them meanwhile, so a run is the same bit for bit on any line. STEP requests and
 * answers never reach the consumer, nor its capture: the grant traffic is a function
 * of the run (the quantum and the times the boards are busy), so recording it would
 * only add lines.
 *
 * Over a synchronous pipe (an in-process host) the answer arrives inside the write and
 * `grant` returns nothing, so the SimClock's synchronous run works; otherwise it
 * returns a promise the async pump awaits. A failure (answer for another time, no
 * answer within `answerTimeoutMs` of wall time, output from a board that said it was
 * quiet, line gone) never rejects: the line closes, `onClose` listeners get the
 * LockstepError's message, and time goes on without the board, so requests to it fail
 * naming board and port instead of the run hanging.
 */
export class LockstepLine implements ByteTransport {
  /** STEPs awaited, catch-up STEPs, and quanta left ungranted because the board was quiet. */
  readonly stats = { grants: 0, catchUps: 0, quietQuanta: 0, deliveredBytes: 0 };
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closed = new Listeners<[string]>();
  /** Bytes from the board not yet delivered; [chunkStart, len) is the chunk after the last 0x00. */
  private buf = new Uint8Array(4096);
  private len = 0;
  private chunkStart = 0;
  private seq = 0;
  /** STEPs written and not yet answered, oldest first (answers come in order). */
  private pending: Grant[] = [];
  private failure_: LockstepError | null = null;
  private readonly answerTimeoutMs: number;
  /** The last boundary the bench clock offered: bytes written now reach the board at this time. */
  private boundaryMs: number;
  /** The time the board has been sent a STEP to (answered or not). */
  private boardMs: number;
  /** The board's next event as of its last answer (-Infinity before the first: unknown). */
  private quietUntilMs = -Infinity;
  private wroteSinceGrant = false;
  private readonly skipQuiet: boolean;

  constructor(
    readonly inner: ByteTransport,
    private readonly clock: Clock,
    opts: LockstepLineOptions = {},
  ) {
    this.answerTimeoutMs = opts.answerTimeoutMs ?? DEFAULT_STEP_ANSWER_TIMEOUT_MS;
    this.skipQuiet = opts.skipQuiet ?? true;
    this.boundaryMs = this.boardMs = clock.now();
    inner.onData((b) => this.onInner(b));
    inner.onClose((reason) => this.fail(new LockstepError('LINE_CLOSED', `${this.description}: ${reason}`), reason));
  }

  get description(): string {
    return this.inner.description;
  }

  get isOpen(): boolean {
    return this.failure_ === null && this.inner.isOpen;
  }

  /** Why the line stopped following the clock, if it did. */
  get failure(): LockstepError | null {
    return this.failure_;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    const gs = this.pending;
    this.pending = [];
    for (const g of gs) g.settle?.();
    return this.inner.close();
  }

  write(bytes: Uint8Array): void {
    // A quiet board left behind: bring it to the time these bytes reach it, first.
    if (this.boardMs < this.boundaryMs && this.failure_ === null) {
      this.stats.catchUps++;
      this.send(this.boundaryMs, true);
    }
    this.wroteSinceGrant = true;
    this.inner.write(bytes);
  }

  onData(cb: (bytes: Uint8Array) => void): () => void {
    return this.data.add(cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    return this.closed.add(cb);
  }

  /**
   * The bench clock is about to pass into the quantum ending at `toMs`: grants the board
   * time up to it, unless it is quiet; resolves (or returns at once) when it got there
   * and its output is scheduled for `toMs`.
   */
  grant(toMs: number): void | Promise<void> {
    this.boundaryMs = toMs;
    if (this.failure_) return;
    if (this.skipQuiet && !this.wroteSinceGrant && this.quietUntilMs > toMs) {
      this.stats.quietQuanta++;
      return;
    }
    const waiting = this.pending.find((p) => !p.catchUp);
    if (waiting) return this.fail(new LockstepError('GRANT_PENDING', `${this.description}: STEP to ${toMs} ms while STEP to ${waiting.toMs} ms is unanswered`));
    this.stats.grants++;
    this.wroteSinceGrant = false;
    const g = this.send(toMs, false);
    if (!g || !this.pending.includes(g)) return; // answered inside the write (a synchronous pipe), or failed
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.fail(new LockstepError('NO_STEP_ANSWER', `${this.description}: no answer to STEP to ${toMs} ms within ${this.answerTimeoutMs} ms${g.hint ? ` (${g.hint})` : ''}`));
      }, this.answerTimeoutMs);
      g.settle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Writes STEP(toMs); null when the line failed meanwhile. */
  private send(toMs: number, catchUp: boolean): Grant | null {
    const g: Grant = { seq: this.seq, toMs, catchUp };
    this.seq = (this.seq + 1) % SEQ_MODULO;
    this.pending.push(g);
    this.boardMs = toMs;
    try {
      this.inner.write(frameMessage(encodeRequest(g.seq, { op: 'SIM', sim: { kind: 'STEP', toMs } })));
    } catch (e) {
      this.fail(new LockstepError('LINE_CLOSED', `${this.description}: cannot send STEP to ${toMs} ms: ${(e as Error).message}`));
      return null;
    }
    return g;
  }

  private fail(e: LockstepError, reason = e.message): void {
    if (this.failure_) return;
    this.failure_ = e;
    const gs = this.pending;
    this.pending = [];
    for (const g of gs) g.settle?.();
    this.closed.emit(reason);
  }

  private onInner(b: Uint8Array): void {
    if (this.len + b.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + b.length));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    let scan = this.len;
    this.buf.set(b, this.len);
    this.len += b.length;
    for (;;) {
      const i = this.buf.subarray(0, this.len).indexOf(FRAME_DELIMITER, scan);
      if (i < 0) return;
      const chunk = this.buf.subarray(this.chunkStart, i);
      const g = this.pending[0];
      if (g && chunk.length === ANSWER_CHUNK_BYTES) {
        const answer = stepAnswerIn(chunk, g.seq);
        if (answer !== null) {
          const held = this.buf.slice(0, this.chunkStart);
          this.buf.copyWithin(0, i + 1, this.len);
          this.len -= i + 1;
          this.chunkStart = 0;
          scan = 0;
          this.answered(g, answer, held);
          continue;
        }
      }
      if (g && chunk.length === REFUSAL_CHUNK_BYTES) {
        const status = simRefusalIn(chunk, g.seq);
        if (status) {
          const hint = `the board answered SIM ${status}: is it an emulator in lockstep (npm run emulate -- BOARD --lockstep)?`;
          for (const p of this.pending) p.hint = hint;
        }
      }
      this.chunkStart = i + 1;
      scan = i + 1;
    }
  }

  private answered(g: Grant, answer: StepAnswer, held: Uint8Array): void {
    if (answer.reachedMs !== g.toMs) {
      const code = answer.reachedMs > g.toMs ? 'STEP_IN_PAST' : 'STEP_NOT_REACHED';
      return this.fail(new LockstepError(code, `${this.description}: STEP to ${g.toMs} ms answered with the board at ${answer.reachedMs} ms`));
    }
    if (g.catchUp && held.length > 0) {
      return this.fail(new LockstepError('NOT_QUIET', `${this.description}: the board sent ${held.length} bytes by ${g.toMs} ms although it had said it was quiet until ${this.quietUntilMs} ms`));
    }
    this.pending.shift();
    this.quietUntilMs = answer.quietUntilMs;
    if (held.length > 0) {
      this.stats.deliveredBytes += held.length;
      this.clock.setTimeout(() => this.data.emit(held), g.toMs - this.clock.now());
    }
    g.settle?.();
  }
}

interface StepAnswer {
  reachedMs: number;
  quietUntilMs: number;
}

/** The times in a STEP answer (SIM, OK, with reachedMs and quietUntilMs) to request `seq`, or null when the chunk is anything else. */
function stepAnswerIn(chunk: Uint8Array, seq: number): StepAnswer | null {
  const m = decodeResponseChunk(chunk, seq);
  const b = m && m.status === 'OK' && m.body?.op === 'SIM' ? m.body : null;
  return b && b.reachedMs !== undefined && b.quietUntilMs !== undefined ? { reachedMs: b.reachedMs, quietUntilMs: b.quietUntilMs } : null;
}

/** The status of a bodiless SIM refusal to request `seq`, or null. */
function simRefusalIn(chunk: Uint8Array, seq: number): string | null {
  const m = decodeResponseChunk(chunk, seq);
  return m && m.status !== 'OK' ? m.status : null;
}

function decodeResponseChunk(chunk: Uint8Array, seq: number) {
  try {
    const p = decodeSerialFrame(chunk);
    if (p[0] !== KIND_RESPONSE || ((p[1] << 8) | p[2]) !== seq || p[3] !== OPCODES.SIM) return null;
    const m = decodeBoardMessage(p);
    return m.kind === 'response' ? m : null;
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return null;
  }
}

/**
 * The advance hook that offers each quantum to every line at once (STEP written to all
 * that are not quiet, then their answers awaited): synchronous when every line answered
 * inside its write or was quiet.
 */
export function lockstepHook(lines: readonly LockstepLine[]): AdvanceHook {
  return (toMs) => {
    let waits: Promise<void>[] | null = null;
    for (const line of lines) {
      const w = line.grant(toMs);
      if (w) (waits ??= []).push(w);
    }
    return waits ? Promise.all(waits).then(() => undefined) : undefined;
  };
}

/** Makes `lines` follow `clock` in quanta of `quantumMs`; returns the function that stops it. */
export function installLockstep(clock: SimClock, lines: readonly LockstepLine[], quantumMs = DEFAULT_QUANTUM_MS): () => void {
  clock.onAdvance(quantumMs, lockstepHook(lines));
  return () => clock.onAdvance(quantumMs, null);
}
