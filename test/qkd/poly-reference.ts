/** The polynomial hash over GF(2^61 - 1) written plainly with BigInt: the reference the fast code is checked against. */
const P = (1n << 61n) - 1n;

export function polyReference(bytes: Uint8Array, k: bigint): bigint {
  let h = 0n;
  const words = (bytes.length + 3) >> 2;
  for (let w = 0; w <= words; w++) {
    let m = BigInt(bytes.length);
    if (w < words) {
      m = 0n;
      for (let b = 3; b >= 0; b--) m = (m << 8n) | BigInt(bytes[4 * w + b] ?? 0);
    }
    h = ((h + m) * k) % P;
  }
  return h;
}
