import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { emulatorMissing, useBench } from '../fixture.ts';
import { recordMetrics } from '../metrics.ts';
import { RIG_BOARDS } from '../mission/index.ts';
import { encodePng, testPattern } from '../relay/png.ts';
import { benchRelayPass } from '../relay/relay-pass.ts';
import { runRelay } from '../relay/run-relay.ts';

/** Trusted relay Beijing → Stellenbosch: one-time-pad image over relay key, as Jinan-1 did. */
const ctx = useBench({ boards: [...RIG_BOARDS], suite: import.meta.filename });
/**
 * The relay's passes are mission passes with the payload firmware on the suite's bench
 * (benchRelayPass: each on a fresh bench like it), so they need what the passes suite
 * needs: simulated time on boards the bench emulates itself; skipped with the reason elsewhere.
 */
const relayIt = ctx.needs('sim-time');
/** Two 120 s passes: seconds in-process, about real time in lockstep on ptys (docs/bench.md). */
const RELAY_TIMEOUT_MS = emulatorMissing(RIG_BOARDS) === null ? 120_000 : 1_800_000;
const poolDir = mkdtempSync(join(tmpdir(), 'hil-relay-'));
afterAll(() => rmSync(poolDir, { recursive: true, force: true }));

describe('trusted relay', () => {
  relayIt('relays an image Beijing → Stellenbosch bit for bit; a tampered copy is refused', async () => {
    const seed = ctx.bench.seed;
    const image = encodePng(testPattern(64, 48));
    const r = await runRelay({ from: 'beijing', to: 'stellenbosch', plaintext: image, seed, poolDir, passDurationS: 120, pass: benchRelayPass(ctx.bench) });
    if (!r.ok) throw new Error(`relay failed: ${r.message}`);
    expect(Buffer.from(r.plaintext).equals(Buffer.from(image))).toBe(true);
    const tampered = await runRelay({
      from: 'beijing', to: 'stellenbosch', plaintext: image, seed, poolDir, noPass: true,
      carry: (m) => ({ ...m, ciphertext: Uint8Array.from(m.ciphertext, (b, i) => (i === 7 ? b ^ 1 : b)) }),
    });
    expect(tampered).toMatchObject({ ok: false, reason: 'auth-failed' });
    recordMetrics({
      keyBitsUsed: r.keyBitsUsed,
      keyLeftBeijingBits: r.pools.find((p) => p.pool === 'satellite-beijing')!.leftBits,
      keyLeftStellenboschBits: r.pools.find((p) => p.pool === 'satellite-stellenbosch')!.leftBits,
    });
  }, RELAY_TIMEOUT_MS);
});
