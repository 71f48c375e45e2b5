import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BOARD_NAMES } from '../../boards/definitions.ts';
import { rfc2217Spec } from '../transport/rfc2217.ts';
import { tcpSpec } from '../transport/tcp.ts';

/**
 * Bench configuration (hil/benches/*.json): which boards, and for each how it is
 * reached. Modes:
 *   emulated  in-process emulator on an in-memory line (fast; simulated time possible)
 *   pty       the bench starts an emulator process on a pseudo-terminal (as `npm run emulate`)
 *   port      a serial device path: a real board (/dev/ttyUSB0) or an emulator's pty
 *   tcp       raw TCP (ser2net, board farm, `npm run emulate -- BOARD --tcp PORT`)
 *   rfc2217   telnet with RFC 2217 COM-port control (ser2net's telnet(rfc2217), labgrid's
 *             NetworkSerialPort): the bench sets the remote UART to the board's settings
 *             (`baud`, default the board definition's; 8 data bits, its parity and stop bits, no flow control)
 *   qemu      the bench builds the board agent for the Cortex-M3 and runs it in QEMU's mps2-an385,
 *             its UART on a pty (hil/agent/qemu-host.ts; docs/agent.md); a real board to the bench
 *             (wall clock). `baud` is the rate the rig's timeouts assume: QEMU does not pace the pty.
 *   agent     the bench starts the native board agent (boards/agent, built with the host cc) on a
 *             pty, its flash in memory (hil/agent/native-host.ts; docs/agent.md): a real board to
 *             the bench (wall clock; IDENTIFY says emulated=false, so emulator-only tests skip).
 *             `sanitize`: the AddressSanitizer/UBSan build (what the tests use).
 */
const boardName = z.enum(BOARD_NAMES);
const boardConfig = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('emulated'), baud: z.number().int().positive().optional() }).strict(),
  z.object({ mode: z.literal('pty'), baud: z.number().int().positive().optional() }).strict(),
  z.object({ mode: z.literal('port'), path: z.string().min(1), baud: z.number().int().positive().optional() }).strict(),
  z.object({ mode: z.literal('tcp'), host: z.string().default('127.0.0.1'), port: z.number().int().min(1).max(65535) }).strict(),
  z.object({ mode: z.literal('rfc2217'), host: z.string().default('127.0.0.1'), port: z.number().int().min(1).max(65535), baud: z.number().int().positive().optional() }).strict(),
  z.object({ mode: z.literal('qemu'), baud: z.number().int().positive().optional() }).strict(),
  z.object({ mode: z.literal('agent'), baud: z.number().int().positive().optional(), sanitize: z.boolean().optional() }).strict(),
]);

export const benchConfigSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    /**
     * auto = simulated time when the bench emulates every board itself (modes emulated
     * and pty), else wall time; sim with a real board (port, tcp) is refused.
     */
    clock: z.enum(['auto', 'sim', 'wall']).default('auto'),
    /**
     * On simulated time, boards in processes the bench starts (pty) follow the bench
     * clock in lockstep, and the bench's in-process boards then sit behind the same
     * lockstep host. auto: lockstep only when such a process is on the bench (an
     * all-in-process bench shares one SimClock with its emulators); always: an
     * all-in-process bench uses lockstep hosts too (line timing identical to pty).
     * Default auto.
     */
    lockstep: z.enum(['auto', 'always']).optional(),
    /** Simulated time granted per lockstep STEP, ms. Default 1 (DEFAULT_QUANTUM_MS). */
    lockstepQuantumMs: z.number().positive().optional(),
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

/** Where a board of the config is, for messages: "on /dev/ttyUSB0", "on tcp farm1:7004", "on a pty". */
export function describeBoardLine(bc: BoardConfig): string {
  if (bc.mode === 'port') return `on ${bc.path}`;
  if (bc.mode === 'tcp') return `on ${tcpSpec(bc.host, bc.port)}`;
  if (bc.mode === 'rfc2217') return `on ${rfc2217Spec(bc.host, bc.port)}`;
  if (bc.mode === 'qemu') return 'on QEMU mps2-an385';
  if (bc.mode === 'agent') return 'on a native agent pty';
  return `on a ${bc.mode}`;
}

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


/** A line as `--port` takes it: a serial device path, raw TCP as tcp:HOST:PORT, or RFC 2217 as rfc2217://HOST:PORT. */
export type LineSpec = { mode: 'port'; path: string } | { mode: 'tcp'; host: string; port: number } | { mode: 'rfc2217'; host: string; port: number };

/**
 * Parses one line spec: tcp:HOST:PORT or rfc2217://HOST:PORT (an IPv6 host in brackets) or
 * a device path. A bare HOST:PORT is refused naming the spelling: opened as a device it
 * would fail as a serial port that does not exist, which hides the mistake.
 */
export function parseLineSpec(spec: string): LineSpec {
  if (spec.startsWith('rfc2217:')) {
    const m = /^rfc2217:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})$/.exec(spec);
    if (!m) throw new BenchConfigError(`bad RFC 2217 address '${spec}': write rfc2217://HOST:PORT (e.g. rfc2217://farm1:7001)`);
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new BenchConfigError(`bad RFC 2217 port in '${spec}': must be 1..65535`);
    return { mode: 'rfc2217', host: m[1].replace(/^\[|\]$/g, ''), port };
  }
  const tcp = /^tcp:(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(spec);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535) throw new BenchConfigError(`bad TCP port in '${spec}': must be 1..65535`);
    return { mode: 'tcp', host: tcp[1].replace(/^\[|\]$/g, ''), port };
  }
  if (spec.startsWith('tcp:')) throw new BenchConfigError(`bad TCP address '${spec}': write tcp:HOST:PORT (e.g. tcp:127.0.0.1:7001)`);
  const bare = /^(\[[^\]]+\]|[^/\\:]+):(\d{1,5})$/.exec(spec);
  if (bare) throw new BenchConfigError(`'${spec}' looks like a TCP address: write tcp:${spec} (a bare HOST:PORT would be opened as a serial device)`);
  return { mode: 'port', path: spec };
}

/** "apt=/dev/pts/7,qsrc=tcp:127.0.0.1:7001,lct=rfc2217://farm1:7003" → per-board overrides (what `npm run hil -- --port` passes on). */
export function applyPortOverrides(cfg: BenchConfig, spec: string | undefined): BenchConfig {
  if (!spec) return cfg;
  const boards = { ...cfg.boards };
  for (const part of spec.split(',').filter(Boolean)) {
    const m = /^([a-z]+)=(.+)$/.exec(part.trim());
    if (!m || !(BOARD_NAMES as readonly string[]).includes(m[1])) throw new BenchConfigError(`bad port override '${part}': use BOARD=/dev/path, BOARD=tcp:HOST:PORT or BOARD=rfc2217://HOST:PORT with BOARD one of ${BOARD_NAMES.join(', ')}`);
    const name = m[1] as (typeof BOARD_NAMES)[number];
    try {
      boards[name] = parseLineSpec(m[2]);
    } catch (e) {
      throw new BenchConfigError(`--port ${part}: ${(e as Error).message}`);
    }
  }
  return { ...cfg, boards };
}

/**
 * `--realtime` (npm run hil, npm run pass): the bench on the wall clock with every
 * emulator process free-running (no lockstep), driven exactly as real boards are. An
 * in-process board has no line of its own and the tests that reach into it need
 * simulated time, so a bench with one is refused naming them.
 */
export function applyRealtime(cfg: BenchConfig, realtime: boolean): BenchConfig {
  if (!realtime) return cfg;
  const inProcess = Object.entries(cfg.boards).filter(([, bc]) => bc.mode === 'emulated').map(([n]) => n);
  if (inProcess.length > 0) {
    throw new BenchConfigError(`--realtime drives boards over their lines on the wall clock, as real boards are; bench '${cfg.name}' has ${inProcess.join(', ')} in-process (mode "emulated"): no line of their own, and the tests that reach into them need simulated time. Use a bench of pty, port or tcp boards (hil/benches/pty.json) or put them on lines with --port`);
  }
  const { lockstep: _lockstep, lockstepQuantumMs: _quantum, ...rest } = cfg;
  return { ...rest, clock: 'wall' };
}
