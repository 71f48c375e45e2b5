import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Durable file writes, shared by everything that must survive a power cut or a killed
 * process: the emulator's flash file, the key pools and their journals, the uplink's
 * anti-replay state. Once a call returns, the bytes are on disk (fsync), and a crash
 * at any moment before leaves either the old file or the new one, never half of one.
 */

export interface DurableWriteOptions {
  /** Permission bits of the file (e.g. 0o600 for key material); default: the umask's. */
  mode?: number;
}

/** Writes all of `bytes` at the fd's position (writeSync may write less than asked). */
function writeAll(fd: number, bytes: Uint8Array | string): void {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
}

/** fsync of the folder holding `path`: makes a rename or a new file's name itself durable. */
export function fsyncFolderOf(path: string): void {
  const d = openSync(dirname(path), 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}

/**
 * Replaces `path` with `bytes`: a temporary file `<path>.tmp` written and fsynced, renamed
 * over `path`, then the folder fsynced so the rename survives a crash too.
 */
export function writeFileDurably(path: string, bytes: Uint8Array | string, opts: DurableWriteOptions = {}): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', opts.mode);
  try {
    // A temporary file left by a crash keeps its old mode otherwise: open's mode applies only on creation.
    if (opts.mode !== undefined) fchmodSync(fd, opts.mode);
    writeAll(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncFolderOf(path);
}

/** Appends `bytes` to the file open (for append) on `fd`, and returns only once they are on disk. */
export function appendDurably(fd: number, bytes: Uint8Array | string): void {
  writeAll(fd, bytes);
  fsyncSync(fd);
}
