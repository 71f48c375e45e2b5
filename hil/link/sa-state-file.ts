import { existsSync, readFileSync } from 'node:fs';
import { writeFileDurably } from '../../boards/durable-file.ts';
import type { SaStateStore } from '../../firmware/link/sa-state.ts';

/**
 * The uplink front end's anti-replay state in a file: the bench's stand-in for the
 * payload's non-volatile memory. JSON {"version":1,"lastArsn":{"<spi>":arsn}}, replaced
 * atomically and fsynced (file, then directory) before `save` returns, so a frame is
 * only used once its ARSN would survive a power cut. A file that exists but cannot be
 * read is an error, never an empty state: starting from 0 would accept old frames again.
 */
export class SaStateFileError extends Error {
  override readonly name = 'SaStateFileError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

export class FileSaStateStore implements SaStateStore {
  private readonly state: Record<number, number>;

  constructor(readonly path: string) {
    this.state = existsSync(path) ? parse(path) : {};
  }

  load(): Record<number, number> {
    return { ...this.state };
  }

  save(spi: number, arsn: number): void {
    const next = { ...this.state, [spi]: arsn };
    writeFileDurably(this.path, JSON.stringify({ version: 1, lastArsn: next }), { mode: 0o600 });
    this.state[spi] = arsn;
  }
}

function parse(path: string): Record<number, number> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SaStateFileError(path, `unreadable anti-replay state (${(e as Error).message})`);
  }
  const last = (doc as { version?: unknown; lastArsn?: unknown } | null)?.lastArsn;
  if ((doc as { version?: unknown } | null)?.version !== 1 || typeof last !== 'object' || last === null || Array.isArray(last)) {
    throw new SaStateFileError(path, 'not an anti-replay state file (version 1, lastArsn)');
  }
  const out: Record<number, number> = {};
  for (const [k, v] of Object.entries(last)) {
    if (!/^\d+$/.test(k) || !Number.isSafeInteger(v) || (v as number) < 0) throw new SaStateFileError(path, `bad entry SPI ${k}: ${JSON.stringify(v)}`);
    out[Number(k)] = v as number;
  }
  return out;
}
