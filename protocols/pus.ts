import { crc16 } from './crc.ts';
import { ProtocolError } from './errors.ts';
import {
  packetLength,
  PRIMARY_HEADER_BYTES,
  type PrimaryHeader,
  readPrimaryHeader,
  SEQ_FLAGS_UNSEGMENTED,
  writePrimaryHeader,
} from './space-packet.ts';

/**
 * ECSS-E-ST-70-41C (PUS-C) secondary headers on CCSDS space packets, with the 16-bit
 * packet error control (CRC-16/IBM-3740 over the whole packet) that this mission
 * always carries.
 *
 * Mission time format (implicit, no P-field in the packet): CUC 4+2, i.e. 4 octets of
 * whole seconds and 2 octets of binary fraction (1/65536 s), counted from the
 * mission epoch 2000-01-01T00:00:00Z. Six octets.
 */
export const PUS_VERSION = 2;
export const TC_SECONDARY_HEADER_BYTES = 5;
export const CUC_BYTES = 6;
export const TM_SECONDARY_HEADER_BYTES = 7 + CUC_BYTES;
export const PEC_BYTES = 2;
export const MISSION_EPOCH_UNIX_MS = Date.UTC(2000, 0, 1);

export interface CucTime {
  coarse: number;
  fine: number;
}

export function cucFromSeconds(seconds: number): CucTime {
  const s = Math.max(0, seconds);
  let coarse = Math.floor(s);
  let fine = Math.round((s - coarse) * 65536);
  if (fine === 65536) {
    coarse += 1;
    fine = 0;
  }
  return { coarse: coarse >>> 0, fine };
}

export function cucToSeconds(t: CucTime): number {
  return t.coarse + t.fine / 65536;
}

export interface AckFlags {
  acceptance: boolean;
  start: boolean;
  progress: boolean;
  completion: boolean;
}

export const ACK_ALL: AckFlags = { acceptance: true, start: true, progress: false, completion: true };
export const ACK_NONE: AckFlags = { acceptance: false, start: false, progress: false, completion: false };

export interface PusTc {
  type: 'TC';
  apid: number;
  seq: number;
  ack: AckFlags;
  service: number;
  subtype: number;
  sourceId: number;
  appData: Uint8Array;
}

export interface PusTm {
  type: 'TM';
  apid: number;
  seq: number;
  timeRefStatus: number;
  service: number;
  subtype: number;
  msgTypeCounter: number;
  destinationId: number;
  time: CucTime;
  appData: Uint8Array;
}

export type PusPacket = PusTc | PusTm;

function checkByte(field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `${field} ${v} outside 0..${max}`, { field, value: v });
  }
}

function finishWithPec(out: Uint8Array): Uint8Array {
  const pec = crc16(out, 0, out.length - PEC_BYTES);
  out[out.length - 2] = pec >>> 8;
  out[out.length - 1] = pec & 0xff;
  return out;
}

export function encodePusTc(tc: Omit<PusTc, 'type'>): Uint8Array {
  checkByte('service', tc.service, 0xff);
  checkByte('subtype', tc.subtype, 0xff);
  checkByte('sourceId', tc.sourceId, 0xffff);
  const total = PRIMARY_HEADER_BYTES + TC_SECONDARY_HEADER_BYTES + tc.appData.length + PEC_BYTES;
  const out = new Uint8Array(total);
  writePrimaryHeader(out, 0, {
    type: 'TC',
    secondaryHeader: true,
    apid: tc.apid,
    sequenceFlags: SEQ_FLAGS_UNSEGMENTED,
    seq: tc.seq,
    dataLength: total - PRIMARY_HEADER_BYTES - 1,
  });
  const a = tc.ack;
  out[6] = (PUS_VERSION << 4) | (a.acceptance ? 1 : 0) | (a.start ? 2 : 0) | (a.progress ? 4 : 0) | (a.completion ? 8 : 0);
  out[7] = tc.service;
  out[8] = tc.subtype;
  out[9] = tc.sourceId >>> 8;
  out[10] = tc.sourceId & 0xff;
  out.set(tc.appData, 11);
  return finishWithPec(out);
}

export function encodePusTm(tm: Omit<PusTm, 'type'>): Uint8Array {
  checkByte('service', tm.service, 0xff);
  checkByte('subtype', tm.subtype, 0xff);
  checkByte('timeRefStatus', tm.timeRefStatus, 0xf);
  checkByte('msgTypeCounter', tm.msgTypeCounter, 0xffff);
  checkByte('destinationId', tm.destinationId, 0xffff);
  checkByte('time.coarse', tm.time.coarse, 0xffffffff);
  checkByte('time.fine', tm.time.fine, 0xffff);
  const total = PRIMARY_HEADER_BYTES + TM_SECONDARY_HEADER_BYTES + tm.appData.length + PEC_BYTES;
  const out = new Uint8Array(total);
  writePrimaryHeader(out, 0, {
    type: 'TM',
    secondaryHeader: true,
    apid: tm.apid,
    sequenceFlags: SEQ_FLAGS_UNSEGMENTED,
    seq: tm.seq,
    dataLength: total - PRIMARY_HEADER_BYTES - 1,
  });
  out[6] = (PUS_VERSION << 4) | tm.timeRefStatus;
  out[7] = tm.service;
  out[8] = tm.subtype;
  out[9] = tm.msgTypeCounter >>> 8;
  out[10] = tm.msgTypeCounter & 0xff;
  out[11] = tm.destinationId >>> 8;
  out[12] = tm.destinationId & 0xff;
  const c = tm.time.coarse;
  out[13] = c >>> 24;
  out[14] = (c >>> 16) & 0xff;
  out[15] = (c >>> 8) & 0xff;
  out[16] = c & 0xff;
  out[17] = tm.time.fine >>> 8;
  out[18] = tm.time.fine & 0xff;
  out.set(tm.appData, 19);
  return finishWithPec(out);
}

export interface DecodedPus {
  header: PrimaryHeader;
  packet: PusPacket;
  /** Octets the packet occupies in the buffer. */
  length: number;
}

/**
 * Decodes one PUS-C packet at `offset`. Checks, in order: header, declared length
 * against the buffer, PUS version and secondary-header length, then the packet error
 * control. Throws ProtocolError; never reads outside the buffer. `packet.appData`
 * is a view into `buf`.
 */
export function decodePus(buf: Uint8Array, offset = 0): DecodedPus {
  const header = readPrimaryHeader(buf, offset);
  const length = packetLength(header);
  if (offset + length > buf.length) {
    throw new ProtocolError('LENGTH_MISMATCH', `header declares ${length} octets, only ${buf.length - offset} present`, {
      declared: length,
      available: buf.length - offset,
    });
  }
  if (!header.secondaryHeader) {
    throw new ProtocolError('HEADER_INVALID', 'secondary header flag is 0: not a PUS packet', { field: 'secondaryHeader' });
  }
  const secLen = header.type === 'TC' ? TC_SECONDARY_HEADER_BYTES : TM_SECONDARY_HEADER_BYTES;
  if (length < PRIMARY_HEADER_BYTES + secLen + PEC_BYTES) {
    throw new ProtocolError('LENGTH_MISMATCH', `${header.type} packet of ${length} octets is too short for its secondary header and PEC`, {
      declared: length,
    });
  }
  const end = offset + length;
  const pecGot = (buf[end - 2] << 8) | buf[end - 1];
  const pecWant = crc16(buf, offset, end - PEC_BYTES);
  if (pecGot !== pecWant) {
    throw new ProtocolError('CRC_MISMATCH', `packet error control 0x${hex16(pecGot)} != computed 0x${hex16(pecWant)}`, {
      got: pecGot,
      want: pecWant,
    });
  }
  const pusVersion = buf[offset + PRIMARY_HEADER_BYTES] >>> 4;
  if (pusVersion !== PUS_VERSION) {
    throw new ProtocolError('HEADER_INVALID', `PUS version ${pusVersion}, expected ${PUS_VERSION}`, { field: 'pusVersion', value: pusVersion });
  }
  // A view, not a copy: allocating a backing store per packet costs more than the
  // whole decode. Callers that keep appData beyond the input buffer's life copy it.
  const packet = readSecondaryHeader(buf, offset, header, end - PEC_BYTES);
  return { header, packet, length };
}

/** The secondary header after a primary one at `offset`; appData runs to `appDataEnd` (a view into `buf`). */
function readSecondaryHeader(buf: Uint8Array, offset: number, header: PrimaryHeader, appDataEnd: number): PusPacket {
  const s = offset + PRIMARY_HEADER_BYTES;
  const secLen = header.type === 'TC' ? TC_SECONDARY_HEADER_BYTES : TM_SECONDARY_HEADER_BYTES;
  const appData = buf.subarray(s + secLen, Math.max(s + secLen, appDataEnd));
  if (header.type === 'TC') {
    const f = buf[s] & 0xf;
    return {
      type: 'TC',
      apid: header.apid,
      seq: header.seq,
      ack: { acceptance: !!(f & 1), start: !!(f & 2), progress: !!(f & 4), completion: !!(f & 8) },
      service: buf[s + 1],
      subtype: buf[s + 2],
      sourceId: (buf[s + 3] << 8) | buf[s + 4],
      appData,
    };
  }
  return {
    type: 'TM',
    apid: header.apid,
    seq: header.seq,
    timeRefStatus: buf[s] & 0xf,
    service: buf[s + 1],
    subtype: buf[s + 2],
    msgTypeCounter: (buf[s + 3] << 8) | buf[s + 4],
    destinationId: (buf[s + 5] << 8) | buf[s + 6],
    time: {
      coarse: ((buf[s + 7] << 24) | (buf[s + 8] << 16) | (buf[s + 9] << 8) | buf[s + 10]) >>> 0,
      fine: (buf[s + 11] << 8) | buf[s + 12],
    },
    appData,
  };
}

/** What the headers of a packet say, read only as far as the bytes hold them. */
export interface PusHeaders {
  /** A version-0 primary header, when six octets of one are there. */
  header?: PrimaryHeader;
  /**
   * The PUS-C secondary header, when the secondary header flag is set, its PUS version
   * is 2 and all its octets are there; appData is what is present of the rest (up to the
   * PEC, or to the end of the buffer when the packet is cut short).
   */
  packet?: PusPacket;
}

/**
 * Reads a packet's headers without checking its length or PEC, and never throws: what
 * a refused packet said about itself (apid, seq, service, subtype, ...), for reports.
 * Nothing here is verified; decodePus is the check.
 */
export function peekPusHeaders(buf: Uint8Array, offset = 0): PusHeaders {
  if (buf.length - offset < PRIMARY_HEADER_BYTES || buf[offset] >>> 5 !== 0) return {};
  const header = readPrimaryHeader(buf, offset);
  const secLen = header.type === 'TC' ? TC_SECONDARY_HEADER_BYTES : TM_SECONDARY_HEADER_BYTES;
  const s = offset + PRIMARY_HEADER_BYTES;
  if (!header.secondaryHeader || buf.length - s < secLen || buf[s] >>> 4 !== PUS_VERSION) return { header };
  const declaredEnd = offset + packetLength(header);
  const appDataEnd = declaredEnd <= buf.length ? declaredEnd - PEC_BYTES : buf.length;
  return { header, packet: readSecondaryHeader(buf, offset, header, appDataEnd) };
}

function hex16(v: number): string {
  return v.toString(16).padStart(4, '0');
}
