import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bench } from '../../hil/bench/bench.ts';
import { inProcessBenchConfig, RIG_BOARDS } from '../../hil/mission/rig.ts';
import { encodePng, testPattern } from '../../hil/relay/png.ts';
import { benchRelayPass, type RelayPassRequest } from '../../hil/relay/relay-pass.ts';
import { runRelay } from '../../hil/relay/run-relay.ts';
import { preSharedKey } from '../../hil/mission/physics-pass.ts';
import { KeyPool } from '../../qkd/pool.ts';

/** How a relay run's passes are made (hil/relay/relay-pass.ts): the runner it is given fills the pools. */

const image = encodePng(testPattern(16, 12));
/** A stand-in pass: the same fixed key into both pools of the station, and the request recorded. */
function fakePass(calls: Omit<RelayPassRequest, 'pools' | 'progress'>[]) {
  return ({ station, seed, durationS, pools }: RelayPassRequest) => {
    calls.push({ station, seed, durationS });
    const words = Uint32Array.from({ length: 4096 }, (_, i) => Math.imul(i + seed, 0x9e3779b1) >>> 0);
    pools.satellite.add(`fake-${station}-${seed}`, words, 4096 * 32, 'fake');
    pools.ground.add(`fake-${station}-${seed}`, words, 4096 * 32, 'fake');
    return { finalKeyBits: 4096 * 32, qber: 0.02 };
  };
}

describe('the relay with a pass runner', () => {
  it('runs the given pass over each station with its seed and duration, and relays over the key it made', async () => {
    const calls: Omit<RelayPassRequest, 'pools' | 'progress'>[] = [];
    const poolDir = mkdtempSync(join(tmpdir(), 'relay-pass-'));
    const r = await runRelay({ from: 'beijing', to: 'stellenbosch', plaintext: image, seed: 7, poolDir, passDurationS: 90, pass: fakePass(calls) });
    expect(r.ok).toBe(true);
    if (r.ok) expect(Buffer.from(r.plaintext).equals(Buffer.from(image))).toBe(true);
    // Run 1 of a new pool folder: seeds 7 * 1009 + 1 * 7 + 1 (from) and + 2 (to).
    expect(calls).toEqual([
      { station: 'beijing', seed: 7071, durationS: 90 },
      { station: 'stellenbosch', seed: 7072, durationS: 90 },
    ]);
    expect(r.pools.find((p) => p.pool === 'satellite-beijing')!.producedBits).toBe(4096 * 32);
    const again = await runRelay({ from: 'beijing', to: 'stellenbosch', plaintext: image, seed: 7, poolDir, noPass: true, pass: fakePass(calls) });
    expect(again.ok).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('benchRelayPass runs the mission pass on a fresh bench like the one given, into the pools given', async () => {
    const like = await Bench.open(inProcessBenchConfig(), { seed: 1, boards: [...RIG_BOARDS], capture: false });
    try {
      const pools = { satellite: new KeyPool('beijing'), ground: new KeyPool('beijing') };
      // The pre-shared key the pass's authentication starts on, as a relay pool holds it.
      for (const p of [pools.satellite, pools.ground]) p.add('psk-beijing', preSharedKey(5, 1 << 17), 1 << 17, 'psk');
      const progress: string[] = [];
      const f = await benchRelayPass(like)({ station: 'beijing', seed: 3, durationS: 10, pools, progress: (m) => progress.push(m) });
      expect(f.finalKeyBits).toBeGreaterThan(0);
      expect(f.qber).toBeGreaterThan(0);
      // The key the pass made went into both pools, block for block.
      const made = (p: KeyPool) => p.blocks.filter((b) => b.source.startsWith('beijing-3/block:'));
      expect(made(pools.satellite).reduce((a, b) => a + b.lengthBits, 0)).toBe(f.finalKeyBits);
      expect(made(pools.ground).map((b) => [b.keyId, b.lengthBits])).toEqual(made(pools.satellite).map((b) => [b.keyId, b.lengthBits]));
      expect(progress.some((m) => /^t \d+ s {2}QKD {2}final key \d+ bits$/.test(m))).toBe(true);
    } finally {
      await like.close();
    }
  }, 120_000);
});
