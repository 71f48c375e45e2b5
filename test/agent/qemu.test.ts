import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BOARD_NAMES, configFlash, loadBoardDefinition } from '../../boards/definitions.ts';
import { buildCortexM3, cortexM3ToolchainAvailable, elfSize, ensureCortexM3Elf, parseSizeOutput } from '../../hil/agent/build-cortex-m3.ts';
import { parsePtyLine, qemuAvailable, startQemuAgent } from '../../hil/agent/qemu-host.ts';
import { Bench } from '../../hil/bench/bench.ts';
import { BenchConfigError, parseBenchConfig } from '../../hil/bench/config.ts';
import { BoardError } from '../../hil/errors.ts';
import { packFwVersion, packHwVersion } from '../../protocols/board-link.ts';
import { crc32c } from '../../protocols/crc.ts';
import { ROOT, runScriptAsync } from '../cli/run.ts';
import { toolTier } from '../tiers.ts';
import { config } from '../bench/helpers.ts';

describe('QEMU host and Cortex-M3 build: parsing', () => {
  it("finds the pty in QEMU's redirect line, and nothing in other output", () => {
    expect(parsePtyLine('char device redirected to /dev/pts/7 (label serial0)\n')).toBe('/dev/pts/7');
    expect(parsePtyLine('QEMU 7.2 monitor\nchar device redirected to /dev/pts/12 (label serial0)')).toBe('/dev/pts/12');
    expect(parsePtyLine('char device redirected to /dev/pts/3 (label serial1)')).toBeNull();
    expect(parsePtyLine('qemu-system-arm: -kernel x.elf: could not load kernel')).toBeNull();
  });

  it('reads text, data and bss back from any arm-none-eabi-size line (property)', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(u32, u32, u32, fc.stringMatching(/^[\w./-]{1,40}$/), (text, data, bss, file) => {
        const dec = text + data + bss;
        const out = `   text\t   data\t    bss\t    dec\t    hex\tfilename\n${text}\t${data}\t${bss}\t${dec}\t${dec.toString(16)}\t${file}\n`;
        expect(parseSizeOutput(out, file)).toEqual({ text, data, bss });
      }),
      { seed: 17, numRuns: 200 },
    );
  });

  it('refuses size output it cannot read, naming the file', () => {
    expect(() => parseSizeOutput('arm-none-eabi-size: x.elf: file format not recognized\n', 'x.elf')).toThrow(/cannot read the sizes of x\.elf/);
  });

  it('bench mode "qemu" takes an optional baud and nothing else', () => {
    expect(parseBenchConfig({ name: 'q', boards: { apt: { mode: 'qemu' } } }, 'q.json').boards.apt).toEqual({ mode: 'qemu' });
    expect(parseBenchConfig({ name: 'q', boards: { apt: { mode: 'qemu', baud: 921600 } } }, 'q.json').boards.apt).toEqual({ mode: 'qemu', baud: 921600 });
    expect(() => parseBenchConfig({ name: 'q', boards: { apt: { mode: 'qemu', path: '/dev/ttyUSB0' } } }, 'q.json')).toThrow(BenchConfigError);
    expect(() => parseBenchConfig({ name: 'q', boards: { apt: { mode: 'qemu', path: '/dev/ttyUSB0' } } }, 'q.json')).toThrow(/boards\.apt.*path|path.*boards\.apt|Unrecognized key.*path/s);
  });
});

/**
 * The Cortex-M3 tier: the agent cross-built with arm-none-eabi-gcc and run in QEMU's
 * mps2-an385. Never skipped silently: without the tools the tier is reported skipped by
 * name, and under CI (where .ci/run installs them) it fails.
 */
const HAVE_TOOLS = toolTier('Cortex-M3 agent under QEMU tier', ['arm-none-eabi-gcc', 'qemu-system-arm'], cortexM3ToolchainAvailable() && qemuAvailable());

describe.runIf(HAVE_TOOLS)('Cortex-M3 agent under QEMU (arm-none-eabi-gcc, qemu-system-arm)', () => {
  it('builds one ELF per board with code and RAM', () => {
    const built = buildCortexM3(ROOT);
    expect(built.map((b) => b.board)).toEqual([...BOARD_NAMES]);
    for (const b of built) {
      expect(b.elf).toBe(join(ROOT, 'build', 'agent', 'cortex-m3', `${b.board}.elf`));
      const s = elfSize(b.elf);
      expect(s.text).toBeGreaterThan(1000);
      expect(s.data + s.bss).toBeGreaterThan(0);
    }
    // Up to date: asking for the ELF again does not rebuild it.
    const before = statSync(built[0].elf).mtimeMs;
    expect(ensureCortexM3Elf(ROOT, built[0].board)).toBe(built[0].elf);
    expect(statSync(built[0].elf).mtimeMs).toBe(before);
  });

  it('a QEMU that cannot start fails naming the board and what QEMU said', async () => {
    const err = await startQemuAgent(ROOT, 'lct', { elf: join(tmpdir(), 'no-such-agent.elf') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardError);
    expect(err).toMatchObject({ code: 'PORT_OPEN_FAILED', board: 'lct' });
    expect((err as Error).message).toMatch(/^board lct on qemu mps2-an385: qemu-system-arm exited \(1\): .*no-such-agent\.elf/s);
  });

  it('answers as the board its definition says; keeps its flash across RESET (SYSRESETREQ) with the reset counter up and RAM cleared; refuses SIM', async () => {
    const bench = await Bench.open(config({ apt: { mode: 'qemu' } }, { stream: false }), { seed: 1, runName: 'qemu-apt', capture: false });
    try {
      const apt = bench.board('apt');
      const def = loadBoardDefinition('apt');
      expect(apt.port).toMatch(/^port \/dev\/pts\/\d+$/);
      const id = await apt.driver.identify();
      expect(id).toMatchObject({ name: 'apt', boardId: def.identity.boardId, hwVersion: packHwVersion(def.identity.hwVersion), fwVersion: packFwVersion(def.identity.fwVersion), emulated: false });
      expect(bench.clock.kind).toBe('wall');

      // 2 KiB in one MEM_WRITE: far more than the port's 128-byte receive ring holds, so the
      // UART's hold-back path carries part of it; the board's CRC of what it now holds must match.
      const bankB = configFlash(def).bankBase(1);
      const image = Uint8Array.from({ length: 2048 }, (_, i) => (i * 37 + 11) & 0xff);
      await apt.driver.memErase(bankB, 2048);
      await apt.driver.memWrite(bankB, image);
      expect(await apt.driver.memCrc(bankB, image.length)).toBe(crc32c(image));
      const sram = def.memory.find((m) => m.kind === 'ram')!;
      await apt.driver.memWrite(sram.base, Uint8Array.of(1, 2, 3, 4));
      await apt.write({ CAM_EXPOSURE_US: 500 });
      const resets = await apt.driver.readReg('RESET_COUNT');

      await apt.reset();
      // Back from a system reset: registers at their reset values, uptime from zero again.
      expect(await apt.driver.readReg('RESET_COUNT')).toBe(resets + 1);
      expect(await apt.driver.readReg('CAM_EXPOSURE_US')).toBe(1000);
      expect(await apt.driver.readReg('UPTIME_MS')).toBeLessThan(2000);
      expect([...(await apt.driver.memRead(bankB, image.length))]).toEqual([...image]);
      expect([...(await apt.driver.memRead(sram.base, 4))]).toEqual([0, 0, 0, 0]);

      await expect(apt.beacon(10, 10)).rejects.toThrow(BoardError);
      await expect(apt.beacon(10, 10)).rejects.toMatchObject({ code: 'NOT_EMULATED' });
    } finally {
      await bench.close();
    }
  });

  it('`npm run hil -- --bench hil/benches/qemu.json apt boards` passes; emulator-only tests are skipped with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-qemu-'));
    const r = await runScriptAsync('hil', ['--bench', 'hil/benches/qemu.json', '--report-dir', dir, 'apt', 'boards']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
    const suites = [...xml.matchAll(/<testsuite name="hil\/suites\/([a-z-]+)\.hil\.ts"[^>]*tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/g)].map((m) => ({ suite: m[1], tests: +m[2], failures: +m[3], errors: +m[4], skipped: +m[5] }));
    expect(suites.map((s) => s.suite).sort()).toEqual(['apt', 'boards']);
    for (const s of suites) expect(s.failures + s.errors).toBe(0);
    // apt's identity and register tests run on the agent; boards' tests all need an emulator or hardware.
    const apt = suites.find((s) => s.suite === 'apt')!;
    expect(apt.tests - apt.skipped).toBeGreaterThanOrEqual(2);
    // Every skip says why: simulation control, or no hardware behind the agent's registers.
    const out = `${r.stdout}\n${r.stderr}`;
    const skips = out.split('\n').filter((l) => /^\s*skip\s/.test(l));
    expect(skips.length).toBeGreaterThan(0);
    for (const l of skips) expect(l).toMatch(/needs emulated boards \(simulation control\)|needs hardware or an emulator behind the registers/);
  }, 240_000);
});
