import { describe, expect, it } from 'vitest';
import { createPayload } from '../../firmware/payload.ts';
import { Bench } from '../../hil/bench/bench.ts';
import { inMemoryEndpoint } from '../../hil/bench/payload.ts';
import { encodeConfigImage } from '../../protocols/config-image.ts';
import { FakeWorld } from '../firmware/fakes/world.ts';
import { config } from './helpers.ts';

/**
 * The TC/TM API against the real payload firmware model, bound as a payload endpoint
 * and running on the bench's simulated clock (its hardware ports on the firmware
 * tests' in-memory fakes until the integration binds board drivers).
 */
describe('bench TC/TM API against the firmware model', () => {
  it('boots to STANDBY, answers PING, verifies and refuses telecommands, reports housekeeping', async () => {
    const bench = await Bench.open(config({}), { seed: 1, runName: 'firmware-endpoint' });
    try {
      const world = new FakeWorld({ clock: bench.clock, seed: 1 });
      world.config.flash('A', encodeConfigImage({ boardId: 0x5100, configVersion: 1, generation: 7, params: new Map() }));
      const payload = createPayload({ ports: world.ports(), clock: bench.clock, seed: 1, epochOffsetS: 800_000_000 });
      const { endpoint, payloadSide } = inMemoryEndpoint('firmware model');
      payloadSide.onTc((p) => payload.sendTc(p));
      payload.onTm((p) => payloadSide.sendTm(p));
      bench.attachPayload(endpoint);
      const m = bench.mark();
      payload.powerOn();
      await bench.waitTlm('PAYLOAD_HK.mode', (v) => v === 'STANDBY', { timeoutMs: 60_000, since: m });
      const loaded = await bench.assertEvent('CONFIG_LOADED', { since: m, timeoutMs: 10 });
      expect(loaded.fields.generation).toBe(7);
      const m2 = bench.mark();
      await bench.cmd('PING', {}, { await: 'completion' });
      await bench.assertEvent('PONG', { since: m2, timeoutMs: 1000 });
      await expect(bench.cmd('SET_MODE', { mode: 'QKD' }, { await: 'completion' })).rejects.toThrow(/SET_MODE \(seq \d+\) failed: VERIFY_\w+_FAIL/);
      await expect(bench.cmd('SET_MODE', { mode: 'NOPE' })).rejects.toThrow(/mode/);
      expect(payload.mode()).toBe('STANDBY');
      payload.stop();
    } finally {
      await bench.close();
    }
  });
});
