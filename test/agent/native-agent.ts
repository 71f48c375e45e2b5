import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { decodeBoardMessage, type BoardMessage } from '../../protocols/board-link.ts';
import { decodeSerialFrame, DelimitedSplitter } from '../../protocols/serial-frame.ts';

/** Is a host C compiler on PATH? */
export function ccAvailable(): boolean {
  return spawnSync(process.env.CC ?? 'cc', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * The native agent on its stdin/stdout (no pty): bytes in, decoded messages out, its
 * stderr kept (sanitizer reports, the counters it prints at exit).
 */
export class PipedAgent {
  readonly child: ChildProcess;
  readonly messages: BoardMessage[] = [];
  stderr = '';
  private readonly splitter = new DelimitedSplitter();
  private waiters: (() => void)[] = [];

  constructor(exe: string, args: string[]) {
    this.child = spawn(exe, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (b: Buffer) => {
      for (const c of this.splitter.push(new Uint8Array(b))) if (c.length > 0) this.messages.push(decodeBoardMessage(decodeSerialFrame(c)));
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr!.on('data', (b: Buffer) => (this.stderr += b.toString()));
  }

  send(bytes: Uint8Array): void {
    this.child.stdin!.write(bytes);
  }

  /** Waits until `n` messages have arrived in all (fails after timeoutMs). */
  async until(n: number, timeoutMs = 5000): Promise<BoardMessage[]> {
    const t0 = Date.now();
    while (this.messages.length < n) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`agent sent ${this.messages.length} of ${n} messages within ${timeoutMs} ms; stderr: ${this.stderr}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.messages;
  }

  /** Ends input and waits for exit; returns the exit code and the counters it printed. */
  async end(): Promise<{ code: number | null; stats: AgentStats | null }> {
    const exited = new Promise<number | null>((r) => this.child.on('exit', (c) => r(c)));
    this.child.stdin!.end();
    const code = await exited;
    return { code, stats: this.stderr.includes('agent-stats ') ? parseAgentStats(this.stderr) : null };
  }
}

export interface AgentStats {
  rxBytes: number;
  framesOk: number;
  frameErrors: Record<'COBS_INVALID' | 'FRAME_TOO_SHORT' | 'FRAME_TOO_LONG' | 'CRC_MISMATCH' | 'BAD_MESSAGE', number>;
  requests: number;
  duplicates: number;
  telemetryFrames: number;
}

/** The last `agent-stats {...}` line the agent printed on stderr. */
export function parseAgentStats(stderr: string): AgentStats {
  const lines = stderr.split('\n').filter((l) => l.startsWith('agent-stats '));
  if (lines.length === 0) throw new Error(`agent printed no counters; stderr: ${stderr}`);
  return JSON.parse(lines[lines.length - 1].slice('agent-stats '.length)) as AgentStats;
}

/** Output of AddressSanitizer or UBSan (the sanitized build prints these on stderr). */
export const SANITIZER_REPORT = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;
