import type { Clock } from '../../boards/clock.ts';
import { type BoardRequest, encodeRequest, type ResponseBody } from '../../protocols/board-link.ts';
import type { BoardDriver } from '../driver.ts';
import { BoardError } from '../errors.ts';

/**
 * Several board-link requests in flight at once over a driver's line, so the line
 * never idles while the board programs a page (stop-and-wait would pay a round trip
 * per block). The board executes requests in arrival order. Each request has its own
 * timeout and is resent with the same sequence number a bounded number of times;
 * every outcome is reported per request, never thrown.
 *
 * The BoardDriver keeps one request outstanding, so this sends on the driver's
 * FrameLink directly with sequence numbers from the upper half of the 16-bit space
 * (the driver counts up from 0); the driver sees our answers as stale and ignores them.
 */
export interface PipelinedRequest {
  request: BoardRequest;
  /** Checks an OK body (e.g. the CRC in a MEM_WRITE acknowledgement); returns why it is wrong, or null. */
  check?: (body: ResponseBody) => string | null;
  /** Sends of this request at most (default: the pipeline's). */
  attempts?: number;
}

export interface PipelineOptions {
  clock: Clock;
  /** Requests in flight at most. */
  window: number;
  timeoutMs: number;
  /** Sends per request (first send included). */
  attempts: number;
  onDone?: (index: number) => void;
}

const SEQ_BASE = 0x8000;
let seqCounter = 0;
function nextSeq(): number {
  const s = SEQ_BASE + seqCounter;
  seqCounter = (seqCounter + 1) % 0x8000;
  return s;
}

export type PipelineOutcome = { ok: true; body: ResponseBody } | { ok: false; error: BoardError };

/** Runs requests and returns their OK bodies, or throws the first error. */
export async function requestAll(driver: BoardDriver, reqs: BoardRequest[], o: Omit<PipelineOptions, 'onDone'>): Promise<ResponseBody[]> {
  const out = await runPipelined(driver, reqs.map((request) => ({ request })), o);
  return out.map((r) => {
    if (!r.ok) throw r.error;
    return r.body;
  });
}

/** Runs the requests with up to `window` in flight; resolves with each one's OK body or error. */
export function runPipelined(driver: BoardDriver, reqs: PipelinedRequest[], o: PipelineOptions): Promise<PipelineOutcome[]> {
  const results: PipelineOutcome[] = new Array(reqs.length);
  const inflight = new Map<number, { i: number; bytes: Uint8Array; sends: number; timer: unknown }>();
  let next = 0;
  let stopped: BoardError | null = null;
  const fail = (i: number, code: BoardError['code'], detail: string) => {
    results[i] = { ok: false, error: new BoardError(code, driver.board, driver.port, detail) };
  };
  return new Promise((resolve) => {
    const release = o.clock.hold();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      unsubscribe();
      release();
      resolve(results);
    };
    const send = (seq: number) => {
      const f = inflight.get(seq)!;
      f.sends++;
      try {
        if (!driver.link.transport.isOpen) throw new Error('line is not open');
        driver.link.send(f.bytes);
      } catch (e) {
        stopped = new BoardError('DISCONNECTED', driver.board, driver.port, `${reqs[f.i].request.op} not sent: ${(e as Error).message}`);
      }
      f.timer = o.clock.setTimeout(() => onTimeout(seq), o.timeoutMs);
    };
    const onTimeout = (seq: number) => {
      const f = inflight.get(seq);
      if (!f) return;
      if (f.sends < (reqs[f.i].attempts ?? o.attempts) && !stopped) {
        driver.link.note('retry', `${reqs[f.i].request.op} seq ${seq} send ${f.sends + 1} (pipelined)`);
        send(seq);
        return;
      }
      inflight.delete(seq);
      fail(f.i, 'NO_RESPONSE', `no response to ${reqs[f.i].request.op} (seq ${seq}) after ${f.sends} send(s) of ${o.timeoutMs} ms`);
      pump();
    };
    const pump = () => {
      while (!stopped && inflight.size < o.window && next < reqs.length) {
        const i = next++;
        const seq = nextSeq();
        inflight.set(seq, { i, bytes: encodeRequest(seq, reqs[i].request), sends: 0, timer: null });
        send(seq);
      }
      if (stopped) {
        for (const [, f] of inflight) {
          o.clock.clearTimeout(f.timer);
          results[f.i] = { ok: false, error: stopped };
        }
        inflight.clear();
        for (; next < reqs.length; next++) results[next] = { ok: false, error: stopped };
      }
      if (inflight.size === 0 && next >= reqs.length) finish();
    };
    const unsubscribe = driver.link.onMessage((m) => {
      if (m.kind !== 'response') return;
      const f = inflight.get(m.seq);
      if (!f) return;
      o.clock.clearTimeout(f.timer);
      inflight.delete(m.seq);
      const op = reqs[f.i].request.op;
      if (m.op !== op) fail(f.i, 'REFUSED', `answered ${m.op} to ${op} (seq ${m.seq})`);
      else if (m.status !== 'OK') fail(f.i, 'REFUSED', `${op} refused with ${m.status}`);
      else {
        const wrong = reqs[f.i].check?.(m.body!) ?? null;
        if (wrong !== null) fail(f.i, 'VERIFY_FAILED', wrong);
        else {
          results[f.i] = { ok: true, body: m.body! };
          o.onDone?.(f.i);
        }
      }
      pump();
    });
    pump();
  });
}
