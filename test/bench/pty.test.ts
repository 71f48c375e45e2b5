import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Bench } from '../../hil/bench/bench.ts';
import { spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { PayloadStrategy } from '../../hil/bench/strategy.ts';
import { RIG_BOARDS } from '../../hil/mission/rig.ts';
import { createPtyPair, socatAvailable } from '../../hil/pty.ts';
import { toolTier } from '../tiers.ts';
import { config } from './helpers.ts';

/**
 * Pseudo-terminal tier: real emulator processes (`npm run emulate` equivalents) on
 * ptys made by socat, opened by the bench with serialport like real boards. Never
 * skipped silently: without socat the tier is reported skipped by name, and under
 * CI (CI set) a missing socat fails.
 */
const HAVE_SOCAT = toolTier('pseudo-terminal tier', ['socat'], socatAvailable());
const root = process.cwd();


describe.runIf(HAVE_SOCAT)('pseudo-terminal tier (emulator processes, serialport, socat)', () => {
  it('`npm run emulate` prints the pty path; the bench drives the board through it; SIGTERM ends it cleanly', async () => {
    const { address: path, child } = await spawnEmulatorProcess(root, 'apt', { seed: 4 });
    try {
      expect(path).toMatch(/^\/dev\/pts\/\d+$/);
      const bench = await Bench.open(config({ apt: { mode: 'port', path } }), { seed: 4, runName: 'pty-port' });
      try {
        expect(bench.clock.kind).toBe('wall');
        const apt = bench.board('apt');
        expect(apt.port).toBe(`port ${path}`);
        await apt.beacon(50, -20);
        await apt.write({ FSM_CMD_X_URAD: 50, FSM_CMD_Y_URAD: -20 });
        const s = await bench.waitTlm('apt.SPOT_VALID', (v) => v === 1, { timeoutMs: 3000 });
        expect(s.t).toBeGreaterThan(0);
        await bench.waitTlm('apt.SPOT_X_URAD', (v) => Math.abs(Number(v)) < 3, { timeoutMs: 3000 });
        // Transport faults on a real serial device: corruption is rejected and recovered.
        apt.driver.configure({ retries: 6 });
        apt.injectBytes({ corruptRate: 1 / 300 });
        for (let i = 0; i < 20; i++) expect(await apt.driver.readReg('CAM_EXPOSURE_US')).toBe(1000);
        apt.clearFaults();
      } finally {
        await bench.close();
      }
      // The emulator outlives a client: a second session on the same path works.
      const again = await Bench.open(config({ apt: { mode: 'port', path } }, { stream: false }), { seed: 4, runName: 'pty-port-2' });
      expect((await again.board('apt').driver.identify()).name).toBe('apt');
      await again.close();
    } finally {
      const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    }
  });

  it('bench mode "pty" starts an emulator process per board and stops it on close', async () => {
    const bench = await Bench.open(config({ qsrc: { mode: 'pty' }, lct: { mode: 'pty' } }), { seed: 2, runName: 'pty-mode' });
    try {
      await bench.board('lct').write({ LINK_ENABLE: 1 });
      await bench.board('lct').linkLoss(40);
      await bench.waitTlm('lct.UPLINK_LOCK', (v) => v === 1, { timeoutMs: 3000 });
      expect(await bench.board('qsrc').driver.readReg('REP_RATE_MHZ')).toBe(625);
    } finally {
      await bench.close();
    }
  });

  it('hosts the payload firmware on four emulator processes in lockstep: the strategy boots it to STANDBY over the ptys, housekeeping every 1000 ms of bench time', async () => {
    const bench = await Bench.open(config({ qsrc: { mode: 'pty' }, apt: { mode: 'pty', baud: 2_000_000 }, lct: { mode: 'pty' }, acs: { mode: 'pty' } }), { seed: 1, runName: 'pty-payload' });
    const strategy = new PayloadStrategy(bench);
    try {
      expect(bench.inProcess).toBe(false);
      expect(bench.lockstepQuantumMs).toBe(1);
      const rig = (await strategy.transition('booted'))!;
      expect(rig.clock).toBe(bench.clock);
      expect(rig.clock.kind).toBe('sim');
      expect(rig.payload.mode()).toBe('STANDBY');
      expect(rig.tm.map((t) => t.packet?.name)).toContain('SELF_TEST_PASSED');
      await rig.advanceMs(3500);
      const hk = rig.tm.filter((t) => t.packet?.name === 'PAYLOAD_HK');
      expect(hk.length).toBeGreaterThanOrEqual(3);
      // The firmware's timers run on the bench's simulated clock: the period is exact, not ~1000 ms of wall time.
      for (const [i, t] of hk.slice(1).entries()) expect(t.tMs - hk[i].tMs).toBe(1000);
      for (const n of RIG_BOARDS) {
        expect(rig.boards[n].emu, n).toBeUndefined();
        expect(rig.boards[n].client.stats.telemetryFrames, `${n} telemetry`).toBeGreaterThan(0);
        expect(rig.boards[n].client.stats.timeouts, `${n} timeouts`).toBe(0);
      }
    } finally {
      strategy.off();
      await bench.close();
    }
  }, 60_000);

  it('a pty with no board behind it: NO_RESPONSE naming board and port, within the timeout', async () => {
    const pair = await createPtyPair();
    try {
      const t0 = Date.now();
      await expect(Bench.open(config({ acs: { mode: 'port', path: pair.userPath } }, { timeoutMs: 150, retries: 1 }), { runName: 'pty-dead' })).rejects.toThrow(
        new RegExp(`^board acs on port ${pair.userPath}: no response to IDENTIFY \\(seq 0\\) after 2 attempt\\(s\\) of 150 ms$`),
      );
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      pair.close();
    }
  });

  it('a wrong board on the port: WRONG_IDENTITY naming both boards and the port', async () => {
    const { address: path, child } = await spawnEmulatorProcess(root, 'qsrc', { seed: 1 });
    try {
      await expect(Bench.open(config({ apt: { mode: 'port', path } }), { runName: 'pty-wrong' })).rejects.toThrow(
        new RegExp(`^board apt on port ${path}: wrong identity: board id 0x5101 \\(qsrc\\) where apt is 0x5102`),
      );
    } finally {
      await stopChild(child);
    }
  });

  it('emulate refuses bad arguments with usage and exit code 2', async () => {
    const code = await new Promise<number | null>((r) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/emulate.ts', 'nosuchboard'], { stdio: 'ignore' });
      p.on('exit', (c) => r(c));
    });
    expect(code).toBe(2);
  });
});

describe('missing or bad ports (any machine)', () => {
  it('a missing device path: PORT_NOT_FOUND naming board and path', async () => {
    await expect(Bench.open(config({ lct: { mode: 'port', path: '/dev/ttyUSB99' } }), { runName: 'missing' })).rejects.toThrow(
      /^board lct on port \/dev\/ttyUSB99: serial port \/dev\/ttyUSB99 does not exist$/,
    );
  });

  it('a path that is not a serial device: PORT_OPEN_FAILED naming board and path', async () => {
    await expect(Bench.open(config({ lct: { mode: 'port', path: '/dev/null' } }), { runName: 'notatty' })).rejects.toThrow(/^board lct on port \/dev\/null: (cannot open serial port|no response)/);
  });
});
