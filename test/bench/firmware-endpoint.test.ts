import { describe, expect, it } from 'vitest';
import { Bench } from '../../hil/bench/bench.ts';
import { inMemoryEndpoint } from '../../hil/bench/payload.ts';
import { hostPayload } from '../../hil/mission/rig.ts';
import { config } from './helpers.ts';

/**
 * The bench's TC/TM API (cmd, waitTlm, assertEvent) against the payload firmware hosted
 * on the bench's own emulated boards, its PUS stream bound as the bench's payload
 * endpoint, on the bench's simulated clock.
 */
describe('bench TC/TM API against the hosted payload firmware', () => {
  it('boots to STANDBY, answers PING, verifies and refuses telecommands, reports housekeeping', async () => {
    const emulated = { mode: 'emulated' } as const;
    const bench = await Bench.open(config({ qsrc: emulated, apt: emulated, lct: emulated, acs: emulated }), { seed: 1, runName: 'firmware-endpoint' });
    try {
      const rig = hostPayload(bench, { configGeneration: 7, epochOffsetS: 800_000_000 });
      const { endpoint, payloadSide } = inMemoryEndpoint('firmware model');
      payloadSide.onTc((p) => rig.sendTc(p));
      rig.payload.onTm((p) => payloadSide.sendTm(p));
      bench.attachPayload(endpoint);
      const m = bench.mark();
      rig.payload.powerOn();
      await bench.waitTlm('PAYLOAD_HK.mode', (v) => v === 'STANDBY', { timeoutMs: 60_000, since: m });
      const loaded = await bench.assertEvent('CONFIG_LOADED', { since: m, timeoutMs: 10 });
      expect(loaded.fields.generation).toBe(7);
      const m2 = bench.mark();
      await bench.cmd('PING', {}, { await: 'completion' });
      await bench.assertEvent('PONG', { since: m2, timeoutMs: 1000 });
      await expect(bench.cmd('SET_MODE', { mode: 'QKD' }, { await: 'completion' })).rejects.toThrow(/SET_MODE \(seq \d+\) failed: VERIFY_\w+_FAIL/);
      await expect(bench.cmd('SET_MODE', { mode: 'NOPE' })).rejects.toThrow(/mode/);
      expect(rig.payload.mode()).toBe('STANDBY');
      rig.stop();
    } finally {
      await bench.close();
    }
  });
});
