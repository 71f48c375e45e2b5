/**
 * CCSDS 131.0-B pseudo-randomiser: h(x) = x^8 + x^7 + x^5 + x^3 + 1, register all ones
 * at the start of every frame, period 255 octets. XOR is its own inverse, so the same
 * call randomises and derandomises. The sequence is generated bit by bit once at load
 * time; the hot path is a byte-wise XOR against a table.
 */
export const RANDOMIZER_PERIOD_BYTES = 255;

function generate(lengthBytes: number): Uint8Array {
  // Fibonacci form of h(x): x(n+8) = x(n) ^ x(n+3) ^ x(n+5) ^ x(n+7), first 8 bits all ones.
  const bits = new Uint8Array(lengthBytes * 8 + 8);
  bits.fill(1, 0, 8);
  for (let n = 0; n + 8 < bits.length; n++) bits[n + 8] = bits[n] ^ bits[n + 3] ^ bits[n + 5] ^ bits[n + 7];
  const out = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) {
    let b = 0;
    for (let k = 0; k < 8; k++) b = (b << 1) | bits[i * 8 + k];
    out[i] = b;
  }
  return out;
}

/** One period of the sequence (255 octets), starting FF 48 0E C0 9A 0D 70 BC. */
export const RANDOMIZER_SEQUENCE: Uint8Array = generate(RANDOMIZER_PERIOD_BYTES);

// The sequence repeated to cover the largest TM frame (2048 octets) plus slack, so XOR needs
// no modulo; and as 32-bit words for each of the four possible alignments of a frame.
const MAX_TABLE_BYTES = 2048;
const TABLE = (() => {
  const t = new Uint8Array(MAX_TABLE_BYTES + 4);
  for (let i = 0; i < t.length; i++) t[i] = RANDOMIZER_SEQUENCE[i % RANDOMIZER_PERIOD_BYTES];
  return t;
})();
const TABLE32 = [0, 1, 2, 3].map((lead) => new Uint32Array(TABLE.slice(lead, lead + MAX_TABLE_BYTES).buffer));

/** XORs buf[start, end) with the sequence, restarting it at `start` (in place). */
export function randomize(buf: Uint8Array, start = 0, end = buf.length): void {
  const n = end - start;
  if (n > MAX_TABLE_BYTES) {
    for (let i = 0; i < n; i++) buf[start + i] ^= RANDOMIZER_SEQUENCE[i % RANDOMIZER_PERIOD_BYTES];
    return;
  }
  const abs = buf.byteOffset + start;
  const lead = Math.min(n, (4 - (abs & 3)) & 3);
  for (let i = 0; i < lead; i++) buf[start + i] ^= TABLE[i];
  const words = (n - lead) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(buf.buffer, abs + lead, words);
    const t = TABLE32[lead];
    for (let j = 0; j < words; j++) w[j] ^= t[j];
  }
  for (let i = lead + words * 4; i < n; i++) buf[start + i] ^= TABLE[i];
}
