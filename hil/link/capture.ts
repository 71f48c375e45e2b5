import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Downlink capture file: the received byte stream as is, each frame preceded by its
 * attached sync marker 0x1ACFFC1D (what `npm run decode -- --format tmframe` reads).
 */
export function writeDownlinkCapture(path: string, chunks: readonly Uint8Array[]): number {
  mkdirSync(dirname(path), { recursive: true });
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) {
    all.set(c, p);
    p += c.length;
  }
  writeFileSync(path, all);
  return total;
}
