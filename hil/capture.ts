import { createWriteStream, readFileSync, type WriteStream, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type BoardDefinition, fromRaw, isBoardName, loadBoardDefinition, registerAt } from '../boards/definitions.ts';
import { type BoardMessage, decodeBoardMessage, formatFwVersion, formatHwVersion, type Identity, type RegWrite } from '../protocols/board-link.ts';
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
  // Like every --out: its folder is created.
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, b);
  return b.length;
}

/** The frames the framing dropped, as records people read (time with its unit: tMs). */
export function rejectedFrames(cap: Capture): { tMs: number; dir: string; reject: string; message: string; hex: string }[] {
  return cap.records
    .filter((r): r is { t: number; dir: 'tx' | 'rx'; reject: string; message: string; hex: string } => 'reject' in r)
    .map(({ t, ...rest }) => ({ tMs: t, ...rest }));
}

/**
 * Board-link frames of one line, both directions, decoded as their bytes arrive: one
 * record per frame with tMs (bench time, ms), dir, kind, seq, op, status, and the
 * registers by name with engineering values (from the board definition, when known),
 * or `error` naming why the frame is invalid. What `--show-capture --frames`,
 * `decode --format capture` and `npm run emulate -- --verbose` print.
 */
export class BoardLinkFrameDecoder {
  private readonly split = { tx: new DelimitedSplitter(), rx: new DelimitedSplitter() };
  private readonly recv = { tx: new SerialFrameReceiver(), rx: new SerialFrameReceiver() };

  constructor(private readonly def?: BoardDefinition) {}

  push(tMs: number, dir: 'tx' | 'rx', bytes: Uint8Array): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const chunk of this.split[dir].push(bytes)) {
      const p = this.recv[dir].accept(chunk);
      if (p === null) continue;
      if (!(p instanceof Uint8Array)) {
        out.push({ tMs, dir, error: p.code, message: p.message, length: chunk.length });
        continue;
      }
      try {
        out.push({ tMs, dir, ...describeBoardMessage(decodeBoardMessage(p), this.def) });
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        out.push({ tMs, dir, error: e.code, message: e.message, length: p.length });
      }
    }
    return out;
  }
}

/** The board definition a capture's header names, if it is one of ours. */
export function captureBoard(cap: Capture): BoardDefinition | undefined {
  return isBoardName(cap.header.board) ? loadBoardDefinition(cap.header.board) : undefined;
}

/** Decodes a capture frame by frame, both directions in time order (BoardLinkFrameDecoder). */
export function decodeCapture(cap: Capture): Record<string, unknown>[] {
  const decoder = new BoardLinkFrameDecoder(captureBoard(cap));
  const out: Record<string, unknown>[] = [];
  for (const r of cap.records) {
    if (!('dir' in r) || 'reject' in r) continue;
    out.push(...decoder.push(r.t, r.dir, Buffer.from(r.hex, 'hex')));
  }
  return out;
}

/**
 * One board-link message as people read it: registers by name with engineering values
 * (an address the definition does not know stays as 0x hex), memory addresses in hex,
 * data as hex, telemetry values by item name.
 */
export function describeBoardMessage(m: BoardMessage, def?: BoardDefinition): Record<string, unknown> {
  const base = { kind: m.kind, seq: m.seq };
  if (m.kind === 'request') return { ...base, op: m.request.op, request: named(m.request, def) };
  if (m.kind === 'response') return { ...base, op: m.op, status: m.status, ...(m.body ? { body: named(m.body, def) } : {}) };
  const items = def?.telemetry.items;
  const values = items && items.length === m.values.length ? Object.fromEntries(items.map((n, i) => [n, engineering(def!, n, m.values[i])])) : m.values;
  return { ...base, op: 'TLM', boardTimeMs: m.boardTimeMs, values };
}

const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const registerName = (def: BoardDefinition | undefined, address: number) => (def && registerAt(def, address)?.name) ?? hex(address);
function engineering(def: BoardDefinition, name: string, raw: number): number {
  const r = def.registers.find((x) => x.name === name);
  return r ? fromRaw(r, raw) : raw;
}

function named(o: object, def?: BoardDefinition): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'op') continue;
    if (k === 'addresses' && Array.isArray(v)) r.registers = (v as number[]).map((a) => registerName(def, a));
    else if ((k === 'writes' || k === 'values') && Array.isArray(v)) {
      r[k] = Object.fromEntries((v as RegWrite[]).map((w) => {
        const reg = def && registerAt(def, w.address);
        return [reg?.name ?? hex(w.address), reg ? fromRaw(reg, w.value) : w.value];
      }));
    } else if (k === 'address' && typeof v === 'number') r.address = `0x${v.toString(16).padStart(8, '0')}`;
    else if (k === 'identity') {
      const id = v as Identity;
      r.identity = { ...id, boardId: hex(id.boardId), hwVersion: formatHwVersion(id.hwVersion), fwVersion: formatFwVersion(id.fwVersion) };
    }
    else r[k] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  }
  return r;
}

/**
 * A decoded frame as one line of text: time with its unit, who sent it to whom, then the
 * message (`emulate --verbose`). `tx` is what the bench sent, `rx` what the board sent.
 */
export function formatFrameLine(rec: Record<string, unknown>, board: string): string {
  const { tMs, dir, kind, seq, op, status, ...rest } = rec;
  const who = dir === 'tx' ? `bench -> ${board}` : `${board} -> bench`;
  const head = rec.error !== undefined ? 'INVALID' : `${String(kind)} #${String(seq)} ${String(op)}${status !== undefined ? ` ${String(status)}` : ''}`;
  // The message's own fields, without the request/body wrapper of the JSON records.
  const inner = (rest.request ?? rest.body ?? rest) as Record<string, unknown>;
  const body = Object.keys(inner).length > 0 ? ` ${JSON.stringify(inner)}` : '';
  return `${(tMs as number).toFixed(3).padStart(12)} ms  ${who.padEnd(14)} ${head}${body}`;
}
