import type { Readable } from 'node:stream';
import { decodeBoardMessage } from '../protocols/board-link.ts';
import { isProtocolError } from '../protocols/errors.ts';
import { FRAME_DELIMITER } from '../protocols/serial-frame.ts';
import { type Capture, type CaptureRecord, decodeCapture, directionBytes } from './capture.ts';
import { CobsFrameScanner, type CobsUnit } from './decode/cobs.ts';
import type { DecodeResult, Emit } from './decode/types.ts';

/**
 * Decoders for `npm run decode` (contract of hil/decode/types.ts):
 *  - `decodeBoardLinkStream`: a raw 0x00-delimited COBS stream of board-link frames
 *    (one direction exported by `npm run hil -- --export-capture`), one record per frame;
 *  - `decodeCaptureRecords`: a whole capture file (both directions, time-stamped).
 * Invalid frames are records with `error`; decoding carries on.
 */
export async function decodeBoardLinkStream(input: Readable, emit: Emit): Promise<DecodeResult> {
  const scanner = new CobsFrameScanner();
  let frame = 0;
  let valid = 0;
  let invalid = 0;
  const kinds: Record<string, number> = {};
  const unit = (u: CobsUnit) => {
    frame++;
    const at = { frame, offset: u.offset };
    if ('truncated' in u) {
      invalid++;
      emit({ ...at, length: u.length, error: `input ends ${u.length} bytes into a frame (no 0x00 after it)`, code: 'TRUNCATED' });
      return;
    }
    if ('error' in u) {
      invalid++;
      emit({ ...at, length: u.length, error: u.error.message, code: u.error.code });
      return;
    }
    try {
      const m = decodeBoardMessage(u.payload);
      valid++;
      kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
      if (m.kind === 'request') emit({ ...at, kind: m.kind, seq: m.seq, op: m.request.op, request: plain(m.request) });
      else if (m.kind === 'response') emit({ ...at, kind: m.kind, seq: m.seq, op: m.op, status: m.status, ...(m.body ? { body: plain(m.body) } : {}) });
      else emit({ ...at, kind: m.kind, seq: m.seq, boardTimeMs: m.boardTimeMs, values: m.values });
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      invalid++;
      emit({ ...at, error: e.message, code: e.code });
    }
  };
  for await (const chunk of input) scanner.push(chunk as Buffer, unit);
  scanner.end(unit);
  const { skippedBytes, truncatedBytes } = scanner;
  return { valid, invalid, skippedBytes, truncatedBytes, summary: { frames: frame, kinds, frameErrors: scanner.frameErrors, skippedBytes, truncatedBytes } };
}

/** Why a bench capture record cannot be decoded, naming the field; null when it is sound. */
function recordProblem(r: unknown): string | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not a JSON object';
  const o = r as Record<string, unknown>;
  if (typeof o.t !== 'number' || !Number.isFinite(o.t)) return `field 't' is ${JSON.stringify(o.t)}, expected a time in ms`;
  if (!('dir' in o)) return typeof o.event === 'string' ? null : "neither 'dir' nor 'event'";
  if (o.dir !== 'tx' && o.dir !== 'rx') return `field 'dir' is ${JSON.stringify(o.dir)}, expected "tx" or "rx"`;
  if (typeof o.hex !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(o.hex)) return `field 'hex' is ${JSON.stringify(o.hex)}, expected pairs of hex digits`;
  return null;
}

/**
 * `--format capture`: both directions of a bench capture in time order. A record that
 * cannot be read (bad hex, no time, unknown direction) is reported with its line and
 * left out; bytes after a direction's last 0x00 are a truncated last frame.
 */
export function decodeCaptureRecords(cap: Capture, emit: Emit): DecodeResult {
  let valid = 0;
  let invalid = 0;
  const sound: CaptureRecord[] = [];
  cap.records.forEach((r, i) => {
    const problem = recordProblem(r);
    if (problem === null) sound.push(r);
    else {
      invalid++;
      emit({ line: i + 2, error: `capture record: ${problem}`, code: 'RECORD_INVALID' });
    }
  });
  const checked = { header: cap.header, records: sound };
  for (const r of decodeCapture(checked)) {
    if (r.error) invalid++;
    else valid++;
    emit(r);
  }
  let truncatedBytes = 0;
  for (const dir of ['tx', 'rx'] as const) {
    const bytes = directionBytes(checked, dir);
    const tail = bytes.length - 1 - bytes.lastIndexOf(FRAME_DELIMITER);
    if (tail > 0) {
      truncatedBytes += tail;
      emit({ dir, error: `${dir} ends ${tail} bytes into a frame (no 0x00 after it)`, code: 'TRUNCATED' });
    }
  }
  return { valid, invalid, truncatedBytes, summary: { board: cap.header.board, port: cap.header.port, clock: cap.header.clock, records: cap.records.length, recordsInvalid: cap.records.length - sound.length, truncatedBytes } };
}

function plain(o: object): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) r[k] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  return r;
}
