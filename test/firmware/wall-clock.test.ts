import { describe, expect, it } from 'vitest';
import { decodePacket, encodeCommand } from '../../protocols/dictionary/index.ts';
import { Bench } from '../../hil/bench/bench.ts';
import { hostPayload, inProcessBenchConfig, RIG_BOARDS } from '../../hil/mission/rig.ts';

/** The same firmware on the wall clock (as against real boards): the bench's four emulated boards, boots and answers a ping. */
describe('payload on the wall clock', () => {
  it('boots to STANDBY and answers PING', async () => {
    const bench = await Bench.open({ ...inProcessBenchConfig(), clock: 'wall' }, { seed: 1, boards: [...RIG_BOARDS], runName: 'firmware-wall-clock', capture: false });
    const rig = hostPayload(bench);
    try {
      expect(bench.clock.kind).toBe('wall');
      await rig.boot(10_000);
      expect(rig.payload.mode()).toBe('STANDBY');
      rig.sendTc(encodeCommand('PING', {}, { seq: 5 }));
      expect(rig.tm.map((t) => decodePacket(t.bytes).name)).toContain('PONG');
    } finally {
      rig.stop();
      await bench.close();
    }
  });
});
