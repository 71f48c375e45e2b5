import { ByteReader, ByteWriter } from './bytes.ts';
import { ProtocolError } from './errors.ts';
import { DEFAULT_MAX_FRAME_PAYLOAD, encodeSerialFrame } from './serial-frame.ts';

/**
 * Board link: what the bench (or a firmware HAL) says to a board, one message per
 * serial frame (protocols/serial-frame.ts). Pure codec, no I/O. Byte layouts are in
 * docs/board-link.md; all integers are big-endian.
 *
 * Header (4 bytes, every message):  kind u8 | seq u16 | opcode u8
 *   kind = 0x11 request, 0x12 response, 0x13 telemetry (version 1 in the high nibble)
 * A response adds a status u8 after the header; its body is present only for OK.
 */
export const BOARD_LINK_VERSION = 1;
export const KIND_REQUEST = 0x11;
export const KIND_RESPONSE = 0x12;
export const KIND_TELEMETRY = 0x13;
export const HEADER_BYTES = 4;
/** Most registers one READ_REGS/WRITE_REGS may carry. */
export const MAX_REGS_PER_REQUEST = 64;
/** Most bytes one MEM_READ/MEM_WRITE may carry; keeps every frame under the default payload limit. */
export const MAX_MEM_CHUNK = 2048;
export const MAX_BOARD_NAME = 32;
export const SEQ_MODULO = 0x10000;

export const OPCODES = {
  IDENTIFY: 0x01,
  READ_REGS: 0x02,
  WRITE_REGS: 0x03,
  MEM_READ: 0x10,
  MEM_WRITE: 0x11,
  MEM_ERASE: 0x12,
  MEM_CRC: 0x13,
  RESET: 0x20,
  STREAM_START: 0x30,
  STREAM_STOP: 0x31,
  SIM: 0x40,
  TLM: 0x80,
} as const;
export type Opcode = keyof typeof OPCODES;
const OPCODE_NAMES = new Map<number, Opcode>(Object.entries(OPCODES).map(([k, v]) => [v, k as Opcode]));

export const STATUS = {
  OK: 0,
  UNKNOWN_OPCODE: 1,
  BAD_REQUEST: 2,
  BAD_ADDRESS: 3,
  READ_ONLY: 4,
  OUT_OF_RANGE: 5,
  FLASH_NOT_ERASED: 6,
  ALIGNMENT: 7,
  NOT_SUPPORTED: 8,
  BUSY: 9,
} as const;
export type Status = keyof typeof STATUS;
const STATUS_NAMES = new Map<number, Status>(Object.entries(STATUS).map(([k, v]) => [v, k as Status]));

export const SIM_KINDS = { BEACON: 0x01, LINK: 0x02, TEMPERATURE: 0x03, FAULT: 0x04, POWER_LOSS: 0x05, STEP: 0x06 } as const;
export type SimKind = keyof typeof SIM_KINDS;
const SIM_NAMES = new Map<number, SimKind>(Object.entries(SIM_KINDS).map(([k, v]) => [v, k as SimKind]));

/** Emulator-only environment control. Angles in microradians, loss in dB. */
export type SimControl =
  | { kind: 'BEACON'; xUrad: number; yUrad: number; visible: boolean }
  | { kind: 'LINK'; lossDb: number; dropout: boolean }
  | { kind: 'TEMPERATURE'; ambientC: number }
  | { kind: 'FAULT'; faultId: number; active: boolean }
  /** Power is cut when `afterRxBytes` more bytes have arrived (0 = right after this response); back after offMs. */
  | { kind: 'POWER_LOSS'; afterRxBytes: number; offMs: number }
  /**
   * Lockstep: the bench grants simulated time up to `toMs` (f64 ms, the bench clock's own
   * number, so both ends agree to the bit). Only a lockstep host answers it, with OK and
   * the time its board now stands at (`reachedMs`) and the time of its next scheduled
   * event (`quietUntilMs`, +Infinity when none: until then it sends nothing unless sent
   * something); a plain emulator answers NOT_SUPPORTED.
   */
  | { kind: 'STEP'; toMs: number };

export interface RegWrite {
  address: number;
  value: number;
}

export type BoardRequest =
  | { op: 'IDENTIFY' }
  | { op: 'READ_REGS'; addresses: number[] }
  | { op: 'WRITE_REGS'; writes: RegWrite[] }
  | { op: 'MEM_READ'; address: number; length: number }
  | { op: 'MEM_WRITE'; address: number; data: Uint8Array }
  | { op: 'MEM_ERASE'; address: number; length: number }
  | { op: 'MEM_CRC'; address: number; length: number }
  | { op: 'RESET'; mode: number }
  | { op: 'STREAM_START'; periodMs: number }
  | { op: 'STREAM_STOP' }
  | { op: 'SIM'; sim: SimControl };

export interface Identity {
  boardId: number;
  /** major << 8 | minor */
  hwVersion: number;
  /** major << 16 | minor << 8 | patch */
  fwVersion: number;
  serialNumber: number;
  emulated: boolean;
  name: string;
}

/** Body of an OK response, by opcode. */
export type ResponseBody =
  | { op: 'IDENTIFY'; identity: Identity }
  | { op: 'READ_REGS'; values: RegWrite[] }
  | { op: 'WRITE_REGS'; values: RegWrite[] }
  | { op: 'MEM_READ'; address: number; data: Uint8Array }
  | { op: 'MEM_WRITE'; address: number; length: number; crc32c: number }
  | { op: 'MEM_ERASE'; address: number; length: number }
  | { op: 'MEM_CRC'; address: number; length: number; crc32c: number }
  | { op: 'RESET' }
  | { op: 'STREAM_START'; items: number }
  | { op: 'STREAM_STOP' }
  /**
   * Only in the answer to a SIM STEP, both or neither: `reachedMs` (f64), the time the
   * board's clock stands at; `quietUntilMs` (f64, >= reachedMs, may be +Infinity), the
   * time of its next scheduled event.
   */
  | { op: 'SIM'; reachedMs?: number; quietUntilMs?: number };

export interface RequestMessage {
  kind: 'request';
  seq: number;
  request: BoardRequest;
}
export interface ResponseMessage {
  kind: 'response';
  seq: number;
  op: Exclude<Opcode, 'TLM'>;
  status: Status;
  /** Present only when status is OK. */
  body?: ResponseBody;
}
export interface TelemetryMessage {
  kind: 'telemetry';
  /** Stream counter (mod 2^16): a gap means lost telemetry frames. */
  seq: number;
  boardTimeMs: number;
  /** Raw 32-bit register values in the order of the board definition's telemetry list. */
  values: number[];
}
export type BoardMessage = RequestMessage | ResponseMessage | TelemetryMessage;

// ---------------------------------------------------------------- field checks (bytes: protocols/bytes.ts)

function invalid(field: string, message: string, value: unknown): ProtocolError {
  return new ProtocolError('FIELD_INVALID', `${field}: ${message}`, { field, value });
}

function range(field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `${field} = ${v} outside ${min}..${max}`, { field, value: v, min, max });
  }
}

function finite(field: string, v: number): void {
  if (!Number.isFinite(v)) throw invalid(field, 'not a finite number', v);
}

function header(w: ByteWriter, kind: number, seq: number, op: number): void {
  range('seq', seq, 0, SEQ_MODULO - 1);
  w.u8(kind).u16(seq).u8(op);
}

// ---------------------------------------------------------------- requests

/** Encodes a request into a board-link message (not yet framed). Throws ProtocolError on out-of-range fields. */
export function encodeRequest(seq: number, req: BoardRequest): Uint8Array {
  const w = new ByteWriter();
  header(w, KIND_REQUEST, seq, OPCODES[req.op]);
  switch (req.op) {
    case 'IDENTIFY':
    case 'STREAM_STOP':
      break;
    case 'READ_REGS':
      range('addresses.length', req.addresses.length, 1, MAX_REGS_PER_REQUEST);
      w.u8(req.addresses.length);
      for (const a of req.addresses) {
        range('address', a, 0, 0xffff);
        w.u16(a);
      }
      break;
    case 'WRITE_REGS':
      range('writes.length', req.writes.length, 1, MAX_REGS_PER_REQUEST);
      w.u8(req.writes.length);
      for (const x of req.writes) writeRegValue(w, x);
      break;
    case 'MEM_READ':
      range('address', req.address, 0, 0xffffffff);
      range('length', req.length, 1, MAX_MEM_CHUNK);
      w.u32(req.address).u16(req.length);
      break;
    case 'MEM_WRITE':
      range('address', req.address, 0, 0xffffffff);
      range('data.length', req.data.length, 1, MAX_MEM_CHUNK);
      w.u32(req.address).u16(req.data.length).bytes(req.data);
      break;
    case 'MEM_ERASE':
    case 'MEM_CRC':
      range('address', req.address, 0, 0xffffffff);
      range('length', req.length, 1, 0xffffffff);
      w.u32(req.address).u32(req.length);
      break;
    case 'RESET':
      range('mode', req.mode, 0, 0xff);
      w.u8(req.mode);
      break;
    case 'STREAM_START':
      range('periodMs', req.periodMs, 0, 0xffff);
      w.u16(req.periodMs);
      break;
    case 'SIM':
      encodeSim(w, req.sim);
      break;
  }
  return w.done();
}

function writeRegValue(w: ByteWriter, x: RegWrite): void {
  range('address', x.address, 0, 0xffff);
  // Registers travel as 32 raw bits; signed values are sent two's complement.
  range(`value@0x${x.address.toString(16)}`, x.value, -0x80000000, 0xffffffff);
  w.u16(x.address).u32(x.value >>> 0);
}

function encodeSim(w: ByteWriter, s: SimControl): void {
  w.u8(SIM_KINDS[s.kind]);
  switch (s.kind) {
    case 'BEACON':
      finite('xUrad', s.xUrad);
      finite('yUrad', s.yUrad);
      w.f64(s.xUrad).f64(s.yUrad).u8(s.visible ? 1 : 0);
      break;
    case 'LINK':
      finite('lossDb', s.lossDb);
      w.f64(s.lossDb).u8(s.dropout ? 1 : 0);
      break;
    case 'TEMPERATURE':
      finite('ambientC', s.ambientC);
      w.f64(s.ambientC);
      break;
    case 'FAULT':
      range('faultId', s.faultId, 0, 0xff);
      w.u8(s.faultId).u8(s.active ? 1 : 0);
      break;
    case 'POWER_LOSS':
      range('afterRxBytes', s.afterRxBytes, 0, 0xffffffff);
      range('offMs', s.offMs, 0, 0xffffffff);
      w.u32(s.afterRxBytes).u32(s.offMs);
      break;
    case 'STEP':
      stepTime('toMs', s.toMs);
      w.f64(s.toMs);
      break;
  }
}

/** A lockstep time: finite and not negative. */
function stepTime(field: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw invalid(field, 'must be a finite time >= 0 ms', v);
}

/** A board's next event: not before the time it stands at; +Infinity when it has none. */
function quietTime(v: number, reachedMs: number): void {
  if (Number.isNaN(v) || v < reachedMs) throw invalid('quietUntilMs', `must be a time >= reachedMs (${reachedMs} ms) or +Infinity`, v);
}

function stepTimeRead(r: ByteReader, field: string): number {
  const v = r.f64(field);
  stepTime(field, v);
  return v;
}

function bool(r: ByteReader, field: string): boolean {
  const v = r.u8(field);
  if (v > 1) throw invalid(field, 'boolean byte must be 0 or 1', v);
  return v === 1;
}

function decodeSim(r: ByteReader): SimControl {
  const k = r.u8('sim.kind');
  const kind = SIM_NAMES.get(k);
  switch (kind) {
    case 'BEACON':
      return { kind, xUrad: finiteRead(r, 'xUrad'), yUrad: finiteRead(r, 'yUrad'), visible: bool(r, 'visible') };
    case 'LINK':
      return { kind, lossDb: finiteRead(r, 'lossDb'), dropout: bool(r, 'dropout') };
    case 'TEMPERATURE':
      return { kind, ambientC: finiteRead(r, 'ambientC') };
    case 'FAULT':
      return { kind, faultId: r.u8('faultId'), active: bool(r, 'active') };
    case 'POWER_LOSS':
      return { kind, afterRxBytes: r.u32('afterRxBytes'), offMs: r.u32('offMs') };
    case 'STEP':
      return { kind, toMs: stepTimeRead(r, 'toMs') };
    default:
      throw invalid('sim.kind', `unknown simulation control 0x${k.toString(16)}`, k);
  }
}

function finiteRead(r: ByteReader, field: string): number {
  const v = r.f64(field);
  finite(field, v);
  return v;
}

function decodeRequestBody(op: Opcode, r: ByteReader): BoardRequest {
  switch (op) {
    case 'IDENTIFY':
    case 'STREAM_STOP':
      return { op };
    case 'READ_REGS': {
      const n = r.u8('count');
      if (n < 1 || n > MAX_REGS_PER_REQUEST) throw new ProtocolError('FIELD_OUT_OF_RANGE', `count = ${n} outside 1..${MAX_REGS_PER_REQUEST}`, { field: 'count', value: n });
      const addresses: number[] = [];
      for (let i = 0; i < n; i++) addresses.push(r.u16('address'));
      return { op, addresses };
    }
    case 'WRITE_REGS': {
      const n = r.u8('count');
      if (n < 1 || n > MAX_REGS_PER_REQUEST) throw new ProtocolError('FIELD_OUT_OF_RANGE', `count = ${n} outside 1..${MAX_REGS_PER_REQUEST}`, { field: 'count', value: n });
      const writes: RegWrite[] = [];
      for (let i = 0; i < n; i++) writes.push({ address: r.u16('address'), value: r.u32('value') });
      return { op, writes };
    }
    case 'MEM_READ': {
      const address = r.u32('address');
      const length = r.u16('length');
      if (length < 1 || length > MAX_MEM_CHUNK) throw new ProtocolError('FIELD_OUT_OF_RANGE', `length = ${length} outside 1..${MAX_MEM_CHUNK}`, { field: 'length', value: length });
      return { op, address, length };
    }
    case 'MEM_WRITE': {
      const address = r.u32('address');
      const length = r.u16('length');
      if (length < 1 || length > MAX_MEM_CHUNK) throw new ProtocolError('FIELD_OUT_OF_RANGE', `length = ${length} outside 1..${MAX_MEM_CHUNK}`, { field: 'length', value: length });
      return { op, address, data: r.bytes(length, 'data') };
    }
    case 'MEM_ERASE':
    case 'MEM_CRC': {
      const address = r.u32('address');
      const length = r.u32('length');
      if (length < 1) throw new ProtocolError('FIELD_OUT_OF_RANGE', 'length = 0', { field: 'length', value: length });
      return { op, address, length };
    }
    case 'RESET':
      return { op, mode: r.u8('mode') };
    case 'STREAM_START':
      return { op, periodMs: r.u16('periodMs') };
    case 'SIM':
      return { op, sim: decodeSim(r) };
    case 'TLM':
      throw invalid('opcode', 'TLM is not a request', op);
  }
}

// ---------------------------------------------------------------- responses

export function encodeResponse(seq: number, op: Exclude<Opcode, 'TLM'>, status: Status, body?: ResponseBody): Uint8Array {
  const w = new ByteWriter();
  header(w, KIND_RESPONSE, seq, OPCODES[op]);
  w.u8(STATUS[status]);
  if (status !== 'OK') return w.done();
  if (!body || body.op !== op) throw invalid('body', `OK response to ${op} needs a ${op} body`, body?.op);
  switch (body.op) {
    case 'IDENTIFY': {
      const id = body.identity;
      range('boardId', id.boardId, 0, 0xffff);
      range('hwVersion', id.hwVersion, 0, 0xffff);
      range('fwVersion', id.fwVersion, 0, 0xffffffff);
      range('serialNumber', id.serialNumber, 0, 0xffffffff);
      const name = new TextEncoder().encode(id.name);
      range('name.length', name.length, 0, MAX_BOARD_NAME);
      w.u16(id.boardId).u16(id.hwVersion).u32(id.fwVersion).u32(id.serialNumber).u8(id.emulated ? 1 : 0).u8(name.length).bytes(name);
      break;
    }
    case 'READ_REGS':
    case 'WRITE_REGS':
      range('values.length', body.values.length, 0, MAX_REGS_PER_REQUEST);
      w.u8(body.values.length);
      for (const x of body.values) writeRegValue(w, x);
      break;
    case 'MEM_READ':
      range('address', body.address, 0, 0xffffffff);
      range('data.length', body.data.length, 0, MAX_MEM_CHUNK);
      w.u32(body.address).u16(body.data.length).bytes(body.data);
      break;
    case 'MEM_WRITE':
      range('address', body.address, 0, 0xffffffff);
      range('length', body.length, 0, MAX_MEM_CHUNK);
      w.u32(body.address).u16(body.length).u32(body.crc32c);
      break;
    case 'MEM_ERASE':
      w.u32(body.address).u32(body.length);
      break;
    case 'MEM_CRC':
      w.u32(body.address).u32(body.length).u32(body.crc32c);
      break;
    case 'STREAM_START':
      range('items', body.items, 0, 0xff);
      w.u8(body.items);
      break;
    case 'SIM':
      if (body.reachedMs !== undefined || body.quietUntilMs !== undefined) {
        const reachedMs = body.reachedMs ?? NaN;
        const quietUntilMs = body.quietUntilMs ?? NaN;
        stepTime('reachedMs', reachedMs);
        quietTime(quietUntilMs, reachedMs);
        w.f64(reachedMs).f64(quietUntilMs);
      }
      break;
    case 'RESET':
    case 'STREAM_STOP':
      break;
  }
  return w.done();
}

function decodeResponseBody(op: Exclude<Opcode, 'TLM'>, r: ByteReader): ResponseBody {
  switch (op) {
    case 'IDENTIFY': {
      const boardId = r.u16('boardId');
      const hwVersion = r.u16('hwVersion');
      const fwVersion = r.u32('fwVersion');
      const serialNumber = r.u32('serialNumber');
      const emulated = bool(r, 'emulated');
      const n = r.u8('name.length');
      if (n > MAX_BOARD_NAME) throw new ProtocolError('FIELD_OUT_OF_RANGE', `name.length = ${n} > ${MAX_BOARD_NAME}`, { field: 'name.length', value: n });
      const name = new TextDecoder('utf-8', { fatal: false }).decode(r.bytes(n, 'name'));
      return { op, identity: { boardId, hwVersion, fwVersion, serialNumber, emulated, name } };
    }
    case 'READ_REGS':
    case 'WRITE_REGS': {
      const n = r.u8('count');
      if (n > MAX_REGS_PER_REQUEST) throw new ProtocolError('FIELD_OUT_OF_RANGE', `count = ${n} > ${MAX_REGS_PER_REQUEST}`, { field: 'count', value: n });
      const values: RegWrite[] = [];
      for (let i = 0; i < n; i++) values.push({ address: r.u16('address'), value: r.u32('value') });
      return { op, values };
    }
    case 'MEM_READ': {
      const address = r.u32('address');
      const n = r.u16('length');
      if (n > MAX_MEM_CHUNK) throw new ProtocolError('FIELD_OUT_OF_RANGE', `length = ${n} > ${MAX_MEM_CHUNK}`, { field: 'length', value: n });
      return { op, address, data: r.bytes(n, 'data') };
    }
    case 'MEM_WRITE':
      return { op, address: r.u32('address'), length: r.u16('length'), crc32c: r.u32('crc32c') };
    case 'MEM_ERASE':
      return { op, address: r.u32('address'), length: r.u32('length') };
    case 'MEM_CRC':
      return { op, address: r.u32('address'), length: r.u32('length'), crc32c: r.u32('crc32c') };
    case 'STREAM_START':
      return { op, items: r.u8('items') };
    case 'SIM':
      // Empty, or the time a lockstep host reached and its next event (answer to STEP).
      if (r.remaining === 0) return { op };
      {
        const reachedMs = stepTimeRead(r, 'reachedMs');
        const quietUntilMs = r.f64('quietUntilMs');
        quietTime(quietUntilMs, reachedMs);
        return { op, reachedMs, quietUntilMs };
      }
    case 'RESET':
    case 'STREAM_STOP':
      return { op };
  }
}

// ---------------------------------------------------------------- telemetry

export function encodeTelemetry(streamSeq: number, boardTimeMs: number, values: readonly number[]): Uint8Array {
  const w = new ByteWriter(12 + values.length * 4);
  header(w, KIND_TELEMETRY, streamSeq, OPCODES.TLM);
  range('boardTimeMs', boardTimeMs, 0, 0xffffffff);
  range('values.length', values.length, 0, 0xff);
  w.u32(boardTimeMs).u8(values.length);
  for (const v of values) {
    range('value', v, -0x80000000, 0xffffffff);
    w.u32(v >>> 0);
  }
  return w.done();
}

// ---------------------------------------------------------------- any message

/** Decodes one board-link message (a frame's payload). Throws ProtocolError, never anything else. */
export function decodeBoardMessage(msg: Uint8Array): BoardMessage {
  const r = new ByteReader(msg, 'board-link message');
  const kind = r.u8('kind');
  const seq = r.u16('seq');
  const opByte = r.u8('opcode');
  const op = OPCODE_NAMES.get(opByte);
  if (kind !== KIND_REQUEST && kind !== KIND_RESPONSE && kind !== KIND_TELEMETRY) {
    throw new ProtocolError('HEADER_INVALID', `board-link kind 0x${kind.toString(16)} is not request/response/telemetry (version ${BOARD_LINK_VERSION})`, { kind });
  }
  if (!op) throw new ProtocolError('UNKNOWN_PACKET', `unknown board-link opcode 0x${opByte.toString(16)}`, { opcode: opByte, seq });
  if (kind === KIND_TELEMETRY) {
    if (op !== 'TLM') throw new ProtocolError('HEADER_INVALID', `telemetry message with opcode ${op}`, { opcode: opByte });
    const boardTimeMs = r.u32('boardTimeMs');
    const n = r.u8('count');
    const values: number[] = [];
    for (let i = 0; i < n; i++) values.push(r.u32('value'));
    r.finish();
    return { kind: 'telemetry', seq, boardTimeMs, values };
  }
  if (op === 'TLM') throw new ProtocolError('HEADER_INVALID', 'TLM opcode outside a telemetry message', { kind });
  if (kind === KIND_REQUEST) {
    const request = decodeRequestBody(op, r);
    r.finish();
    return { kind: 'request', seq, request };
  }
  const statusByte = r.u8('status');
  const status = STATUS_NAMES.get(statusByte);
  if (!status) throw invalid('status', `unknown status 0x${statusByte.toString(16)}`, statusByte);
  const out: ResponseMessage = { kind: 'response', seq, op, status };
  if (status === 'OK') out.body = decodeResponseBody(op, r);
  r.finish();
  return out;
}

/** Request/response/telemetry → a complete serial frame (COBS + CRC-32C + 0x00). */
export function frameMessage(message: Uint8Array): Uint8Array {
  if (message.length > DEFAULT_MAX_FRAME_PAYLOAD) {
    throw new ProtocolError('FRAME_TOO_LONG', `board-link message of ${message.length} bytes exceeds ${DEFAULT_MAX_FRAME_PAYLOAD}`, { length: message.length });
  }
  return encodeSerialFrame(message);
}

/** Raw 32-bit register value → signed or unsigned integer of the register's width. */
export function rawToInt(raw: number, widthBits: 8 | 16 | 32, signed: boolean): number {
  if (widthBits === 32) return signed ? raw | 0 : raw >>> 0;
  const v = raw & ((1 << widthBits) - 1);
  return signed && v >= 1 << (widthBits - 1) ? v - (1 << widthBits) : v;
}

/** Wire time of a frame of `encodedBytes` at `baud` (8N1: 10 bits a byte), in ms. */
export function wireTimeMs(encodedBytes: number, baud: number): number {
  return (encodedBytes * 10 * 1000) / baud;
}

// ---------------------------------------------------------------- header peek and IDENTIFY versions

/**
 * Seq and opcode of a request whose body did not decode: the header alone is enough to
 * answer it BAD_REQUEST. Null when the bytes are not a request header of a known opcode.
 */
export function peekRequestHeader(msg: Uint8Array): { seq: number; op: Exclude<Opcode, 'TLM'> } | null {
  if (msg.length < HEADER_BYTES || msg[0] !== KIND_REQUEST) return null;
  const op = OPCODE_NAMES.get(msg[3]);
  if (!op || op === 'TLM') return null;
  return { seq: (msg[1] << 8) | msg[2], op };
}

/** Hardware version "major.minor" → IDENTIFY's hwVersion u16 (major << 8 | minor). */
export function packHwVersion(v: string): number {
  const [a, b] = v.split('.').map(Number);
  return ((a & 0xff) << 8) | (b & 0xff);
}

/** Firmware version "major.minor[.patch]" → IDENTIFY's fwVersion u32 (major << 16 | minor << 8 | patch). */
export function packFwVersion(v: string): number {
  const [a, b, c = 0] = v.split('.').map(Number);
  return (((a & 0xff) << 16) | ((b & 0xff) << 8) | (c & 0xff)) >>> 0;
}

export function formatHwVersion(n: number): string {
  return `${n >> 8}.${n & 0xff}`;
}

export function formatFwVersion(n: number): string {
  return `${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}
