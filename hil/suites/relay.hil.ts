import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { useBench } from '../fixture.ts';
import { recordMetrics } from '../metrics.ts';
import { RIG_BOARDS } from '../mission/index.ts';
import { encodePng, testPattern } from '../relay/png.ts';
import { runRelay } from '../relay/run-relay.ts';

/** Trusted relay Beijing → Stellenbosch: one-time-pad image over relay key, as Jinan-1 did. */
const ctx = useBench({ boards: [...RIG_BOARDS], suite: import.meta.filename });
/** The relay's passes run their world against in-process emulators: skipped with the reason on a bench with other lines. */
const relayIt = ctx.needs('emulator');
const poolDir = mkdtempSync(join(tmpdir(), 'hil-relay-'));
afterAll(() => rmSync(poolDir, { recursive: true, force: true }));

describe('trusted relay', () => {
  relayIt('relays an image Beijing → Stellenbosch bit for bit; a tampered copy is refused', () => {
    const seed = ctx.bench.seed;
    const image = encodePng(testPattern(64, 48));
    const r = runRelay({ from: 'beijing', to: 'stellenbosch', plaintext: image, seed, poolDir, passDurationS: 120 });
    if (!r.ok) throw new Error(`relay failed: ${r.message}`);
    expect(Buffer.from(r.plaintext).equals(Buffer.from(image))).toBe(true);
    const tampered = runRelay({
      from: 'beijing', to: 'stellenbosch', plaintext: image, seed, poolDir, noPass: true,
      carry: (m) => ({ ...m, ciphertext: Uint8Array.from(m.ciphertext, (b, i) => (i === 7 ? b ^ 1 : b)) }),
    });
    expect(tampered).toMatchObject({ ok: false, reason: 'auth-failed' });
    recordMetrics({
      keyBitsUsed: r.keyBitsUsed,
      keyLeftBeijingBits: r.pools.find((p) => p.pool === 'satellite-beijing')!.leftBits,
      keyLeftStellenboschBits: r.pools.find((p) => p.pool === 'satellite-stellenbosch')!.leftBits,
    });
  }, 120_000);
});
