import { describe, expect, it } from 'vitest';
import { encodeConfigImage } from '../../protocols/config-image.ts';
import { decodePacket, encodeCommand } from '../../protocols/dictionary/index.ts';
import { createWallClock } from '../../firmware/clock.ts';
import { createPayload } from '../../firmware/payload.ts';
import { FakeWorld } from './fakes/world.ts';

/** The same firmware on the wall clock (as against real boards): boots and answers a ping. */
describe('payload on the wall clock', () => {
  it('boots to STANDBY and answers PING; advanceMs is refused', async () => {
    const clock = createWallClock();
    const world = new FakeWorld({ clock, seed: 1 });
    world.config.flash('A', encodeConfigImage({ boardId: 1, configVersion: 1, generation: 2, params: new Map() }));
    const payload = createPayload({ ports: world.ports(), clock, seed: 1 });
    const tm: Uint8Array[] = [];
    payload.onTm((p) => tm.push(p));
    try {
      payload.powerOn();
      const deadline = Date.now() + 10_000;
      while (payload.mode() !== 'STANDBY' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(payload.mode()).toBe('STANDBY');
      payload.sendTc(encodeCommand('PING', {}, { seq: 5 }));
      expect(tm.map((p) => decodePacket(p).name)).toContain('PONG');
      expect(() => payload.advanceMs(10)).toThrow(/SimulatedClock/);
    } finally {
      payload.stop();
    }
  });
});
