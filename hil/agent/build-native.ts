import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_DIR, GENERATED_DIR } from './gen.ts';

/**
 * Builds the native (host) board agent with the host C compiler: the portable core
 * (boards/agent/src), every generated board and the POSIX port into one executable that
 * serves the board named by --board. `sanitize` adds AddressSanitizer and UBSan (tests).
 */
export const NATIVE_BUILD_DIR = join(AGENT_DIR, '..', '..', 'build', 'agent', 'native');

export class AgentBuildError extends Error {
  override readonly name = 'AgentBuildError';
}

export const WARNINGS = ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic'];

/** Path of the native agent executable (sanitized builds are kept apart). */
export function nativeAgentPath(sanitize = false): string {
  return join(NATIVE_BUILD_DIR, sanitize ? 'agent-sanitized' : 'agent');
}

function sources(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(dir, f));
}

function allSources(): string[] {
  const inc = join(AGENT_DIR, 'include');
  return [
    ...sources(join(AGENT_DIR, 'src')),
    ...readdirSync(join(AGENT_DIR, 'src')).filter((f) => f.endsWith('.h')).map((f) => join(AGENT_DIR, 'src', f)),
    ...readdirSync(inc).map((f) => join(inc, f)),
    ...readdirSync(GENERATED_DIR).map((f) => join(GENERATED_DIR, f)),
    join(AGENT_DIR, 'port', 'posix', 'main.c'),
  ];
}

/** The executable, built first when missing or older than any of its sources. */
export function ensureNativeAgent(sanitize = false): string {
  const exe = nativeAgentPath(sanitize);
  if (existsSync(exe)) {
    const built = statSync(exe).mtimeMs;
    if (allSources().every((f) => statSync(f).mtimeMs <= built)) return exe;
  }
  return buildNativeAgent({ sanitize });
}

export function buildNativeAgent(opts: { sanitize?: boolean; cc?: string } = {}): string {
  const out = nativeAgentPath(opts.sanitize);
  mkdirSync(NATIVE_BUILD_DIR, { recursive: true });
  const cc = opts.cc ?? process.env.CC ?? 'cc';
  const flags = [
    ...WARNINGS,
    ...(opts.sanitize ? ['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'] : ['-O2']),
    `-I${join(AGENT_DIR, 'include')}`,
    `-I${join(AGENT_DIR, 'src')}`,
    `-I${GENERATED_DIR}`,
  ];
  const files = [...sources(join(AGENT_DIR, 'src')), ...sources(GENERATED_DIR), join(AGENT_DIR, 'port', 'posix', 'main.c')];
  const r = spawnSync(cc, [...flags, ...files, '-o', out], { encoding: 'utf8' });
  if (r.error) throw new AgentBuildError(`cannot run the C compiler '${cc}' (apt-get install gcc libc6-dev): ${r.error.message}`);
  if (r.status !== 0) throw new AgentBuildError(`${cc} failed (exit ${r.status}):\n${r.stderr.trim()}`);
  return out;
}
