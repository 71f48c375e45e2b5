import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WallClock } from '../../boards/clock.ts';
import { type HostedEmulator, hostOnPty } from '../../hil/emulator-host.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { FrameLink } from '../../hil/framing.ts';
import { bootOfEmulator, installImage } from '../../hil/flash/emulated-boot.ts';
import { FlashError, flashConfig } from '../../hil/flash/flasher.ts';
import { configToImage } from '../../hil/flash/image.ts';
import { type BoardConfig, configSchema } from '../../hil/flash/schema.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { runScriptAsync } from '../cli/run.ts';
import { toolTier } from '../tiers.ts';
import { SerialTransport } from '../../hil/transport/serial.ts';

/**
 * Pseudo-terminal tier: `npm run flash` as its own process, through serialport, against
 * an emulated qsrc on a pty (socat). The emulator runs in this process so the test can
 * compare its flash byte for byte. Without socat the tier says so by name (and fails under CI).
 */
const HAVE_SOCAT = toolTier('flash pseudo-terminal tier', ['socat'], socatAvailable());
const ROOT = new URL('../../', import.meta.url).pathname;
const schema = configSchema('qsrc');
const dir = mkdtempSync(join(tmpdir(), 'flash-'));

const runFlash = (args: string[]) => runScriptAsync('flash', args);

function snapshot(h: HostedEmulator) {
  return { data: h.emulator.flash.data.slice(), activeBank: h.emulator.flash.activeBank };
}

const OLD: BoardConfig = { board: 'qsrc', configVersion: 1, parameters: { MU_SIGNAL: 0.7, P_KEY_BASIS: 0.6 }, tables: {} };


describe.runIf(HAVE_SOCAT)('npm run flash against an emulated qsrc on a pseudo-terminal', () => {
  let h: HostedEmulator;
  beforeAll(async () => {
    h = await hostOnPty('qsrc', { seed: 3 });
    installImage(h.emulator, 0, configToImage(OLD, schema, 7));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses an out-of-range config naming the key path (nothing reaches the board, its flash is byte-identical); --help documents exit codes; a script without --yes is refused', async () => {
    const before = snapshot(h);
    const rx = h.emulator.stats.rxBytes;
    // Three processes at once: none of them may talk to the board.
    const [r, help, noYes] = await Promise.all([
      runFlash(['--board', 'qsrc', '--port', h.address, '--config', join(ROOT, 'boards/config/examples/qsrc-out-of-range.yaml'), '--yes']),
      runFlash(['--help']),
      runFlash(['--board', 'qsrc', '--port', h.address, '--config', join(ROOT, 'boards/config/examples/qsrc.yaml')]),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused, nothing sent/);
    expect(r.stderr).toMatch(/parameters\.MU_SIGNAL: 2\.5 outside the allowed range 0\.\.2/);
    expect(r.stderr).toMatch(/tables\.pattern\[2\]/);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/0 {2}done/);
    expect(help.stdout).toMatch(/1 {2}flash failed with the board still on its previous config/);
    expect(help.stdout).toMatch(/2 {2}usage or validation error/);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    expect(h.emulator.stats.rxBytes).toBe(rx);
    expect(snapshot(h)).toEqual(before);
  });

  it('--dry-run shows the parameter diff and writes nothing', async () => {
    const before = snapshot(h);
    const r = await runFlash(['--board', 'qsrc', '--port', h.address, '--config', join(ROOT, 'boards/config/examples/qsrc.yaml'), '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/boots bank A \(active\), generation 7/);
    expect(r.stdout).toMatch(/parameters\.MU_SIGNAL\s+0\.7\s+->\s+0\.6/);
    expect(r.stdout).toMatch(/parameters\.P_KEY_BASIS\s+0\.6\s+->\s+0\.8/);
    expect(r.stdout).toMatch(/would write bank B: \d+ bytes, generation 8; nothing was written/);
    expect(snapshot(h)).toEqual(before);
  });

  it('writes, verifies and switches; --verify-only then matches; a config for another board is refused naming both ids', async () => {
    const r = await runFlash(['--board', 'qsrc', '--port', h.address, '--config', join(ROOT, 'boards/config/examples/qsrc.yaml'), '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/flashed qsrc on port \/dev\/pts\/\d+: generation 7 \(bank A\) -> generation 8 \(bank B\); \d+ bytes .*CRC-32C 0x[0-9a-f]{8} verified/);
    expect(r.stdout).toMatch(/board boots bank B \(active\), generation 8/);
    expect(r.stderr).toMatch(/flash: write 100%/); // plain progress lines: stderr is not a TTY
    const boot = bootOfEmulator(h.emulator, schema);
    expect(boot).toMatchObject({ bank: 1, header: { generation: 8 } });

    const v = await runFlash(['--board', 'qsrc', '--port', h.address, '--config', join(ROOT, 'boards/config/examples/qsrc.yaml'), '--verify-only']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/runs exactly/);

    const apt = join(dir, 'apt.json');
    writeFileSync(apt, JSON.stringify({ board: 'apt', parameters: { FSM_KP: 0.4 } }));
    const before = snapshot(h);
    const w = await runFlash(['--board', 'apt', '--port', h.address, '--config', apt, '--yes']);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/board id 0x5101 \(qsrc\).*apt \(board id 0x5102\)/);
    expect(snapshot(h)).toEqual(before);
  });

  it('power cut mid-flash over the pty (SIM POWER_LOSS at a received byte): old config before the switch, new after', async () => {
    const clock = new WallClock();
    const line = new SerialTransport({ path: h.address, baudRate: 921_600 });
    await line.open();
    const driver = new BoardDriver(h.emulator.def, new FrameLink(line, clock), { clock, timeoutMs: 150, retries: 1 });
    const big: BoardConfig = { ...OLD, parameters: { MU_SIGNAL: 0.5 }, tables: { pattern: Array.from({ length: 900 }, (_, i) => (['signal', 'decoy', 'vacuum'] as const)[i % 3]) } };
    try {
      const results: string[] = [];
      // Long off: the flasher gives up, the board still boots the generation it had. Short off: retries meet the rebooted board.
      for (const [afterRxBytes, offMs] of [
        [3000, 60_000],
        [5000, 30],
      ] as const) {
        const genBefore = bootOfEmulator(h.emulator, schema).header!.generation;
        const bankBefore = h.emulator.flash.activeBank;
        await driver.sim({ kind: 'POWER_LOSS', afterRxBytes, offMs });
        let outcome: string;
        try {
          const r = await flashConfig(driver, schema, big, { clock, baud: 921_600 });
          outcome = `ok ${r.newGeneration}`;
        } catch (e) {
          if (!(e instanceof FlashError)) throw e;
          outcome = e.outcome;
        }
        h.emulator.powerOn();
        const boot = bootOfEmulator(h.emulator, schema);
        expect(boot.image, boot.reason).not.toBeNull();
        const switched = h.emulator.flash.activeBank !== bankBefore;
        expect(boot.header!.generation).toBe(switched ? genBefore + 1 : genBefore);
        if (outcome === 'previous') expect(switched).toBe(false);
        if (outcome.startsWith('ok')) expect(switched).toBe(true);
        results.push(outcome);
      }
      expect(results[0]).toBe('previous');
      expect(results[1]).toMatch(/^ok/);
      expect(h.emulator.stats.powerCuts).toBeGreaterThanOrEqual(2);
    } finally {
      driver.close();
      await line.close();
    }
  });
});
