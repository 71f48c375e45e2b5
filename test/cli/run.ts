import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs one of scripts/*.ts as a real process, as `npm run` would. */
export function runScript(script: string, args: string[], input?: Uint8Array | string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The same without blocking this event loop: for tests whose board emulator lives in
 * the test process (a blocked loop would leave the CLI's requests unanswered).
 */
export function runScriptAsync(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export const jsonLines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * A line a Node process prints when an error escapes: a stack frame ("    at f (file:1:2)"),
 * node's internals, the uncaught-exception banner, or a line starting "XxxError: ".
 * CLIs answer bad input in one line of their own ("error: ...", lower case), never this.
 */
export const STACK_LINE = /^\s+at .+(:\d+|\))$|node:internal|triggerUncaughtException|^\w*Error: /m;
