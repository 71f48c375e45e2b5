import { ProtocolError } from './errors.ts';

/**
 * Consistent Overhead Byte Stuffing: removes every 0x00 from a frame at a cost of at
 * most one byte per 254, so 0x00 can delimit frames on a serial line.
 * Runs of non-zero bytes are found with indexOf and copied with set (native), which
 * keeps framing far above serial-line rates.
 */
/**
 * Encodes `data` into a new buffer; `extra` bytes of zeroed room are left at the end
 * (serial framing uses one for the 0x00 delimiter).
 */
export function cobsEncode(data: Uint8Array, extra = 0): Uint8Array {
  const out = new Uint8Array(data.length + Math.ceil(data.length / 254) + 1 + extra);
  let o = 0;
  let i = 0;
  const n = data.length;
  let z = -1;
  for (;;) {
    // One block: up to 254 non-zero bytes, ended by a zero (implicit) or the data end.
    // The next zero is searched for again only once it is behind us (no rescans of long runs).
    if (z < i) {
      z = data.indexOf(0, i);
      if (z < 0) z = n;
    }
    const runEnd = Math.min(z, i + 254);
    const len = runEnd - i;
    out[o] = len + 1;
    out.set(data.subarray(i, runEnd), o + 1);
    o += len + 1;
    // A full block (254 bytes, code 0xFF) implies no zero, even when one comes next: that zero gets its own block.
    if (runEnd === z && len < 254) {
      if (z === n) break; // data ended: no implicit zero
      i = z + 1; // the zero is implied by this block's code
      if (i === n) {
        out[o++] = 1; // data ended with a zero: an empty final block carries it
        break;
      }
    } else {
      i = runEnd; // a full 254-byte block (code 0xFF) implies no zero
      if (i === n) break;
    }
  }
  return out.subarray(0, o + extra);
}

/** Decodes one COBS block (without its 0x00 delimiter). Throws COBS_INVALID. */
export function cobsDecode(enc: Uint8Array, start = 0, end = enc.length): Uint8Array {
  const zero = enc.subarray(start, end).indexOf(0);
  if (zero >= 0) throw new ProtocolError('COBS_INVALID', `zero byte inside a COBS block at offset ${zero}`, { offset: zero });
  const out = new Uint8Array(Math.max(0, end - start));
  let o = 0;
  let i = start;
  while (i < end) {
    const code = enc[i];
    const blockEnd = i + code;
    if (blockEnd > end) {
      throw new ProtocolError('COBS_INVALID', `code ${code} at offset ${i - start} runs past the end of the block`, { offset: i - start });
    }
    out.set(enc.subarray(i + 1, blockEnd), o);
    o += code - 1;
    i = blockEnd;
    if (code !== 0xff && i < end) out[o++] = 0;
  }
  return out.subarray(0, o);
}
