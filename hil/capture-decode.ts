import type { Readable } from 'node:stream';
import { DelimiterParser } from '@serialport/parser-delimiter';
import { decodeBoardMessage } from '../protocols/board-link.ts';
import { isProtocolError } from '../protocols/errors.ts';
import { FRAME_DELIMITER, SerialFrameReceiver } from '../protocols/serial-frame.ts';
import { type Capture, decodeCapture } from './capture.ts';
import type { DecodeResult, Emit } from './decode/types.ts';

/**
 * Decoders for `npm run decode` (contract of hil/decode/types.ts):
 *  - `decodeBoardLinkStream`: a raw 0x00-delimited COBS stream of board-link frames
 *    (one direction exported by `npm run hil -- --export-capture`), one record per frame;
 *  - `decodeCaptureRecords`: a whole capture file (both directions, time-stamped).
 * Invalid frames are records with `error`; decoding carries on.
 */
export async function decodeBoardLinkStream(input: Readable, emit: Emit): Promise<DecodeResult> {
  const parser = new DelimiterParser({ delimiter: [FRAME_DELIMITER] });
  const recv = new SerialFrameReceiver();
  let frame = 0;
  let valid = 0;
  let invalid = 0;
  const kinds: Record<string, number> = {};
  parser.on('data', (chunk: Buffer) => {
    const r = recv.accept(new Uint8Array(chunk));
    if (r === null) return;
    frame++;
    if (!(r instanceof Uint8Array)) {
      invalid++;
      emit({ frame, error: r.message, code: r.code });
      return;
    }
    try {
      const m = decodeBoardMessage(r);
      valid++;
      kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
      if (m.kind === 'request') emit({ frame, kind: m.kind, seq: m.seq, op: m.request.op, request: plain(m.request) });
      else if (m.kind === 'response') emit({ frame, kind: m.kind, seq: m.seq, op: m.op, status: m.status, ...(m.body ? { body: plain(m.body) } : {}) });
      else emit({ frame, kind: m.kind, seq: m.seq, boardTimeMs: m.boardTimeMs, values: m.values });
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      invalid++;
      emit({ frame, error: e.message, code: e.code });
    }
  });
  for await (const chunk of input) parser.write(chunk as Buffer);
  parser.end();
  return { valid, invalid, summary: { frames: frame, kinds, frameErrors: recv.errors } };
}

export function decodeCaptureRecords(cap: Capture, emit: Emit): DecodeResult {
  let valid = 0;
  let invalid = 0;
  for (const r of decodeCapture(cap)) {
    if (r.error) invalid++;
    else valid++;
    emit(r);
  }
  return { valid, invalid, summary: { board: cap.header.board, port: cap.header.port, clock: cap.header.clock } };
}

function plain(o: object): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) r[k] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  return r;
}
