import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BOARD_NAMES } from '../../boards/definitions.ts';

/**
 * Bench configuration (hil/benches/*.json): which boards, and for each how it is
 * reached. Modes:
 *   emulated  in-process emulator on an in-memory line (fast; simulated time possible)
 *   pty       the bench starts an emulator process on a pseudo-terminal (as `npm run emulate`)
 *   port      a serial device path: a real board (/dev/ttyUSB0) or an emulator's pty
 *   tcp       raw TCP (ser2net, board farm, `npm run emulate -- BOARD --tcp PORT`)
 */
const boardName = z.enum(BOARD_NAMES);
const boardConfig = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('emulated'), baud: z.number().int().positive().optional() }).strict(),
  z.object({ mode: z.literal('pty'), baud: z.number().int().positive().optional() }).strict(),
  z.object({ mode: z.literal('port'), path: z.string().min(1), baud: z.number().int().positive().optional() }).strict(),
  z.object({ mode: z.literal('tcp'), host: z.string().default('127.0.0.1'), port: z.number().int().min(1).max(65535) }).strict(),
]);

export const benchConfigSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    /** auto = simulated time when every board is in-process, else wall time. */
    clock: z.enum(['auto', 'sim', 'wall']).default('auto'),
    boards: z.partialRecord(boardName, boardConfig),
    /** Start each board's telemetry stream on connect. */
    stream: z.boolean().default(true),
    /** Per-request timeout and retries; default from each board definition. */
    timeoutMs: z.number().int().positive().optional(),
    retries: z.number().int().min(0).max(10).optional(),
    /** Where capture files go (one per board link per run). */
    captureDir: z.string().default('reports/captures'),
  })
  .strict();

export type BenchConfig = z.infer<typeof benchConfigSchema>;
export type BoardConfig = z.infer<typeof boardConfig>;

export class BenchConfigError extends Error {
  override readonly name = 'BenchConfigError';
}

export function parseBenchConfig(value: unknown, source: string): BenchConfig {
  const r = benchConfigSchema.safeParse(value);
  if (!r.success) {
    throw new BenchConfigError(`${source}: invalid bench config:\n${r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return r.data;
}

export function loadBenchConfig(path: string): BenchConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BenchConfigError(`cannot read bench config ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BenchConfigError(`${path}: not JSON: ${(e as Error).message}`);
  }
  return parseBenchConfig(json, path);
}

/** "apt=/dev/pts/7,qsrc=tcp:127.0.0.1:7001" → per-board overrides (what `npm run hil -- --port` passes on). */
export function applyPortOverrides(cfg: BenchConfig, spec: string | undefined): BenchConfig {
  if (!spec) return cfg;
  const boards = { ...cfg.boards };
  for (const part of spec.split(',').filter(Boolean)) {
    const m = /^([a-z]+)=(.+)$/.exec(part.trim());
    if (!m || !(BOARD_NAMES as readonly string[]).includes(m[1])) throw new BenchConfigError(`bad port override '${part}': use BOARD=/dev/path or BOARD=tcp:HOST:PORT with BOARD one of ${BOARD_NAMES.join(', ')}`);
    const name = m[1] as (typeof BOARD_NAMES)[number];
    const tcp = /^tcp:(.+):(\d+)$/.exec(m[2]);
    boards[name] = tcp ? { mode: 'tcp', host: tcp[1], port: Number(tcp[2]) } : { mode: 'port', path: m[2] };
  }
  return { ...cfg, boards };
}
