import { crc16 } from '../crc.ts';
import { ProtocolError } from '../errors.ts';

/**
 * CCSDS 232.0-B TC transfer frame. Layout, big-endian:
 *   primary header 5 = version 2 (00) · bypass 1 · control command 1 · spare 2 ·
 *                      SCID 10 · VCID 6 · frame length 10 (octets − 1) · N(S) 8
 *   data field (this mission: SDLS security header ‖ segment header ‖ data ‖ MAC)
 *   FECF 2 (CRC-16/IBM-3740, always present on this mission)
 */
export const TC_PRIMARY_HEADER_BYTES = 5;
export const TC_FECF_BYTES = 2;
export const MAX_TC_FRAME_BYTES = 1024;
export const MAX_TC_VCID = 0x3f;

export interface TcFrameHeader {
  /** Type-B (bypass the FARM acceptance checks) when true, type-A otherwise. */
  bypass: boolean;
  /** Control command (BC) when true, data (AD/BD) otherwise. */
  controlCommand: boolean;
  scid: number;
  vcid: number;
  /** Total frame octets (header to FECF). */
  frameLengthBytes: number;
  /** Frame sequence number N(S). */
  seq: number;
}

export function writeTcHeader(out: Uint8Array, offset: number, h: TcFrameHeader): void {
  if (h.frameLengthBytes < TC_PRIMARY_HEADER_BYTES + TC_FECF_BYTES + 1 || h.frameLengthBytes > MAX_TC_FRAME_BYTES) {
    throw new ProtocolError('FRAME_TOO_LONG', `TC frame of ${h.frameLengthBytes} octets outside 8..${MAX_TC_FRAME_BYTES}`, { length: h.frameLengthBytes });
  }
  if (!Number.isInteger(h.scid) || h.scid < 0 || h.scid > 0x3ff) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `spacecraft id ${h.scid} outside 0..1023`, { field: 'scid', value: h.scid });
  }
  if (!Number.isInteger(h.vcid) || h.vcid < 0 || h.vcid > MAX_TC_VCID) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `TC virtual channel ${h.vcid} outside 0..63`, { field: 'vcid', value: h.vcid });
  }
  const len = h.frameLengthBytes - 1;
  out[offset] = (h.bypass ? 0x20 : 0) | (h.controlCommand ? 0x10 : 0) | ((h.scid >>> 8) & 0x03);
  out[offset + 1] = h.scid & 0xff;
  out[offset + 2] = (h.vcid << 2) | ((len >>> 8) & 0x03);
  out[offset + 3] = len & 0xff;
  out[offset + 4] = h.seq & 0xff;
}

export function readTcHeader(buf: Uint8Array, offset = 0): TcFrameHeader {
  if (buf.length - offset < TC_PRIMARY_HEADER_BYTES) {
    throw new ProtocolError('FRAME_TOO_SHORT', `${buf.length - offset} octets, a TC frame header needs 5`, { available: buf.length - offset });
  }
  const version = buf[offset] >>> 6;
  if (version !== 0) throw new ProtocolError('HEADER_INVALID', `TC frame version ${version}, expected 0`, { field: 'version', value: version });
  return {
    bypass: (buf[offset] & 0x20) !== 0,
    controlCommand: (buf[offset] & 0x10) !== 0,
    scid: ((buf[offset] & 0x03) << 8) | buf[offset + 1],
    vcid: buf[offset + 2] >>> 2,
    frameLengthBytes: (((buf[offset + 2] & 0x03) << 8) | buf[offset + 3]) + 1,
    seq: buf[offset + 4],
  };
}

/** Builds header ‖ data ‖ FECF. */
export function encodeTcFrame(h: Omit<TcFrameHeader, 'frameLengthBytes'>, data: Uint8Array): Uint8Array {
  const total = TC_PRIMARY_HEADER_BYTES + data.length + TC_FECF_BYTES;
  const out = new Uint8Array(total);
  writeTcHeader(out, 0, { ...h, frameLengthBytes: total });
  out.set(data, TC_PRIMARY_HEADER_BYTES);
  writeTcFecf(out);
  return out;
}

export function writeTcFecf(frame: Uint8Array): void {
  const c = crc16(frame, 0, frame.length - TC_FECF_BYTES);
  frame[frame.length - 2] = c >>> 8;
  frame[frame.length - 1] = c & 0xff;
}

export interface DecodedTcFrame {
  header: TcFrameHeader;
  /** The data field (between header and FECF), a view into the input. */
  data: Uint8Array;
}

/** Checks length field, FECF and version; throws FRAME_TOO_SHORT, LENGTH_MISMATCH, CRC_MISMATCH or HEADER_INVALID. */
export function decodeTcFrame(frame: Uint8Array): DecodedTcFrame {
  if (frame.length < TC_PRIMARY_HEADER_BYTES + TC_FECF_BYTES) {
    throw new ProtocolError('FRAME_TOO_SHORT', `TC frame of ${frame.length} octets, at least 7 needed`, { length: frame.length });
  }
  if (frame.length > MAX_TC_FRAME_BYTES) {
    throw new ProtocolError('FRAME_TOO_LONG', `TC frame of ${frame.length} octets, at most ${MAX_TC_FRAME_BYTES}`, { length: frame.length });
  }
  if (crc16(frame) !== 0) throw new ProtocolError('CRC_MISMATCH', 'TC frame error control field does not match', { field: 'fecf' });
  const header = readTcHeader(frame, 0);
  if (header.frameLengthBytes !== frame.length) {
    throw new ProtocolError('LENGTH_MISMATCH', `frame length field says ${header.frameLengthBytes} octets, received ${frame.length}`, {
      expected: header.frameLengthBytes,
      actual: frame.length,
    });
  }
  return { header, data: frame.subarray(TC_PRIMARY_HEADER_BYTES, frame.length - TC_FECF_BYTES) };
}

// ---- COP-1 control commands (BC frames) ----
export type ControlCommand = { kind: 'UNLOCK' } | { kind: 'SET_VR'; vr: number };

export function encodeControlCommand(cmd: ControlCommand): Uint8Array {
  return cmd.kind === 'UNLOCK' ? Uint8Array.of(0x00) : Uint8Array.of(0x82, 0x00, cmd.vr & 0xff);
}

export function decodeControlCommand(data: Uint8Array): ControlCommand {
  if (data.length === 1 && data[0] === 0x00) return { kind: 'UNLOCK' };
  if (data.length === 3 && data[0] === 0x82 && data[1] === 0x00) return { kind: 'SET_VR', vr: data[2] };
  throw new ProtocolError('FIELD_INVALID', 'control command is neither Unlock (00) nor Set V(R) (82 00 nn)', { field: 'controlCommand', length: data.length });
}

// ---- Segment header (1 octet: sequence flags 2 · MAP ID 6) ----
export const SEGMENT_HEADER_BYTES = 1;
export const SEG_CONTINUING = 0b00;
export const SEG_FIRST = 0b01;
export const SEG_LAST = 0b10;
export const SEG_UNSEGMENTED = 0b11;

export function segmentHeader(flags: number, mapId: number): number {
  return ((flags & 3) << 6) | (mapId & 0x3f);
}
