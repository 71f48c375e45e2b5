import { crc32, deflateSync, inflateSync } from 'node:zlib';

/**
 * Minimal PNG (ISO/IEC 15948) writer and reader for 8-bit RGB images: enough to render
 * ciphertext as a picture and to make test images, with no image library.
 */
const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 octets, row by row. */
  rgb: Uint8Array;
}

export function encodePng(img: RgbImage): Uint8Array {
  const { width, height, rgb } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`bad image size ${width}x${height}`);
  if (rgb.length !== width * height * 3) throw new Error(`expected ${width * height * 3} RGB octets, got ${rgb.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 3)] = 0; // filter: none
    raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array())]);
}

/** Reads back what encodePng writes (8-bit RGB, filter 0); used by tests. */
export function decodePng(png: Uint8Array): RgbImage {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!b.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG: bad signature');
  let o = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (o + 12 <= b.length) {
    const len = b.readUInt32BE(o);
    const type = b.toString('ascii', o + 4, o + 8);
    const data = b.subarray(o + 8, o + 8 + len);
    if (crc32(b.subarray(o + 4, o + 8 + len)) !== b.readUInt32BE(o + 8 + len)) throw new Error(`PNG chunk ${type}: CRC mismatch`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 2) throw new Error('only 8-bit RGB PNGs are read here');
    } else if (type === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    if (raw[y * (1 + width * 3)] !== 0) throw new Error('only filter type 0 is read here');
    rgb.set(raw.subarray(y * (1 + width * 3) + 1, (y + 1) * (1 + width * 3)), y * width * 3);
  }
  return { width, height, rgb };
}

/** Renders arbitrary bytes (e.g. a ciphertext) as a near-square RGB picture, zero-padded. */
export function bytesAsImage(bytes: Uint8Array): RgbImage {
  const pixels = Math.max(1, Math.ceil(bytes.length / 3));
  const width = Math.ceil(Math.sqrt(pixels));
  const height = Math.ceil(pixels / width);
  const rgb = new Uint8Array(width * height * 3);
  rgb.set(bytes);
  return { width, height, rgb };
}

/** A recognisable test image: colour gradients with a bright ring, so a wrong decryption is obvious. */
export function testPattern(width: number, height: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const r = Math.hypot(x - width / 2, y - height / 2) / (Math.min(width, height) / 2);
      const ring = Math.abs(r - 0.6) < 0.08 ? 255 : 0;
      rgb[i] = Math.max(ring, Math.round((255 * x) / Math.max(1, width - 1)));
      rgb[i + 1] = Math.max(ring, Math.round((255 * y) / Math.max(1, height - 1)));
      rgb[i + 2] = ring || 96;
    }
  }
  return { width, height, rgb };
}
