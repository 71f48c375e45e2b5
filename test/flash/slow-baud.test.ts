import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostOnPty } from '../../hil/emulator-host.ts';
import { bootOfEmulator, installImage } from '../../hil/flash/emulated-boot.ts';
import { configToImage } from '../../hil/flash/image.ts';
import { type BoardConfig, configSchema, loadConfigText } from '../../hil/flash/schema.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { runScriptAsync } from '../cli/run.ts';
import { toolTier } from '../tiers.ts';

/**
 * Issue 11 item 12: `flash --verify-only --baud 38400` timed out, because request
 * timeouts were fixed (200 ms for qsrc) while a 2 KiB MEM_READ alone takes 530 ms of
 * wire at 38400 baud. The emulator on the pty paces its output at its baud rate, so
 * these runs take the wire time a real UART would. `npm run flash` runs as its own
 * process; the emulator lives here so its flash can be inspected.
 */
const HAVE_SOCAT = toolTier('flash at slow line rates (pseudo-terminal tier)', ['socat'], socatAvailable());
const ROOT = new URL('../../', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'boards/config/examples/qsrc.yaml');
const schema = configSchema('qsrc');
const dir = mkdtempSync(join(tmpdir(), 'slow-baud-'));
const STATES = ['signal', 'decoy', 'vacuum'] as const;

/** The example parameters with a calibration pattern of `slots` entries (about 12 image bytes each). */
function bigConfig(slots: number, salt: number): { config: BoardConfig; file: string } {
  const base = loadConfigText(readFileSync(EXAMPLE, 'utf8'), EXAMPLE, schema);
  const config: BoardConfig = { ...base, tables: { pattern: Array.from({ length: slots }, (_, i) => STATES[(i * 7 + salt + (i >> 2)) % 3]) } };
  const file = join(dir, `qsrc-${slots}-${salt}.json`);
  writeFileSync(file, JSON.stringify({ board: 'qsrc', configVersion: 1, parameters: config.parameters, tables: config.tables }));
  return { config, file };
}

const runFlash = (args: string[]) => runScriptAsync('flash', args);


describe.runIf(HAVE_SOCAT)('flash at slow line rates over a pseudo-terminal', () => {
  it('38400 baud: --verify-only of a 7 KiB image matches, a flash of another confirms, and --verify-only then matches it', async () => {
    const h = await hostOnPty('qsrc', { seed: 4, baud: 38_400 });
    try {
      const old = bigConfig(600, 1);
      installImage(h.emulator, 0, configToImage(old.config, schema, 7));
      const v = await runFlash(['--board', 'qsrc', '--port', h.address, '--config', old.file, '--verify-only', '--baud', '38400']);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      expect(v.stdout).toMatch(/runs exactly/);

      const next = bigConfig(600, 2);
      const f = await runFlash(['--board', 'qsrc', '--port', h.address, '--config', next.file, '--yes', '--baud', '38400']);
      expect(f.code, f.stdout + f.stderr).toBe(0);
      expect(f.stdout).toMatch(/generation 7 \(bank A\) -> generation 8 \(bank B\); \d{4} bytes/);
      expect(bootOfEmulator(h.emulator, schema)).toMatchObject({ bank: 1, header: { generation: 8 } });
      const v2 = await runFlash(['--board', 'qsrc', '--port', h.address, '--config', next.file, '--verify-only', '--baud', '38400']);
      expect(v2.code, v2.stdout + v2.stderr).toBe(0);
    } finally {
      await h.close();
    }
  }, 90_000);

  it('9600 baud: --verify-only of a 7 KiB image matches, and finds a difference when there is one', async () => {
    const h = await hostOnPty('qsrc', { seed: 5, baud: 9600 });
    try {
      const old = bigConfig(600, 3);
      installImage(h.emulator, 0, configToImage(old.config, schema, 7));
      const v = await runFlash(['--board', 'qsrc', '--port', h.address, '--config', old.file, '--verify-only', '--baud', '9600']);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      expect(v.stdout).toMatch(/runs exactly/);
      const other = await runFlash(['--board', 'qsrc', '--port', h.address, '--config', bigConfig(600, 4).file, '--verify-only', '--baud', '9600']);
      expect(other.code, other.stdout + other.stderr).toBe(1);
      expect(other.stdout).toMatch(/MISMATCH/);
      expect(other.stdout).toMatch(/tables\.pattern/);
    } finally {
      await h.close();
    }
  }, 90_000);
});
