import { describe, expect, it } from 'vitest';
import { Bench } from '../../hil/bench/bench.ts';
import { spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { exportWithSer2net, ser2netAvailable, ser2netConfig } from '../../hil/ser2net.ts';
import { toolTier } from '../tiers.ts';
import { config } from './helpers.ts';

/**
 * Board-farm tier: an emulator process on a pseudo-terminal, exported over raw TCP by a
 * real ser2net (Debian package), driven by the bench in `tcp` mode as a farm's boards
 * are (see toolTier for a missing tool).
 */
const HAVE_TOOLS = toolTier('ser2net tier', ['ser2net', 'socat'], ser2netAvailable() && socatAvailable());
const root = process.cwd();

describe('ser2net configuration', () => {
  it('one raw accepter per device at its baud rate, no banner, telnet, Nagle or character delay', () => {
    const text = ser2netConfig([{ device: '/dev/pts/7', baud: 115200, tcpPort: 7002 }]);
    expect(text).toBe('connection: &line0\n  accepter: tcp(nodelay=true),127.0.0.1,7002\n  enable: on\n  options:\n    kickolduser: true\n    chardelay: false\n  connector: serialdev,/dev/pts/7,115200n81,local\n');
  });
});


describe.runIf(HAVE_TOOLS)('ser2net tier (emulator process on a pty, exported by a real ser2net)', () => {
  it('drives the apt board through ser2net: identity, registers, telemetry, a power loss and its reboot', async () => {
    const { address: path, child } = await spawnEmulatorProcess(root, 'apt', { seed: 5 });
    try {
      const farm = await exportWithSer2net([{ device: path, baud: 115200 }]);
      try {
        const port = farm.lines[0].tcpPort;
        const bench = await Bench.open(config({ apt: { mode: 'tcp', host: '127.0.0.1', port } }), { seed: 5, runName: 'ser2net' });
        try {
          const apt = bench.board('apt');
          expect(apt.port).toBe(`tcp:127.0.0.1:${port}`);
          await apt.write({ FSM_ENABLE: 1, FSM_CMD_X_URAD: 120 });
          await bench.waitTlm('apt.FSM_POS_X_URAD', (v) => Math.abs(Number(v) - 120) < 5, { timeoutMs: 3000 });
          const before = await apt.driver.readReg('RESET_COUNT');
          await apt.powerLoss(50);
          await bench.sleep(300);
          expect(await apt.driver.readReg('RESET_COUNT')).toBe(before + 1);
          expect(await apt.driver.readReg('FSM_CMD_X_URAD')).toBe(0);
        } finally {
          await bench.close();
        }
      } finally {
        await farm.close();
      }
    } finally {
      await stopChild(child);
    }
  });
});
