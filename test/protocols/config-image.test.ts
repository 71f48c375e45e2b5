import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeConfigImage, decodeImageHeader, encodeConfigImage, IMAGE_CRC_BYTES, storedImageCrc } from '../../protocols/config-image.ts';
import { crc32c } from '../../protocols/crc.ts';
import { isProtocolError } from '../../protocols/errors.ts';

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));

/**
 * An empty image written from the layout in docs/config-image.md:
 * 514b4443: magic "QKDC" | 0001: format 1 | 0102: board id | 0003: config version
 * 0000: no records | 00000005: generation 5 | 00000000: payload length 0
 * 48b0999c: CRC-32C (Castagnoli) of the 20 octets before it, computed bit by bit outside this project.
 */
const EMPTY_IMAGE = '514b4443 0001 0102 0003 0000 00000005 00000000 48b0999c';

describe('config image stored CRC (hand-made vectors)', () => {
  it('reads the CRC field big-endian, as an unsigned number', () => {
    expect(storedImageCrc(hex('a1b2c3d4'))).toBe(0xa1b2c3d4);
    expect(storedImageCrc(hex('00 00000001 ff'), 1)).toBe(1);
  });

  it('reads the stored CRC of a hand-made image at length - 4, the CRC the decoder checks', () => {
    const img = hex(EMPTY_IMAGE);
    expect(decodeImageHeader(img)).toMatchObject({ boardId: 0x0102, configVersion: 3, generation: 5, recordCount: 0, length: 24 });
    expect(storedImageCrc(img, img.length - IMAGE_CRC_BYTES)).toBe(0x48b0999c);
    expect(decodeConfigImage(img)).toMatchObject({ boardId: 0x0102, configVersion: 3, generation: 5, length: 24 });
    expect(Buffer.from(encodeConfigImage({ boardId: 0x0102, configVersion: 3, generation: 5, params: new Map() })).toString('hex')).toBe(EMPTY_IMAGE.replace(/ /g, ''));
  });

  it('a CRC field cut short is IMAGE_INVALID naming the field', () => {
    for (const [bytes, offset] of [[hex('a1b2c3'), 0], [hex(EMPTY_IMAGE), 21]] as const) {
      try {
        storedImageCrc(bytes, offset);
        expect.unreachable();
      } catch (e) {
        expect(isProtocolError(e) && e.code).toBe('IMAGE_INVALID');
        expect(isProtocolError(e) && e.details.field).toBe('crc');
      }
    }
  });

  it('every encoded image stores the CRC-32C of what precedes the field', () => {
    const params = fc.dictionary(fc.integer({ min: 0, max: 0xffff }).map(String), fc.double({ noNaN: true, noDefaultInfinity: true }), { maxKeys: 20 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), params, (boardId, generation, p) => {
        const img = encodeConfigImage({ boardId, configVersion: 1, generation, params: new Map(Object.entries(p).map(([k, v]) => [Number(k), v])) });
        const at = img.length - IMAGE_CRC_BYTES;
        expect(storedImageCrc(img, at)).toBe(crc32c(img, 0, at));
      }),
      { seed: 12, numRuns: 100 },
    );
  });
});
