import { describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import { Bench, clockPlan } from '../../hil/bench/bench.ts';
import { readCapture } from '../../hil/capture.ts';
import { spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { LockstepLine } from '../../hil/transport/lockstep.ts';
import { config } from './helpers.ts';

/**
 * Lockstep on lines the bench did not start (tcp, port): with clock "sim" and lockstep
 * "always" such a board is taken for an emulator started with --lockstep (a farm's
 * ser2net exporting its pty, or `npm run emulate -- BOARD --tcp PORT --lockstep`), and
 * its line is granted time like the bench's own emulator processes.
 */
describe('lockstep on tcp and port lines', () => {
  it('clock sim with lockstep "always" takes tcp and port boards for lockstep emulators', () => {
    const cfg = config({ apt: { mode: 'tcp', host: 'farm1', port: 7002 }, lct: { mode: 'port', path: '/dev/ttyUSB2' } }, { clock: 'sim', lockstep: 'always', lockstepQuantumMs: 2 });
    expect(clockPlan(cfg, ['apt', 'lct'])).toEqual({ clock: 'sim', lockstepQuantumMs: 2 });
    // Without "always" they are real boards: the wall clock, and simulated time refused naming them.
    expect(clockPlan({ ...cfg, clock: 'auto', lockstep: undefined }, ['apt', 'lct'])).toEqual({ clock: 'wall', lockstepQuantumMs: null });
    expect(() => clockPlan({ ...cfg, lockstep: undefined }, ['apt', 'lct'])).toThrow(/apt is on tcp:farm1:7002, lct is on \/dev\/ttyUSB2: such boards run on the wall clock \(emulators started with --lockstep on such lines need lockstep "always"\)/);
  });

  it('an emulator process started with --tcp --lockstep follows the bench clock over its TCP line', async () => {
    const { address, child } = await spawnEmulatorProcess(process.cwd(), 'apt', { seed: 4, lockstep: true, tcpPort: 0 });
    try {
      const [, host, port] = address.split(':'); // tcp:HOST:PORT
      const bench = await Bench.open(config({ apt: { mode: 'tcp', host, port: Number(port) } }, { clock: 'sim', lockstep: 'always' }), { seed: 4, runName: 'tcp-lockstep' });
      let capPath = '';
      try {
        const apt = bench.board('apt');
        expect(bench.clock).toBeInstanceOf(SimClock);
        expect(apt.line.inner).toBeInstanceOf(LockstepLine);
        capPath = apt.capture!.path;
        await apt.write({ FSM_ENABLE: 1, FSM_CMD_X_URAD: 120 });
        await bench.waitTlm('apt.FSM_POS_X_URAD', (v) => Math.abs(Number(v) - 120) < 5, { timeoutMs: 3000 });
        expect((apt.line.inner as LockstepLine).stats.grants).toBeGreaterThan(0);
      } finally {
        await bench.close();
      }
      const { header, records } = readCapture(capPath);
      expect(header.clock).toBe('sim');
      expect(records[0]).toEqual({ t: 0, event: 'lockstep', detail: 'quantum 1 ms' });
      // Received only on quantum boundaries of bench time: the emulator runs on granted time.
      const rx = records.filter((r) => 'dir' in r && r.dir === 'rx');
      expect(rx.length).toBeGreaterThan(2);
      for (const r of rx) expect(Number.isInteger(r.t)).toBe(true);
    } finally {
      await stopChild(child);
    }
  });
});
