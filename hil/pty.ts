import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

/** Is socat on PATH? The pseudo-terminal tier needs it (Node cannot allocate a pty pair by itself). */
export function socatAvailable(): boolean {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return r.status === 0;
}

export interface PtyPair {
  /** The end the emulator opens. */
  boardPath: string;
  /** The end the bench (or any serial tool) opens. */
  userPath: string;
  process: ChildProcess;
  close(): void;
}

/** Creates a linked pair of raw pseudo-terminals with socat and returns both device paths. */
export function createPtyPair(timeoutMs = 5000): Promise<PtyPair> {
  return new Promise((resolve, reject) => {
    const p = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const paths: string[] = [];
    let err = '';
    const timer = setTimeout(() => {
      p.kill('SIGTERM');
      reject(new Error(`socat did not report two pseudo-terminals within ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run socat (install it: apt-get install socat): ${e.message}`));
    });
    p.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      for (const m of b.toString().matchAll(/PTY is (\S+)/g)) paths.push(m[1]);
      if (paths.length === 2) {
        clearTimeout(timer);
        resolve({
          boardPath: paths[0],
          userPath: paths[1],
          process: p,
          close: () => {
            if (p.exitCode === null) p.kill('SIGTERM');
          },
        });
      }
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (paths.length < 2) reject(new Error(`socat exited (${code}) before creating the pty pair: ${err.trim()}`));
    });
  });
}
