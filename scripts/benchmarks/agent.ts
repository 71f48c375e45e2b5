/**
 * npm run bench -- agent: the board agent's size and speed (docs/agent.md).
 *  - textBytes / ramBytes: the Cortex-M3 build per board, as arm-none-eabi-size counts it
 *    (text; data + bss), with the largest over the boards as textBytes / ramBytes. The
 *    config flash and the definition's scratch sram the agent serves are not in ramBytes:
 *    on QEMU they are in PSRAM outside the image, on a real MCU flash and its own RAM.
 *  - roundTripUsAgent / roundTripUsEmulator: median round trip of a one-register READ_REGS
 *    on a pty at 921600 baud, through the native agent and through the TypeScript emulator
 *    in its own process (`npm run emulate`); roundTripUsQemu the same through the
 *    Cortex-M3 agent in QEMU (an emulated core: for scale, not a real MCU's speed).
 */
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WallClock } from '../../boards/clock.ts';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { buildCortexM3, cortexM3ToolchainAvailable, elfSize } from '../../hil/agent/build-cortex-m3.ts';
import { startNativeAgent } from '../../hil/agent/native-host.ts';
import { qemuAvailable, startQemuAgent } from '../../hil/agent/qemu-host.ts';
import { spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { FrameLink } from '../../hil/framing.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { SerialTransport } from '../../hil/transport/serial.ts';
import type { Benchmark, Figure } from './types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BAUD = 921_600;
const BOARD = 'qsrc';
const WARMUP = 20;
const SAMPLES = 300;
const TEXT_GOAL = 16 * 1024;
const RAM_GOAL = 4 * 1024;

const capital = (s: string) => s[0].toUpperCase() + s.slice(1);

function sizeFigures(progress: (m: string) => void): Figure[] {
  if (!cortexM3ToolchainAvailable()) throw new Error('agent benchmark needs arm-none-eabi-gcc (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)');
  progress('building the Cortex-M3 agent for every board');
  const sizes = buildCortexM3(root).map((b) => {
    const s = elfSize(b.elf);
    return { board: b.board, text: s.text, ram: s.data + s.bss };
  });
  const perBoard = sizes.flatMap((s) => [
    { key: `textBytes${capital(s.board)}`, label: `Cortex-M3 code, ${s.board}`, value: s.text, unit: 'bytes', target: `<= ${TEXT_GOAL}` },
    { key: `ramBytes${capital(s.board)}`, label: `Cortex-M3 RAM (data + bss), ${s.board}`, value: s.ram, unit: 'bytes', target: `<= ${RAM_GOAL}` },
  ]);
  return [
    { key: 'textBytes', label: 'Cortex-M3 code, largest board', value: Math.max(...sizes.map((s) => s.text)), unit: 'bytes', target: `<= ${TEXT_GOAL}` },
    { key: 'ramBytes', label: 'Cortex-M3 RAM (data + bss), largest board', value: Math.max(...sizes.map((s) => s.ram)), unit: 'bytes', target: `<= ${RAM_GOAL}` },
    ...perBoard,
  ];
}

/** Median one-register READ_REGS round trip on the serial device `path`, µs. */
async function roundTripUs(path: string): Promise<number> {
  const def = loadBoardDefinition(BOARD);
  const clock = new WallClock();
  const line = new SerialTransport({ path, baudRate: BAUD });
  await line.open();
  const link = new FrameLink(line, clock);
  const driver = new BoardDriver(def, link, { clock, timeoutMs: 500, retries: 2, baud: BAUD });
  try {
    await driver.verifyIdentity();
    for (let i = 0; i < WARMUP; i++) await driver.read('UPTIME_MS');
    const us: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      await driver.read('UPTIME_MS');
      us.push((performance.now() - t0) * 1000);
    }
    us.sort((a, b) => a - b);
    return us[Math.floor(us.length / 2)];
  } finally {
    driver.close();
    await line.close();
  }
}

async function withChild<T>(start: Promise<{ address: string; child: ChildProcess }>, run: (address: string) => Promise<T>): Promise<T> {
  const { address, child } = await start;
  try {
    return await run(address);
  } finally {
    await stopChild(child);
  }
}

const bench: Benchmark = async (ctx) => {
  const figures = sizeFigures(ctx.progress);
  if (!socatAvailable()) throw new Error('agent benchmark needs socat for the pseudo-terminals (apt-get install socat)');
  ctx.progress(`${BOARD}: native agent on a pty at ${BAUD} baud, ${SAMPLES} reads`);
  const native = await startNativeAgent(BOARD);
  try {
    figures.push({ key: 'roundTripUsAgent', label: `register round trip, native agent, ${BAUD} baud pty, median`, value: await roundTripUs(native.address), unit: 'us' });
  } finally {
    await native.close();
  }
  ctx.progress(`${BOARD}: TypeScript emulator process on a pty at ${BAUD} baud, ${SAMPLES} reads`);
  const emulator = await withChild(spawnEmulatorProcess(root, BOARD, { seed: 1, baud: BAUD }), roundTripUs);
  figures.push({ key: 'roundTripUsEmulator', label: `register round trip, TypeScript emulator, ${BAUD} baud pty, median`, value: emulator, unit: 'us' });
  if (qemuAvailable()) {
    ctx.progress(`${BOARD}: Cortex-M3 agent in QEMU ${SAMPLES} reads`);
    const q = await startQemuAgent(root, BOARD);
    try {
      figures.push({ key: 'roundTripUsQemu', label: 'register round trip, Cortex-M3 agent in QEMU (emulated core), pty, median', value: await roundTripUs(q.address), unit: 'us' });
    } finally {
      await q.close();
    }
  } else ctx.progress('qemu-system-arm not installed: roundTripUsQemu left out');
  return figures;
};
export default bench;
