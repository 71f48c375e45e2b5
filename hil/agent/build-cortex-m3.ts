import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BOARD_NAMES, type BoardName } from '../../boards/definitions.ts';
import { AgentBuildError, WARNINGS } from './build-native.ts';
import { AGENT_DIR } from './gen.ts';

/**
 * The Cortex-M3 build of the board agent (`npm run agent -- build cortex-m3`): the
 * portable core (boards/agent/src), a board's generated description
 * (boards/agent/generated/<board>.h/.c) and the QEMU mps2-an385 port
 * (boards/agent/port/cortex-m3), cross-compiled with Debian's arm-none-eabi-gcc into
 * build/agent/cortex-m3/<board>.elf, one per board.
 */

export const CORTEX_M3_TOOLS = ['arm-none-eabi-gcc', 'arm-none-eabi-size'] as const;

/** Is the cross toolchain on PATH (Debian's gcc-arm-none-eabi, libnewlib-arm-none-eabi)? */
export function cortexM3ToolchainAvailable(): boolean {
  return CORTEX_M3_TOOLS.every((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0);
}

const PORT = 'boards/agent/port/cortex-m3';
const REPO_ROOT = join(AGENT_DIR, '..', '..');

/** The native build's warnings; -Os for size; no start files (startup.c is the reset path); newlib-nano only for string.h. */
export const CORTEX_M3_CFLAGS = [
  '-mcpu=cortex-m3',
  '-mthumb',
  '-Os',
  ...WARNINGS,
  '-ffreestanding',
  '-ffunction-sections',
  '-fdata-sections',
  '-nostartfiles',
  '--specs=nano.specs',
] as const;

export function cortexM3ElfPath(root: string, board: BoardName): string {
  return join(root, 'build', 'agent', 'cortex-m3', `${board}.elf`);
}

/** The C symbol of a board's generated description, and its header (boards/agent/generated/). */
function boardSymbol(board: BoardName): { symbol: string; header: string } {
  return { symbol: `agent_board_${board}`, header: `${board}.h` };
}

const list = (root: string, dir: string, ext: RegExp) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((f) => ext.test(f))
        .sort()
        .map((f) => join(root, dir, f))
    : [];

/**
 * What the ELF of `board` is made from: `common`, the sources that do not depend on the
 * board (the core and the port but main.c), compiled once for every board; `own`, main.c
 * and the board's generated .c; `all`, every input including headers and the linker script.
 */
function inputs(root: string, board: BoardName): { common: string[]; own: string[]; all: string[] } {
  const generated = join(root, 'boards/agent/generated');
  const boardFiles = [`${board}.c`, `${board}.h`].map((f) => join(generated, f)).filter((f) => existsSync(f));
  const main = join(root, PORT, 'main.c');
  const common = [...list(root, 'boards/agent/src', /\.c$/), ...list(root, PORT, /\.c$/).filter((f) => f !== main)];
  const own = [main, ...boardFiles.filter((f) => f.endsWith('.c'))];
  const all = [...common, ...own, ...list(root, 'boards/agent/src', /\.h$/), ...list(root, 'boards/agent/include', /\.h$/), ...list(root, PORT, /\.(h|ld)$/), ...boardFiles];
  return { common, own, all };
}

export interface CortexM3Build {
  board: BoardName;
  elf: string;
}

function gcc(root: string, args: string[], what: string): void {
  const r = spawnSync('arm-none-eabi-gcc', args, { cwd: root, encoding: 'utf8' });
  if (r.error) throw new AgentBuildError(`cannot run arm-none-eabi-gcc: ${r.error.message}`);
  if (r.status !== 0) throw new AgentBuildError(`arm-none-eabi-gcc failed for ${what}:\n${(r.stderr || r.stdout).trim()}`);
}

/** Builds the ELF of each board; throws AgentBuildError with the compiler's message. */
export function buildCortexM3(root: string = REPO_ROOT, boards: readonly BoardName[] = BOARD_NAMES): CortexM3Build[] {
  if (!cortexM3ToolchainAvailable()) throw new AgentBuildError(`the cortex-m3 build needs ${CORTEX_M3_TOOLS.join(' and ')} (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)`);
  const out = join(root, 'build', 'agent', 'cortex-m3');
  // Objects in a folder of this process's own and each ELF renamed into place: suite files
  // running in parallel may build the same stale ELF at once without reading a half-written one.
  const objDir = join(out, `obj-${process.pid}`);
  mkdirSync(objDir, { recursive: true });
  const includes = ['boards/agent/include', 'boards/agent/src', 'boards/agent/generated', PORT].flatMap((d) => ['-I', join(root, d)]);
  for (const board of boards) {
    if (!existsSync(join(root, 'boards/agent/generated', boardSymbol(board).header))) throw new AgentBuildError(`boards/agent/generated/${board}.h is missing: run npm run agent -- gen`);
  }
  try {
    // The board-independent objects once (the CRC table alone takes seconds to compile).
    const objects = inputs(root, boards[0] ?? BOARD_NAMES[0]).common.map((src) => {
      const obj = join(objDir, `${src.slice(root.length).replace(/^\/+/, '').replace(/[/\\]/g, '_')}.o`);
      gcc(root, [...CORTEX_M3_CFLAGS, ...includes, '-c', src, '-o', obj], src.slice(root.length + 1));
      return obj;
    });
    return boards.map((board) => {
      const { symbol, header } = boardSymbol(board);
      const elf = cortexM3ElfPath(root, board);
      const tmp = join(objDir, `${board}.elf`);
      gcc(root, [...CORTEX_M3_CFLAGS, ...includes, `-DAGENT_BOARD=${symbol}`, `-DAGENT_BOARD_HEADER="${header}"`, '-T', join(root, PORT, 'mps2-an385.ld'), '-Wl,--gc-sections', ...inputs(root, board).own, ...objects, '-o', tmp], board);
      renameSync(tmp, elf);
      return { board, elf };
    });
  } finally {
    rmSync(objDir, { recursive: true, force: true });
  }
}

/** The ELF of `board`, rebuilt first when it is missing or older than any of its inputs. */
export function ensureCortexM3Elf(root: string, board: BoardName): string {
  const elf = cortexM3ElfPath(root, board);
  const built = existsSync(elf) ? statSync(elf).mtimeMs : -1;
  if (built < 0 || inputs(root, board).all.some((f) => statSync(f).mtimeMs > built)) buildCortexM3(root, [board]);
  return elf;
}

/** Section sizes as arm-none-eabi-size (Berkeley format) counts them, bytes. */
export interface ElfSize {
  text: number;
  data: number;
  bss: number;
}

export function elfSize(elf: string): ElfSize {
  const r = spawnSync('arm-none-eabi-size', [elf], { encoding: 'utf8' });
  if (r.status !== 0) throw new AgentBuildError(`arm-none-eabi-size ${elf} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return parseSizeOutput(r.stdout, elf);
}

/**
 * Parses arm-none-eabi-size's Berkeley output:
 *    text    data     bss     dec     hex filename
 *    9632      12    2340   11984    2ed0 build/agent/cortex-m3/apt.elf
 */
export function parseSizeOutput(text: string, what: string): ElfSize {
  const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s+[0-9a-f]+\s+/m.exec(text.split('\n').slice(1).join('\n'));
  if (!m) throw new AgentBuildError(`cannot read the sizes of ${what} from arm-none-eabi-size: ${JSON.stringify(text.slice(0, 200))}`);
  return { text: Number(m[1]), data: Number(m[2]), bss: Number(m[3]) };
}
