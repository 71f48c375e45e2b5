/**
 * Independent reference helpers for the link tests, written from the standards' text
 * and deliberately not sharing code with protocols/link: bit-string packing, a bitwise
 * CRC-16/IBM-3740 and a bit-serial 131.0-B randomiser.
 */

/** Packs [value, widthBits] fields MSB first into octets (total must be a multiple of 8). */
export function packBits(fields: [number, number][]): Uint8Array {
  let s = '';
  for (const [v, w] of fields) s += v.toString(2).padStart(w, '0').slice(-w);
  if (s.length % 8 !== 0) throw new Error(`bit string of ${s.length} bits`);
  const out = new Uint8Array(s.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 8, i * 8 + 8), 2);
  return out;
}

export function crc16Bitwise(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    for (let i = 7; i >= 0; i--) {
      const bit = ((crc >>> 15) ^ (b >>> i)) & 1;
      crc = ((crc << 1) & 0xffff) ^ (bit ? 0x1021 : 0);
    }
  }
  return crc;
}

/**
 * Bit-serial randomiser, as drawn in 131.0-B: an 8-stage shift register preset to all
 * ones; the output is the last stage; the feedback taps follow h(x)=x^8+x^7+x^5+x^3+1.
 */
export function randomiserBytes(n: number): Uint8Array {
  // reg[0] is the stage that is output next.
  const reg = [1, 1, 1, 1, 1, 1, 1, 1];
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let byte = 0;
    for (let k = 0; k < 8; k++) {
      const o = reg[0];
      const fb = reg[0] ^ reg[3] ^ reg[5] ^ reg[7];
      reg.shift();
      reg.push(fb);
      byte = (byte << 1) | o;
    }
    out[i] = byte;
  }
  return out;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
