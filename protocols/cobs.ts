import { ProtocolError } from './errors.ts';

/**
 * Consistent Overhead Byte Stuffing: removes every 0x00 from a frame at a cost of at
 * most one byte per 254, so 0x00 can delimit frames on a serial line.
 */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.ceil(data.length / 254) + 1);
  let codeIdx = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b === 0) {
      out[codeIdx] = code;
      codeIdx = o++;
      code = 1;
    } else {
      out[o++] = b;
      code++;
      // A full block closes here; open the next only if more data follows.
      if (code === 0xff && i + 1 < data.length) {
        out[codeIdx] = code;
        codeIdx = o++;
        code = 1;
      }
    }
  }
  out[codeIdx] = code;
  return out.subarray(0, o);
}

/** Decodes one COBS block (without its 0x00 delimiter). Throws COBS_INVALID. */
export function cobsDecode(enc: Uint8Array, start = 0, end = enc.length): Uint8Array {
  const out = new Uint8Array(Math.max(0, end - start));
  let o = 0;
  let i = start;
  while (i < end) {
    const code = enc[i];
    if (code === 0) {
      throw new ProtocolError('COBS_INVALID', `zero byte inside a COBS block at offset ${i - start}`, { offset: i - start });
    }
    const blockEnd = i + code;
    if (blockEnd > end) {
      throw new ProtocolError('COBS_INVALID', `code ${code} at offset ${i - start} runs past the end of the block`, {
        offset: i - start,
      });
    }
    for (let j = i + 1; j < blockEnd; j++) {
      const b = enc[j];
      if (b === 0) {
        throw new ProtocolError('COBS_INVALID', `zero byte inside a COBS block at offset ${j - start}`, { offset: j - start });
      }
      out[o++] = b;
    }
    i = blockEnd;
    if (code !== 0xff && i < end) out[o++] = 0;
  }
  return out.subarray(0, o);
}
