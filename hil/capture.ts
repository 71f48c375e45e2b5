import { createWriteStream, readFileSync, type WriteStream, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeBoardMessage } from '../protocols/board-link.ts';
import { isProtocolError } from '../protocols/errors.ts';
import { DelimitedSplitter, SerialFrameReceiver } from '../protocols/serial-frame.ts';

/**
 * Capture files: every byte each way on a board link, with bench timestamps, as
 * JSON Lines (docs/bench.md "Capture format"):
 *   {"type":"header","format":"qkd-hil-capture","version":1,"board":"apt","port":"port /dev/pts/7","clock":"sim","baud":115200,"seed":1,"startedAt":"..."}
 *   {"t":12.5,"dir":"tx","hex":"0a11..00"}                      bytes the bench wrote
 *   {"t":13.9,"dir":"rx","hex":"..."}                           bytes the bench received
 *   {"t":13.9,"dir":"rx","reject":"CRC_MISMATCH","message":"...","hex":"<chunk>"}   a frame the framing dropped
 *   {"t":20.0,"event":"disconnect","detail":"..."}              faults, resets, power loss
 *   {"t":0,"event":"lockstep","detail":"quantum 1 ms"}          a lockstep line: its grant quantum (the STEP
 *                                                               traffic itself is not recorded)
 * `t` is bench time in ms (simulated or wall). Readable by people, by `readCapture`,
 * by the replay transport, and exportable per direction as a raw byte stream (the
 * COBS/0x00 stream `npm run decode -- --format cobs` reads).
 */
export interface CaptureHeader {
  type: 'header';
  format: 'qkd-hil-capture';
  version: 1;
  board: string;
  port: string;
  clock: 'sim' | 'wall';
  baud: number;
  seed: number;
  startedAt: string;
}
export type CaptureRecord =
  | { t: number; dir: 'tx' | 'rx'; hex: string }
  | { t: number; dir: 'tx' | 'rx'; reject: string; message: string; hex: string }
  | { t: number; event: string; detail?: string };

export class CaptureWriter {
  private readonly out: WriteStream;
  records = 0;
  rejects = 0;

  constructor(
    readonly path: string,
    header: Omit<CaptureHeader, 'type' | 'format' | 'version'>,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.out = createWriteStream(path);
    this.line({ type: 'header', format: 'qkd-hil-capture', version: 1, ...header });
  }

  bytes(t: number, dir: 'tx' | 'rx', b: Uint8Array): void {
    this.line({ t: round(t), dir, hex: Buffer.from(b).toString('hex') });
  }

  reject(t: number, dir: 'tx' | 'rx', code: string, message: string, chunk: Uint8Array): void {
    this.rejects++;
    this.line({ t: round(t), dir, reject: code, message, hex: Buffer.from(chunk).toString('hex') });
  }

  event(t: number, event: string, detail?: string): void {
    this.line({ t: round(t), event, ...(detail ? { detail } : {}) });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }

  private line(o: object): void {
    this.records++;
    this.out.write(`${JSON.stringify(o)}\n`);
  }
}

function round(t: number): number {
  return Math.round(t * 1000) / 1000;
}

export interface Capture {
  header: CaptureHeader;
  records: CaptureRecord[];
}

export function readCapture(path: string): Capture {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${path}: empty capture`);
  const header = JSON.parse(lines[0]) as CaptureHeader;
  if (header.format !== 'qkd-hil-capture') throw new Error(`${path}: not a qkd-hil-capture file`);
  return { header, records: lines.slice(1).map((l, i) => {
    try {
      return JSON.parse(l) as CaptureRecord;
    } catch {
      throw new Error(`${path}:${i + 2}: not JSON`);
    }
  }) };
}

/** The bytes of one direction, in order, as the raw stream the line carried. */
export function directionBytes(cap: Capture, dir: 'tx' | 'rx'): Uint8Array {
  const parts = cap.records.filter((r): r is { t: number; dir: 'tx' | 'rx'; hex: string } => 'hex' in r && 'dir' in r && !('reject' in r) && r.dir === dir);
  return Buffer.concat(parts.map((p) => Buffer.from(p.hex, 'hex')));
}

export function exportDirection(capturePath: string, dir: 'tx' | 'rx', outPath: string): number {
  const b = directionBytes(readCapture(capturePath), dir);
  writeFileSync(outPath, b);
  return b.length;
}

export function rejectedFrames(cap: Capture): { t: number; dir: string; reject: string; message: string }[] {
  return cap.records.filter((r): r is { t: number; dir: 'tx' | 'rx'; reject: string; message: string; hex: string } => 'reject' in r);
}

/**
 * Decodes a capture frame by frame, both directions in time order: one record per
 * frame with kind/seq/op/status (board-link fields), or `error` naming why the
 * frame is invalid. This is the "board-link" view of a capture (what a
 * `npm run decode -- --format boardlink` would print).
 */
export function decodeCapture(cap: Capture): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const split = { tx: new DelimitedSplitter(), rx: new DelimitedSplitter() };
  const recv = { tx: new SerialFrameReceiver(), rx: new SerialFrameReceiver() };
  for (const r of cap.records) {
    if (!('dir' in r) || 'reject' in r) continue;
    const dir = r.dir;
    for (const chunk of split[dir].push(Buffer.from(r.hex, 'hex'))) {
      const p = recv[dir].accept(chunk);
      if (p === null) continue;
      if (!(p instanceof Uint8Array)) {
        out.push({ t: r.t, dir, error: p.code, message: p.message, length: chunk.length });
        continue;
      }
      try {
        const m = decodeBoardMessage(p);
        const base: Record<string, unknown> = { t: r.t, dir, kind: m.kind, seq: m.seq };
        if (m.kind === 'request') out.push({ ...base, op: m.request.op, request: summarise(m.request) });
        else if (m.kind === 'response') out.push({ ...base, op: m.op, status: m.status, ...(m.body ? { body: summarise(m.body) } : {}) });
        else out.push({ ...base, op: 'TLM', boardTimeMs: m.boardTimeMs, values: m.values });
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        out.push({ t: r.t, dir, error: e.code, message: e.message, length: p.length });
      }
    }
  }
  return out;
}

function summarise(o: object): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) r[k] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  return r;
}
