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
  const h = decodeImageHeader(bytes);
  const payloadLength = h.recordCount * IMAGE_RECORD_BYTES;
  const length = h.length;
  if (bytes.length < length) invalid(`image of ${length} octets truncated to ${bytes.length}`, { field: 'length', length });
  const end = IMAGE_HEADER_BYTES + payloadLength;
  const crcGot = storedImageCrc(bytes, end);
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
  return { boardId: h.boardId, configVersion: h.configVersion, generation: h.generation, params, length };
}

// ---------------------------------------------------------------- header only

/** The fixed header of an image: enough to know its length and generation. */
export interface ImageHeader {
  boardId: number;
  configVersion: number;
  generation: number;
  recordCount: number;
  /** Whole image in octets, header and CRC included. */
  length: number;
}

/**
 * Checks and decodes the 20-octet header only (magic, version, record count against
 * payload length). Lets a flasher learn an image's length, then check its CRC on the
 * board (MEM_CRC) without reading the records over the line.
 */
export function decodeImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < IMAGE_HEADER_BYTES) invalid(`${bytes.length} octets, shorter than a header`, { length: bytes.length });
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint32(0);
  if (magic !== IMAGE_MAGIC) invalid(`bad magic 0x${magic.toString(16).padStart(8, '0')} (blank or foreign bank)`, { field: 'magic', magic });
  const version = v.getUint16(4);
  if (version !== IMAGE_FORMAT_VERSION) invalid(`format version ${version}, expected ${IMAGE_FORMAT_VERSION}`, { field: 'formatVersion', version });
  const count = v.getUint16(10);
  const payloadLength = v.getUint32(16);
  if (payloadLength !== count * IMAGE_RECORD_BYTES) invalid(`payload length ${payloadLength} != ${count} records`, { field: 'payloadLength' });
  return { boardId: v.getUint16(6), configVersion: v.getUint16(8), generation: v.getUint32(12), recordCount: count, length: imageLength(count) };
}

/**
 * The CRC-32C stored in an image's CRC field (4 octets, big-endian) at `offset`: a
 * flasher reads just that field from a bank (at length − IMAGE_CRC_BYTES) and compares
 * it with the CRC the board computes (MEM_CRC). Throws IMAGE_INVALID when the field is cut short.
 */
export function storedImageCrc(bytes: Uint8Array, offset = 0): number {
  if (bytes.length - offset < IMAGE_CRC_BYTES) invalid(`${bytes.length - offset} octets where the 4-octet CRC-32C field should be`, { field: 'crc', length: bytes.length - offset });
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

// ---------------------------------------------------------------- boot rule

/**
 * What one bank holds, as the boot rule sees it. `image` is null when only the header
 * and the CRC were checked (a flasher asking the board for the CRC), not the records.
 */
export type BankView = { ok: true; header: ImageHeader; image: (ConfigImage & { length: number }) | null } | { ok: false; reason: string };

export interface BootOptions {
  /** The board's id: an image for another board is not bootable. */
  boardId?: number;
  /** Extra acceptance of a fully decoded image (e.g. every record id known and in range); returns why it refuses, or null. */
  accept?: (img: ConfigImage) => string | null;
}

function headerOf(img: ConfigImage & { length: number }): ImageHeader {
  return { boardId: img.boardId, configVersion: img.configVersion, generation: img.generation, recordCount: img.params.size, length: img.length };
}

/**
 * Checks one bank's bytes (or an already-made view) against the boot rule: a
 * decodable image (magic, version, length, CRC-32C, record order), for this board,
 * accepted by the caller's extra check.
 */
export function inspectBank(bank: Uint8Array | BankView, opts: BootOptions = {}): BankView {
  let view: BankView;
  if (bank instanceof Uint8Array) {
    try {
      const image = decodeConfigImage(bank);
      view = { ok: true, header: headerOf(image), image };
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      view = { ok: false, reason: e.message };
    }
  } else view = bank;
  if (!view.ok) return view;
  if (opts.boardId !== undefined && view.header.boardId !== opts.boardId) {
    return { ok: false, reason: `image is for board id 0x${view.header.boardId.toString(16)}, this board is 0x${opts.boardId.toString(16)}` };
  }
  const refused = view.image && opts.accept ? opts.accept(view.image) : null;
  if (refused !== null) return { ok: false, reason: refused };
  return view;
}

export type BootSource = 'active' | 'fallback' | 'defaults';

export interface BootSelection {
  /** active: the active bank was valid; fallback: it was not, the other one was; defaults: neither. */
  source: BootSource;
  /** Bank booted (0 = A, 1 = B), null on defaults. */
  bank: 0 | 1 | null;
  header: ImageHeader | null;
  image: (ConfigImage & { length: number }) | null;
  /** One readable sentence: which bank and why. */
  reason: string;
  banks: readonly [BankView, BankView];
}

export const BANK_LETTERS = ['A', 'B'] as const;

/**
 * The one boot rule shared by the firmware BOOT, the board emulators, the flasher and
 * the tests: boot the active bank if it holds a valid image, else the other bank if
 * it does, else the safe defaults. Pure: the caller reads the banks.
 */
export function selectBootImage(bankA: Uint8Array | BankView, bankB: Uint8Array | BankView, activeBank: number, opts: BootOptions = {}): BootSelection {
  if (activeBank !== 0 && activeBank !== 1) invalid(`active bank ${activeBank} is not 0 (A) or 1 (B)`, { field: 'activeBank' });
  const banks = [inspectBank(bankA, opts), inspectBank(bankB, opts)] as const;
  const active = activeBank as 0 | 1;
  const other = (1 - active) as 0 | 1;
  const a = banks[active];
  if (a.ok) {
    return { source: 'active', bank: active, header: a.header, image: a.image, reason: `bank ${BANK_LETTERS[active]} (active), generation ${a.header.generation}`, banks };
  }
  const o = banks[other];
  if (o.ok) {
    return {
      source: 'fallback',
      bank: other,
      header: o.header,
      image: o.image,
      reason: `bank ${BANK_LETTERS[other]}, generation ${o.header.generation} (active bank ${BANK_LETTERS[active]} invalid: ${a.reason})`,
      banks,
    };
  }
  const why = (v: BankView) => (v.ok ? 'valid' : v.reason);
  return { source: 'defaults', bank: null, header: null, image: null, reason: `safe defaults (bank A invalid: ${why(banks[0])}; bank B invalid: ${why(banks[1])})`, banks };
}
