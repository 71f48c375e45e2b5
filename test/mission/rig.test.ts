import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import { encodeCommand } from '../../protocols/dictionary/index.ts';
import { attachBenchWorld, createPayloadRig, type PayloadRig } from '../../hil/mission/rig.ts';

const digest = (rig: PayloadRig) => {
  const h = createHash('sha256');
  for (const t of rig.tm) h.update(`${t.tMs}:`).update(t.bytes);
  return h.digest('hex');
};

/** Boot, a ping, a short pass into QKD on a bench world, 3 s of emission. */
function script(seed: number): PayloadRig {
  const rig = createPayloadRig({ seed });
  attachBenchWorld(rig);
  rig.advanceMs(500);
  rig.boot();
  rig.sendTc(encodeCommand('PING', {}, { seq: 1 }));
  const start = Math.floor(rig.clock.now() / 1000) + 1;
  rig.sendTc(encodeCommand('UPLOAD_PASS_PLAN', { station: 'beijing', latDeg: 40, lonDeg: 116.3, altM: 50, startS: start, endS: start + 60, minElevationDeg: 15, tleLine1: EXAMPLE_TLE[0], tleLine2: EXAMPLE_TLE[1] }, { seq: 2 }));
  rig.runUntilTrue(() => rig.payload.status.emitting, 20_000);
  rig.advanceMs(3000);
  rig.stop();
  return rig;
}

describe('payload rig (firmware on the in-process emulators)', () => {
  it('boots over the board links, records decoded TM with times, reaches QKD on the bench world', () => {
    const rig = script(1);
    const names = rig.tm.map((t) => t.packet?.name);
    expect(names).toContain('SELF_TEST_PASSED');
    expect(names).toContain('PONG');
    expect(rig.tm.every((t) => t.packet !== null)).toBe(true);
    const modes = rig.tm.filter((t) => t.packet?.name === 'MODE_CHANGED').map((t) => t.packet!.fields!.to);
    expect(modes).toEqual(['BOOT', 'STANDBY', 'ACQUISITION', 'FINE_POINTING', 'QKD']);
    for (let i = 1; i < rig.tm.length; i++) expect(rig.tm[i].tMs).toBeGreaterThanOrEqual(rig.tm[i - 1].tMs);
    for (const b of Object.values(rig.boards)) expect(b.client.stats.requests).toBeGreaterThan(0);
    expect(rig.ports.qsrc.emitted.length).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same TM bytes and times; another seed does not', () => {
    expect(digest(script(3))).toBe(digest(script(3)));
    expect(digest(script(4))).not.toBe(digest(script(3)));
  });
});
