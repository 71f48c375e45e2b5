import { describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import { createEmulator } from '../../boards/emulator/index.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { FrameLink } from '../../hil/framing.ts';
import { emulatorTransport } from '../../hil/transport/memory.ts';
import { formatDiff } from '../../hil/flash/diff.ts';
import { bootOfEmulator, installImage } from '../../hil/flash/emulated-boot.ts';
import { dryRun, FlashError, flashConfig, verifyOnly } from '../../hil/flash/flasher.ts';
import { configToImage } from '../../hil/flash/image.ts';
import { type BoardConfig, configSchema } from '../../hil/flash/schema.ts';
import { flashSnapshot, simRig } from './harness.ts';

const schema = configSchema('qsrc');
const BAUD = 921_600;
const OLD: BoardConfig = { board: 'qsrc', configVersion: 1, parameters: { MU_SIGNAL: 0.7 }, tables: {} };
const NEW: BoardConfig = { board: 'qsrc', configVersion: 1, parameters: { MU_SIGNAL: 0.6, SOURCE_REP_RATE_MHZ: 500 }, tables: { pattern: Array.from({ length: 700 }, (_, i) => (['signal', 'decoy', 'vacuum'] as const)[i % 3]) } };
const WRITES = ['MEM_WRITE', 'MEM_ERASE', 'WRITE_REGS'];

describe('flashConfig over the board link (in-process emulator)', () => {
  it('writes the inactive bank, verifies, switches, reports old and new generation; the old bank is untouched', async () => {
    const r = await simRig();
    installImage(r.emu, 0, configToImage(OLD, schema, 41));
    const bankA = r.emu.flash.read(r.emu.flash.bankBase(0), r.emu.flash.bankSize);
    const phases: string[] = [];
    const res = await flashConfig(r.driver, schema, NEW, { clock: r.clock, baud: BAUD, onProgress: (p) => phases.push(p.phase) });
    expect(res).toMatchObject({ oldGeneration: 41, newGeneration: 42, oldBank: 0, newBank: 1, blockRetries: 0 });
    expect(res.blocks).toBe(Math.ceil(res.imageBytes / 2048));
    expect(res.confirmed).toMatch(/bank B \(active\), generation 42/);
    expect(r.sent[0]).toBe('IDENTIFY');
    // The bank switch is the last write, after the whole-image CRC check.
    const lastWrite = r.sent.lastIndexOf('WRITE_REGS');
    expect(r.sent.slice(r.sent.lastIndexOf('MEM_WRITE'), lastWrite)).toContain('MEM_CRC');
    expect(r.sent.slice(lastWrite + 1).filter((op) => WRITES.includes(op))).toEqual([]);
    expect([...new Set(phases)]).toEqual(['identify', 'inspect', 'erase', 'write', 'verify', 'switch', 'confirm']);
    expect(r.emu.flash.read(r.emu.flash.bankBase(0), r.emu.flash.bankSize)).toEqual(bankA);
    expect(bootOfEmulator(r.emu, schema).header?.generation).toBe(42);
    // And back: the next flash goes to bank A, generation 43.
    const again = await flashConfig(r.driver, schema, OLD, { clock: r.clock, baud: BAUD });
    expect(again).toMatchObject({ oldGeneration: 42, newGeneration: 43, oldBank: 1, newBank: 0 });
  });

  it('refuses a board with another id, naming both ids, and writes nothing', async () => {
    const clock = new SimClock();
    const apt = createEmulator('apt', { clock });
    const t = emulatorTransport(apt, clock);
    await t.open();
    const driver = new BoardDriver(apt.def, new FrameLink(t, clock), { clock, timeoutMs: 200, retries: 1 });
    const before = flashSnapshot(apt);
    const err = await flashConfig(driver, schema, NEW, { clock, baud: BAUD }).catch((e) => e);
    expect(err).toBeInstanceOf(FlashError);
    expect(err.outcome).toBe('previous');
    expect(err.message).toMatch(/board id 0x5102 \(apt\).*qsrc \(board id 0x5101\)/);
    expect(flashSnapshot(apt)).toEqual(before);
  });

  it('--dry-run shows the diff against what the board runs and sends no write', async () => {
    const r = await simRig();
    installImage(r.emu, 0, configToImage(OLD, schema, 5));
    const before = flashSnapshot(r.emu);
    const d = await dryRun(r.driver, schema, NEW, { clock: r.clock, baud: BAUD });
    expect(r.sent.filter((op) => WRITES.includes(op))).toEqual([]);
    expect(flashSnapshot(r.emu)).toEqual(before);
    expect(d).toMatchObject({ targetBank: 1, newGeneration: 6 });
    const text = formatDiff(d.diff);
    expect(text).toMatch(/parameters\.MU_SIGNAL\s+0\.7\s+->\s+0\.6/);
    expect(text).toMatch(/parameters\.SOURCE_REP_RATE_MHZ\s+625 MHz \(default\)\s+->\s+500 MHz/);
    expect(text).toMatch(/tables\.pattern\s+0 entries\s+->\s+700 entries; 700 slots differ/);
    expect(d.diff.changed).toBe(3);
  });

  it('--verify-only matches exactly what was flashed and names a difference', async () => {
    const r = await simRig();
    await flashConfig(r.driver, schema, NEW, { clock: r.clock, baud: BAUD });
    expect((await verifyOnly(r.driver, schema, NEW, { clock: r.clock, baud: BAUD })).match).toBe(true);
    const v = await verifyOnly(r.driver, schema, { ...NEW, parameters: { ...NEW.parameters, MU_SIGNAL: 0.61 } }, { clock: r.clock, baud: BAUD });
    expect(v.match).toBe(false);
    expect(v.diff.lines.filter((l) => l.kind === 'changed').map((l) => l.path)).toEqual(['parameters.MU_SIGNAL']);
  });

  it('a blank board (safe defaults) gets generation 1; an invalid active bank is first pointed at the bank the board boots', async () => {
    const r = await simRig();
    expect(bootOfEmulator(r.emu, schema).source).toBe('defaults');
    expect(await flashConfig(r.driver, schema, OLD, { clock: r.clock, baud: BAUD })).toMatchObject({ oldGeneration: null, newGeneration: 1 });

    const f = await simRig();
    installImage(f.emu, 1, configToImage(OLD, schema, 9), false);
    f.emu.flash.activeBank = 0; // bank A blank: the board falls back to B
    expect(bootOfEmulator(f.emu, schema).source).toBe('fallback');
    const res = await flashConfig(f.driver, schema, NEW, { clock: f.clock, baud: BAUD });
    expect(res).toMatchObject({ oldBank: 1, newBank: 0, oldGeneration: 9, newGeneration: 10 });
    expect(f.sent.filter((op) => op === 'WRITE_REGS')).toHaveLength(2);
  });

  it('a block the board acknowledges with a wrong CRC is erased and rewritten page by page', async () => {
    const r = await simRig();
    installImage(r.emu, 0, configToImage(OLD, schema, 2));
    // The flash programs one bit wrong, once (a weak cell).
    const program = r.emu.flash.program.bind(r.emu.flash);
    let spoiled = false;
    r.emu.flash.program = (address: number, bytes: Uint8Array, n?: number) => {
      if (!spoiled && bytes.length === 2048) {
        spoiled = true;
        const bad = bytes.slice();
        const i = bad.findIndex((b, k) => k >= 100 && b !== 0);
        bad[i] &= bad[i] - 1; // lowest set bit stuck at 0
        return program(address, bad, n);
      }
      return program(address, bytes, n);
    };
    const lines: string[] = [];
    const res = await flashConfig(r.driver, schema, NEW, { clock: r.clock, baud: BAUD, onProgress: (p) => lines.push(p.message) });
    expect(spoiled).toBe(true);
    expect(res.blockRetries).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/board holds CRC-32C .*page by page/);
    expect(bootOfEmulator(r.emu, schema).header?.generation).toBe(3);
  });
});
