/**
 * Table-driven CRCs (see shared/reference/standards.md).
 * - CRC-16/IBM-3740: poly 0x1021, init 0xFFFF, MSB first, no final XOR. PUS packet
 *   error control and transfer-frame FECF.
 * - CRC-32C (Castagnoli): reflected poly 0x82F63B78, init/xorout 0xFFFFFFFF. Serial
 *   frames and config images.
 */

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/IBM-3740 over bytes[start, end). Pass `crc` to continue a running CRC. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0xffff): number {
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xff00) ^ CRC16_TABLE[((crc >>> 8) ^ bytes[i]) & 0xff];
  }
  return crc;
}

// Slicing-by-8 for CRC-32C: eight bytes per step from one flat table (k * 256 + byte).
// Int32Array, not Uint32Array: loads then stay small integers instead of heap doubles.
const CRC32C_TABLE = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) t[k * 256 + i] = (t[(k - 1) * 256 + i] >>> 8) ^ t[t[(k - 1) * 256 + i] & 0xff];
  }
  return t;
})();

/** Word loads read bytes in little-endian order; on other hosts the byte loop runs. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
/** Below this many bytes a word view costs more than it saves. */
const WORD_PATH_MIN_BYTES = 64;

/** CRC-32C over bytes[start, end). Pass a previous result as `prev` to continue. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, prev = 0): number {
  const t = CRC32C_TABLE;
  let c = ~prev | 0;
  let i = start;
  if (LITTLE_ENDIAN && end - i >= WORD_PATH_MIN_BYTES) {
    while (((bytes.byteOffset + i) & 3) !== 0) c = t[(c ^ bytes[i++]) & 0xff] ^ (c >>> 8);
    const nWords = ((end - i) >> 3) << 1;
    const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, nWords);
    for (let j = 0; j < nWords; j += 2) {
      c ^= w[j];
      const hi = w[j + 1];
      c =
        t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^ t[1024 + (c >>> 24)] ^
        t[768 + (hi & 0xff)] ^ t[512 + ((hi >>> 8) & 0xff)] ^ t[256 + ((hi >>> 16) & 0xff)] ^ t[hi >>> 24];
    }
    i += nWords * 4;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
