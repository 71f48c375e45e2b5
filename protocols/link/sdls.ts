import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { countError, type ErrorCounts, ProtocolError } from '../errors.ts';
import { TC_FECF_BYTES, TC_PRIMARY_HEADER_BYTES, type TcFrameHeader, writeTcFecf, writeTcHeader } from './tc-frame.ts';

/**
 * Authentication of TC frames in the manner of CCSDS 355.0-B (SDLS), authentication-only
 * security associations. Data field of a secured frame:
 *   security header = SPI 2 ‖ anti-replay sequence number (ARSN, arsnBytes)
 *   frame data      (segment header + packet data, or a control command)
 *   security trailer = MAC (macBytes)
 * The MAC covers the primary header, the security header and the frame data.
 * - HMAC-SHA256: HMAC over those octets, truncated to macBytes (leftmost).
 * - AES-GMAC: AES-256-GCM with no plaintext and those octets as AAD; the 12-octet IV is
 *   not sent but derived: SPI 2 ‖ 00 00 ‖ ARSN as 8 octets, unique for every frame of a key.
 * Anti-replay: a frame is accepted only when its ARSN is ahead of the last accepted one
 * by 1..windowSize (modulo 2^(8·arsnBytes)), so the counter may wrap. AES-GMAC needs
 * an ARSN of at least 4 octets (the IV must never repeat under a key; rekey before wrap).
 * The last accepted ARSN is state a receiver must keep across resets (in non-volatile
 * memory): `initialArsn` restores it, `arsnOf` reads it.
 */
export type SdlsAlgorithm = 'HMAC-SHA256' | 'AES-GMAC';

export interface SecurityAssociation {
  spi: number;
  algorithm: SdlsAlgorithm;
  key: Uint8Array;
  arsnBytes?: number;
  macBytes?: number;
  windowSize?: number;
}

export const SPI_BYTES = 2;
export const DEFAULT_ARSN_BYTES = 4;
export const DEFAULT_MAC_BYTES = 16;
export const DEFAULT_WINDOW = 64;
/** Shortest ARSN an AES-GMAC association may use: 2^32 frames before its IV could repeat. */
export const MIN_GMAC_ARSN_BYTES = 4;

interface ResolvedSa {
  spi: number;
  algorithm: SdlsAlgorithm;
  key: Uint8Array;
  arsnBytes: number;
  macBytes: number;
  windowSize: number;
  modulus: number;
}

function resolve(sa: SecurityAssociation): ResolvedSa {
  const arsnBytes = sa.arsnBytes ?? DEFAULT_ARSN_BYTES;
  const macBytes = sa.macBytes ?? DEFAULT_MAC_BYTES;
  const windowSize = sa.windowSize ?? DEFAULT_WINDOW;
  if (!Number.isInteger(sa.spi) || sa.spi < 1 || sa.spi > 0xffff) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `SPI ${sa.spi} outside 1..65535`, { field: 'spi', value: sa.spi });
  }
  if (!Number.isInteger(arsnBytes) || arsnBytes < 1 || arsnBytes > 6) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `ARSN length ${arsnBytes} outside 1..6 octets`, { field: 'arsnBytes', value: arsnBytes });
  }
  // The GMAC IV is derived from the ARSN: a short counter wraps within a pass and repeats
  // IVs under one key, which leaks the GHASH key and lets anyone forge tags.
  if (sa.algorithm === 'AES-GMAC' && arsnBytes < MIN_GMAC_ARSN_BYTES) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `AES-GMAC needs an ARSN of at least ${MIN_GMAC_ARSN_BYTES} octets (its IV), got ${arsnBytes} (SPI ${sa.spi})`, {
      field: 'arsnBytes',
      value: arsnBytes,
    });
  }
  if (!Number.isInteger(macBytes) || macBytes < 8 || macBytes > (sa.algorithm === 'AES-GMAC' ? 16 : 32)) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `MAC length ${macBytes} not allowed for ${sa.algorithm}`, { field: 'macBytes', value: macBytes });
  }
  if (sa.algorithm === 'AES-GMAC' && sa.key.length !== 32) {
    throw new ProtocolError('FIELD_INVALID', `AES-GMAC needs a 32-octet key, got ${sa.key.length}`, { field: 'key' });
  }
  if (sa.algorithm === 'HMAC-SHA256' && sa.key.length < 16) {
    throw new ProtocolError('FIELD_INVALID', `HMAC key of ${sa.key.length} octets is too short (>= 16)`, { field: 'key' });
  }
  const modulus = 2 ** (8 * arsnBytes);
  if (!Number.isInteger(windowSize) || windowSize < 1 || windowSize >= modulus / 2) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `window ${windowSize} must be 1..half the ARSN range`, { field: 'windowSize', value: windowSize });
  }
  return { spi: sa.spi, algorithm: sa.algorithm, key: sa.key, arsnBytes, macBytes, windowSize, modulus };
}

export function securityHeaderBytes(sa: SecurityAssociation): number {
  return SPI_BYTES + (sa.arsnBytes ?? DEFAULT_ARSN_BYTES);
}

export function securityOverheadBytes(sa: SecurityAssociation): number {
  return securityHeaderBytes(sa) + (sa.macBytes ?? DEFAULT_MAC_BYTES);
}

function computeMac(sa: ResolvedSa, authData: Uint8Array, arsn: number): Buffer {
  if (sa.algorithm === 'HMAC-SHA256') {
    return createHmac('sha256', sa.key).update(authData).digest().subarray(0, sa.macBytes);
  }
  const iv = Buffer.alloc(12);
  iv.writeUInt16BE(sa.spi, 0);
  iv.writeUIntBE(arsn, 12 - 6, 6);
  const gcm = createCipheriv('aes-256-gcm', sa.key, iv, { authTagLength: sa.macBytes });
  gcm.setAAD(authData);
  gcm.final();
  return gcm.getAuthTag();
}

/**
 * The SPI of a secured TC frame (the first two octets after the primary header), read
 * before any check so a receiver can refuse an SPI not allowed on a channel. Null when
 * the frame has no room for one between header and FECF.
 */
export function peekSpi(frame: Uint8Array): number | null {
  if (frame.length < TC_PRIMARY_HEADER_BYTES + SPI_BYTES + TC_FECF_BYTES) return null;
  return (frame[TC_PRIMARY_HEADER_BYTES] << 8) | frame[TC_PRIMARY_HEADER_BYTES + 1];
}

function readArsn(buf: Uint8Array, offset: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + buf[offset + i];
  return v;
}

/** Builds a complete secured TC frame (header, security header, data, MAC, FECF). */
export function encodeSecuredTcFrame(h: Omit<TcFrameHeader, 'frameLengthBytes'>, data: Uint8Array, saIn: SecurityAssociation, arsn: number): Uint8Array {
  const sa = resolve(saIn);
  if (!Number.isInteger(arsn) || arsn < 0 || arsn >= sa.modulus) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `ARSN ${arsn} outside 0..${sa.modulus - 1}`, { field: 'arsn', value: arsn });
  }
  const secHdr = SPI_BYTES + sa.arsnBytes;
  const authEnd = TC_PRIMARY_HEADER_BYTES + secHdr + data.length;
  const total = authEnd + sa.macBytes + TC_FECF_BYTES;
  const out = new Uint8Array(total);
  writeTcHeader(out, 0, { ...h, frameLengthBytes: total });
  out[5] = sa.spi >>> 8;
  out[6] = sa.spi & 0xff;
  let v = arsn;
  for (let i = sa.arsnBytes - 1; i >= 0; i--) {
    out[7 + i] = v % 256;
    v = Math.floor(v / 256);
  }
  out.set(data, TC_PRIMARY_HEADER_BYTES + secHdr);
  out.set(computeMac(sa, out.subarray(0, authEnd), arsn), authEnd);
  writeTcFecf(out);
  return out;
}

export interface VerifiedTcFrame {
  spi: number;
  arsn: number;
  /** Frame data between security header and MAC (a view into the input). */
  data: Uint8Array;
}

export interface SdlsCounters {
  accepted: number;
  rejected: number;
}

/**
 * Receiving end: keys by SPI and the anti-replay state of each association. A frame
 * that fails any check throws a ProtocolError and changes no state.
 */
export class SdlsVerifier {
  private readonly sas = new Map<number, ResolvedSa>();
  private readonly lastArsn = new Map<number, number>();
  readonly counters: SdlsCounters = { accepted: 0, rejected: 0 };
  readonly errors: ErrorCounts = {};

  constructor(associations: SecurityAssociation[], initialArsn: Record<number, number> = {}) {
    for (const a of associations) {
      const r = resolve(a);
      const last = initialArsn[r.spi] ?? 0;
      // Restored state that is not an ARSN of this association would reopen replays: refuse it.
      if (!Number.isInteger(last) || last < 0 || last >= r.modulus) {
        throw new ProtocolError('FIELD_OUT_OF_RANGE', `restored ARSN ${last} of SPI ${r.spi} outside 0..${r.modulus - 1}`, { field: 'initialArsn', spi: r.spi, value: last });
      }
      this.sas.set(r.spi, r);
      this.lastArsn.set(r.spi, last);
    }
  }

  /** Last accepted ARSN of an association (what a reboot must restore). */
  arsnOf(spi: number): number | undefined {
    return this.lastArsn.get(spi);
  }

  /**
   * Verifies a whole TC frame (FECF already checked). Throws UNKNOWN_SPI, FRAME_TOO_SHORT,
   * AUTH_FAILED, REPLAY, SEQUENCE_OUT_OF_WINDOW. `precheck` runs on an authentic frame
   * before its ARSN is committed; if it throws, the frame is rejected and nothing changes.
   */
  verify(frame: Uint8Array, precheck?: (v: VerifiedTcFrame) => void): VerifiedTcFrame {
    try {
      const r = this.check(frame);
      precheck?.(r);
      this.lastArsn.set(r.spi, r.arsn);
      this.counters.accepted++;
      return r;
    } catch (e) {
      this.counters.rejected++;
      if (e instanceof ProtocolError) countError(this.errors, e);
      throw e;
    }
  }

  private check(frame: Uint8Array): VerifiedTcFrame {
    const base = TC_PRIMARY_HEADER_BYTES;
    const spi = peekSpi(frame);
    if (spi === null) {
      throw new ProtocolError('FRAME_TOO_SHORT', `TC frame of ${frame.length} octets has no room for a security header`, { length: frame.length });
    }
    const sa = this.sas.get(spi);
    if (!sa) throw new ProtocolError('UNKNOWN_SPI', `no security association with SPI ${spi}`, { spi });
    const secHdr = SPI_BYTES + sa.arsnBytes;
    const authEnd = frame.length - TC_FECF_BYTES - sa.macBytes;
    if (authEnd < base + secHdr) {
      throw new ProtocolError('FRAME_TOO_SHORT', `TC frame of ${frame.length} octets too short for SPI ${spi} header and MAC`, { length: frame.length, spi });
    }
    const arsn = readArsn(frame, base + SPI_BYTES, sa.arsnBytes);
    const expected = computeMac(sa, frame.subarray(0, authEnd), arsn);
    const got = frame.subarray(authEnd, authEnd + sa.macBytes);
    if (!timingSafeEqual(expected, got)) throw new ProtocolError('AUTH_FAILED', `MAC does not verify under SPI ${spi}`, { spi, arsn });
    const last = this.lastArsn.get(spi) as number;
    const ahead = (arsn - last + sa.modulus) % sa.modulus;
    if (ahead === 0 || ahead > sa.modulus / 2) {
      throw new ProtocolError('REPLAY', `ARSN ${arsn} not after last accepted ${last} (SPI ${spi})`, { spi, arsn, last });
    }
    if (ahead > sa.windowSize) {
      throw new ProtocolError('SEQUENCE_OUT_OF_WINDOW', `ARSN ${arsn} is ${ahead} ahead of ${last}, window ${sa.windowSize} (SPI ${spi})`, {
        spi,
        arsn,
        last,
        window: sa.windowSize,
      });
    }
    return { spi, arsn, data: frame.subarray(base + secHdr, authEnd) };
  }
}

/** Sending end: the next ARSN per association, wrapping. */
export class SdlsSender {
  private readonly sa: ResolvedSa;
  private next: number;
  constructor(
    readonly association: SecurityAssociation,
    lastUsedArsn = 0,
  ) {
    this.sa = resolve(association);
    this.next = (lastUsedArsn + 1) % this.sa.modulus;
  }

  secure(h: Omit<TcFrameHeader, 'frameLengthBytes'>, data: Uint8Array): Uint8Array {
    const arsn = this.next;
    this.next = (this.next + 1) % this.sa.modulus;
    return encodeSecuredTcFrame(h, data, this.association, arsn);
  }

  get overheadBytes(): number {
    return SPI_BYTES + this.sa.arsnBytes + this.sa.macBytes;
  }
}
