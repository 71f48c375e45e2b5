import { crc32c } from './crc.ts';
import { ProtocolError } from './errors.ts';

/**
 * Configuration image, the one format the flashing tool writes and the firmware's
 * BOOT reads (see docs/config-image.md). Big-endian:
 *
 *   off  size  field
 *     0     4  magic "QKDC" (0x51 0x4B 0x44 0x43)
 *     4     2  format version (1)
 *     6     2  board id (from the board definition)
 *     8     2  config version (schema version of the content)
 *    10     2  record count N
 *    12     4  generation counter (monotonic, one more per flash)
 *    16     4  payload length in octets (N * 10)
 *    20  N*10  records, sorted by id: parameter id u16, value float64
 *  20+L     4  CRC-32C over octets 0 .. 20+L-1
 *
 * Erased flash reads 0xFF, so a blank bank fails on its magic.
 */
export const IMAGE_MAGIC = 0x514b4443;
export const IMAGE_FORMAT_VERSION = 1;
export const IMAGE_HEADER_BYTES = 20;
export const IMAGE_RECORD_BYTES = 10;
export const IMAGE_CRC_BYTES = 4;

export interface ConfigImage {
  boardId: number;
  configVersion: number;
  generation: number;
  /** Parameter values by dictionary parameter id. */
  params: ReadonlyMap<number, number>;
}

function invalid(message: string, details: Record<string, unknown> = {}): never {
  throw new ProtocolError('IMAGE_INVALID', message, details);
}

export function imageLength(recordCount: number): number {
  return IMAGE_HEADER_BYTES + recordCount * IMAGE_RECORD_BYTES + IMAGE_CRC_BYTES;
}

export function encodeConfigImage(img: ConfigImage): Uint8Array {
  for (const [k, v] of [['boardId', img.boardId], ['configVersion', img.configVersion]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) invalid(`${k} ${v} outside 0..65535`, { field: k });
  }
  if (!Number.isInteger(img.generation) || img.generation < 0 || img.generation > 0xffffffff) {
    invalid(`generation ${img.generation} outside 0..4294967295`, { field: 'generation' });
  }
  const ids = [...img.params.keys()].sort((a, b) => a - b);
  if (ids.length > 0xffff) invalid(`${ids.length} records exceed 65535`);
  const out = new Uint8Array(imageLength(ids.length));
  const v = new DataView(out.buffer);
  v.setUint32(0, IMAGE_MAGIC);
  v.setUint16(4, IMAGE_FORMAT_VERSION);
  v.setUint16(6, img.boardId);
  v.setUint16(8, img.configVersion);
  v.setUint16(10, ids.length);
  v.setUint32(12, img.generation);
  v.setUint32(16, ids.length * IMAGE_RECORD_BYTES);
  let o = IMAGE_HEADER_BYTES;
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff) invalid(`parameter id ${id} outside 0..65535`, { field: 'params' });
    const value = img.params.get(id)!;
    if (!Number.isFinite(value)) invalid(`parameter ${id} value ${value} is not finite`, { paramId: id });
    v.setUint16(o, id);
    v.setFloat64(o + 2, value);
    o += IMAGE_RECORD_BYTES;
  }
  v.setUint32(o, crc32c(out, 0, o));
  return out;
}

/**
 * Decodes an image from the start of `bytes` (a flash bank may be longer than the
 * image). Throws IMAGE_INVALID naming what is wrong: magic, version, length, CRC,
 * record order.
 */
export function decodeConfigImage(bytes: Uint8Array): ConfigImage & { length: number } {
  if (bytes.length < IMAGE_HEADER_BYTES + IMAGE_CRC_BYTES) invalid(`${bytes.length} octets, shorter than an empty image`, { length: bytes.length });
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint32(0);
  if (magic !== IMAGE_MAGIC) invalid(`bad magic 0x${magic.toString(16).padStart(8, '0')} (blank or foreign bank)`, { field: 'magic', magic });
  const version = v.getUint16(4);
  if (version !== IMAGE_FORMAT_VERSION) invalid(`format version ${version}, expected ${IMAGE_FORMAT_VERSION}`, { field: 'formatVersion', version });
  const count = v.getUint16(10);
  const payloadLength = v.getUint32(16);
  if (payloadLength !== count * IMAGE_RECORD_BYTES) invalid(`payload length ${payloadLength} != ${count} records`, { field: 'payloadLength' });
  const length = imageLength(count);
  if (bytes.length < length) invalid(`image of ${length} octets truncated to ${bytes.length}`, { field: 'length', length });
  const end = IMAGE_HEADER_BYTES + payloadLength;
  const crcGot = v.getUint32(end);
  const crcWant = crc32c(bytes, 0, end);
  if (crcGot !== crcWant) invalid(`CRC-32C 0x${crcGot.toString(16)} != computed 0x${crcWant.toString(16)}`, { field: 'crc', got: crcGot, want: crcWant });
  const params = new Map<number, number>();
  let prev = -1;
  for (let o = IMAGE_HEADER_BYTES; o < end; o += IMAGE_RECORD_BYTES) {
    const id = v.getUint16(o);
    if (id <= prev) invalid(`records not in strictly increasing id order at id ${id}`, { field: 'records', paramId: id });
    prev = id;
    params.set(id, v.getFloat64(o + 2));
  }
  return { boardId: v.getUint16(6), configVersion: v.getUint16(8), generation: v.getUint32(12), params, length };
}
