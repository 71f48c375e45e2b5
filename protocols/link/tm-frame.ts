import { crc16 } from '../crc.ts';
import { ProtocolError } from '../errors.ts';

/**
 * CCSDS 132.0-B TM transfer frame of a fixed, configured length (one physical channel
 * carries one length). Layout, big-endian:
 *   primary header 6 | data field | OCF 4 (optional, flag in header) | FECF 2 (optional)
 * Primary header: version 2 (00) · SCID 10 · VCID 3 · OCF flag 1 · MCFC 8 · VCFC 8 ·
 * data field status 16 = secondary header flag 1 · sync flag 1 · packet order 1 ·
 * segment length id 2 (11) · first header pointer 11.
 * Each frame's header says whether it carries an OCF (OCF flag) and a secondary header
 * (secondary header flag; its length is in its own first octet); only the FECF's
 * presence is not in the frame and must be known (a managed parameter of the channel).
 */
export const ASM_BYTES = 4;
export const ASM_WORD = 0x1acffc1d;
export const ASM = Uint8Array.of(0x1a, 0xcf, 0xfc, 0x1d);
export const TM_PRIMARY_HEADER_BYTES = 6;
export const OCF_BYTES = 4;
export const FECF_BYTES = 2;
/** First header pointer: no packet starts in this frame. */
export const FHP_NO_PACKET_START = 0x7ff;
/** First header pointer: the data field holds only idle data. */
export const FHP_IDLE_DATA = 0x7fe;
export const MAX_TM_FRAME_BYTES = 2048;
/** The frame synchroniser's shortest frame (see frame-sync.ts). */
export const MIN_SYNC_FRAME_BYTES = 8;
export const MAX_SCID = 0x3ff;
export const MAX_TM_VCID = 7;

export interface TmFrameConfig {
  scid: number;
  frameLengthBytes: number;
  ocf: boolean;
  fecf: boolean;
}

export interface TmFrameHeader {
  scid: number;
  vcid: number;
  ocfFlag: boolean;
  mcfc: number;
  vcfc: number;
  secondaryHeader: boolean;
  syncFlag: boolean;
  packetOrder: boolean;
  segmentLengthId: number;
  fhp: number;
}

/** Octets of the data field for a configuration. */
export function tmDataFieldBytes(cfg: Pick<TmFrameConfig, 'frameLengthBytes' | 'ocf' | 'fecf'>): number {
  return cfg.frameLengthBytes - TM_PRIMARY_HEADER_BYTES - (cfg.ocf ? OCF_BYTES : 0) - (cfg.fecf ? FECF_BYTES : 0);
}

/**
 * Shortest frame a layout allows: the header, the OCF and FECF when present and one
 * data octet, and never below the 8 octets the frame synchroniser needs.
 */
export function minTmFrameBytes(cfg: Pick<TmFrameConfig, 'ocf' | 'fecf'>): number {
  return Math.max(MIN_SYNC_FRAME_BYTES, TM_PRIMARY_HEADER_BYTES + (cfg.ocf ? OCF_BYTES : 0) + (cfg.fecf ? FECF_BYTES : 0) + 1);
}

export function checkTmFrameConfig(cfg: TmFrameConfig): void {
  if (!Number.isInteger(cfg.scid) || cfg.scid < 0 || cfg.scid > MAX_SCID) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `spacecraft id ${cfg.scid} outside 0..1023`, { field: 'scid', value: cfg.scid });
  }
  const minLength = minTmFrameBytes(cfg);
  if (!Number.isInteger(cfg.frameLengthBytes) || cfg.frameLengthBytes < minLength || cfg.frameLengthBytes > MAX_TM_FRAME_BYTES) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `frame length ${cfg.frameLengthBytes} outside ${minLength}..${MAX_TM_FRAME_BYTES}`, {
      field: 'frameLengthBytes',
      value: cfg.frameLengthBytes,
    });
  }
}

export function writeTmHeader(out: Uint8Array, offset: number, h: TmFrameHeader): void {
  out[offset] = (h.scid >>> 4) & 0x3f; // version 00 in the top two bits
  out[offset + 1] = ((h.scid & 0x0f) << 4) | ((h.vcid & 0x07) << 1) | (h.ocfFlag ? 1 : 0);
  out[offset + 2] = h.mcfc & 0xff;
  out[offset + 3] = h.vcfc & 0xff;
  out[offset + 4] =
    (h.secondaryHeader ? 0x80 : 0) | (h.syncFlag ? 0x40 : 0) | (h.packetOrder ? 0x20 : 0) | ((h.segmentLengthId & 3) << 3) | ((h.fhp >>> 8) & 0x07);
  out[offset + 5] = h.fhp & 0xff;
}

/** TM frame secondary header (132.0-B-3 4.1.3): id octet (version 00, length-1 in 6 bits) and up to 63 data octets. */
export const MAX_TM_SECONDARY_HEADER_BYTES = 64;

/** Where one frame's parts lie (octets from the frame's first octet), as its own header says. */
export interface TmFrameLayout {
  /** Octets of the TM frame secondary header (0 without one). */
  secondaryHeaderBytes: number;
  /** The data field: [dataStart, dataEnd). */
  dataStart: number;
  dataEnd: number;
  /** Whether the frame carries an OCF (its OCF flag); readOcf reads it. */
  ocf: boolean;
}

/**
 * A frame's layout from its header: the OCF flag decides whether the 4 octets before the
 * FECF are an OCF, the secondary header flag whether the data field starts after a
 * secondary header. HEADER_INVALID when the flags leave no data field or the secondary
 * header's version is not 00.
 */
export function tmFrameLayout(frame: Uint8Array, offset: number, h: Pick<TmFrameHeader, 'ocfFlag' | 'secondaryHeader'>, cfg: Pick<TmFrameConfig, 'frameLengthBytes' | 'fecf'>): TmFrameLayout {
  const dataEnd = cfg.frameLengthBytes - (cfg.fecf ? FECF_BYTES : 0) - (h.ocfFlag ? OCF_BYTES : 0);
  let secondaryHeaderBytes = 0;
  if (h.secondaryHeader && dataEnd > TM_PRIMARY_HEADER_BYTES) {
    const id = frame[offset + TM_PRIMARY_HEADER_BYTES];
    if (id >>> 6 !== 0) throw new ProtocolError('HEADER_INVALID', `TM frame secondary header version ${id >>> 6}, expected 0`, { field: 'secondaryHeaderVersion', value: id >>> 6 });
    secondaryHeaderBytes = (id & 0x3f) + 1;
  }
  const dataStart = TM_PRIMARY_HEADER_BYTES + (h.secondaryHeader ? Math.max(1, secondaryHeaderBytes) : 0);
  if (dataEnd - dataStart < 1) {
    const parts = [h.ocfFlag ? 'an OCF' : '', h.secondaryHeader ? (secondaryHeaderBytes > 0 ? `a ${secondaryHeaderBytes}-octet secondary header` : 'a secondary header') : ''].filter(Boolean).join(' and ');
    throw new ProtocolError('HEADER_INVALID', `a ${cfg.frameLengthBytes}-octet frame has no room for ${parts || 'data'} and a data field`, {
      field: h.secondaryHeader ? 'secondaryHeader' : 'ocfFlag',
      frameLengthBytes: cfg.frameLengthBytes,
    });
  }
  return { secondaryHeaderBytes, dataStart, dataEnd, ocf: h.ocfFlag };
}

/** Reads a primary header; HEADER_INVALID when the version is not 00. */
export function readTmHeader(buf: Uint8Array, offset = 0): TmFrameHeader {
  if (buf.length - offset < TM_PRIMARY_HEADER_BYTES) {
    throw new ProtocolError('FRAME_TOO_SHORT', `${buf.length - offset} octets, a TM frame header needs 6`, { available: buf.length - offset });
  }
  const b0 = buf[offset];
  const b1 = buf[offset + 1];
  const b4 = buf[offset + 4];
  const version = b0 >>> 6;
  if (version !== 0) throw new ProtocolError('HEADER_INVALID', `TM frame version ${version}, expected 0`, { field: 'version', value: version });
  return {
    scid: ((b0 & 0x3f) << 4) | (b1 >>> 4),
    vcid: (b1 >>> 1) & 0x07,
    ocfFlag: (b1 & 1) === 1,
    mcfc: buf[offset + 2],
    vcfc: buf[offset + 3],
    secondaryHeader: (b4 & 0x80) !== 0,
    syncFlag: (b4 & 0x40) !== 0,
    packetOrder: (b4 & 0x20) !== 0,
    segmentLengthId: (b4 >>> 3) & 3,
    fhp: ((b4 & 0x07) << 8) | buf[offset + 5],
  };
}

/** Writes OCF (when configured) and FECF (when configured) into a frame whose header and data are in place. */
export function finishTmFrame(frame: Uint8Array, offset: number, cfg: TmFrameConfig, ocfWord = 0): void {
  const end = offset + cfg.frameLengthBytes;
  let p = end - (cfg.fecf ? FECF_BYTES : 0);
  if (cfg.ocf) {
    p -= OCF_BYTES;
    frame[p] = ocfWord >>> 24;
    frame[p + 1] = (ocfWord >>> 16) & 0xff;
    frame[p + 2] = (ocfWord >>> 8) & 0xff;
    frame[p + 3] = ocfWord & 0xff;
  }
  if (cfg.fecf) {
    const c = crc16(frame, offset, end - FECF_BYTES);
    frame[end - 2] = c >>> 8;
    frame[end - 1] = c & 0xff;
  }
}

/** True when the FECF matches (CRC over the whole frame including its FECF is 0). */
export function tmFecfOk(frame: Uint8Array, offset: number, frameLengthBytes: number): boolean {
  return crc16(frame, offset, offset + frameLengthBytes) === 0;
}

export function readOcf(frame: Uint8Array, offset: number, cfg: Pick<TmFrameConfig, 'frameLengthBytes' | 'fecf'>): number {
  const p = offset + cfg.frameLengthBytes - (cfg.fecf ? FECF_BYTES : 0) - OCF_BYTES;
  return ((frame[p] << 24) | (frame[p + 1] << 16) | (frame[p + 2] << 8) | frame[p + 3]) >>> 0;
}
