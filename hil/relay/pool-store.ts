import { closeSync, existsSync, fchmodSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendDurably, fsyncFolderOf, writeFileDurably } from '../../boards/durable-file.ts';
import { decodeJournalEntry, encodeJournalEntry, KeyPool, PoolFormatError, type PoolJournal, type PoolJournalEntry } from '../../qkd/pool.ts';
import { preSharedKey } from '../mission/physics-pass.ts';

/**
 * Key pools on disk: per pool holder a snapshot `<name>.json` and a write-ahead journal
 * `<name>.journal` (one JSON line per change). The pool hands every change to the
 * journal before it makes it, and the journal returns only after fsync, so whatever
 * moment the process dies, every bit handed out is recorded as used and every block
 * added is kept. Loading replays the journal onto the snapshot (idempotently), writes a
 * fresh snapshot (temp file, fsync, rename, fsync of the folder) and empties the journal.
 * Files are created 0600: they hold key. A pool that does not exist yet starts with a
 * pre-shared key (the first QKD session's authentication), as a real mission ships one.
 */
export const PSK_BITS = 1 << 17;
const FILE_MODE = 0o600;

/** Test-only kill point: SIGKILL this process right after its k-th durable journal write. */
const KILL_AFTER_WRITES = Number(process.env.KEYPOOL_TEST_KILL_AFTER_WRITES ?? 0);
let journalWrites = 0;

export class PoolStoreError extends Error {
  override readonly name = 'PoolStoreError';
}

/** Appends entries, each on disk (fsync) before write returns. */
class FileJournal implements PoolJournal {
  constructor(private readonly fd: number) {}

  write(entry: PoolJournalEntry): void {
    appendDurably(this.fd, `${encodeJournalEntry(entry)}\n`);
    if (++journalWrites === KILL_AFTER_WRITES) process.kill(process.pid, 'SIGKILL');
  }
}

/** Journal lines read back; a torn last line (no newline: its write never returned) is dropped. */
function journalEntries(path: string): PoolJournalEntry[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop(); // after the last newline: empty, or a line whose write was cut short
  return lines.map((line, i) => {
    try {
      return decodeJournalEntry(line);
    } catch (e) {
      throw new PoolStoreError(`${path} line ${i + 1}: ${(e as Error).message}`);
    }
  });
}

/** The pool `name` in `dir` as it stands on disk (snapshot plus journal), or null; writes nothing. */
export function readPool(dir: string, name: string): KeyPool | null {
  const snap = join(dir, `${name}.json`);
  const journal = join(dir, `${name}.journal`);
  const entries = journalEntries(journal);
  if (!existsSync(snap)) {
    // The snapshot is written before the journal is first used, so a journal without one is damage.
    if (entries.length > 0) throw new PoolStoreError(`${journal}: ${entries.length} journal entries but no pool file ${snap}`);
    return null;
  }
  let pool: KeyPool;
  try {
    pool = KeyPool.deserialise(readFileSync(snap));
  } catch (e) {
    throw new PoolStoreError(`${snap}: ${(e as Error).message}`);
  }
  for (const entry of entries) {
    try {
      pool.replay(entry);
    } catch (e) {
      if (e instanceof PoolFormatError) throw new PoolStoreError(`${journal}: ${e.message}`);
      throw e;
    }
  }
  return pool;
}

export class PoolStore {
  private readonly journals = new Map<string, number>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /**
   * Loads `name` (or creates it holding the pre-shared key for `station`, seeded), made
   * durable and with its journal attached: every later change is on disk before it is used.
   */
  load(name: string, station: string, pskSeed: number): KeyPool {
    let pool = readPool(this.dir, name);
    if (!pool) {
      pool = new KeyPool(station);
      pool.add('psk-0', preSharedKey(pskSeed, PSK_BITS), PSK_BITS, 'psk');
    }
    this.save(name, pool);
    pool.journal = new FileJournal(this.journals.get(name)!);
    return pool;
  }

  /** Snapshot `pool`, then empty its journal (a crash in between only replays what the snapshot holds). */
  save(name: string, pool: KeyPool): void {
    writeFileDurably(this.path(name), pool.serialise(), { mode: FILE_MODE });
    let fd = this.journals.get(name);
    if (fd === undefined) {
      const journal = join(this.dir, `${name}.journal`);
      fd = openSync(journal, 'a', FILE_MODE);
      fchmodSync(fd, FILE_MODE);
      fsyncFolderOf(journal); // a new journal's name must survive a crash, or its entries go with it
      this.journals.set(name, fd);
    }
    ftruncateSync(fd, 0);
    fsyncSync(fd);
  }

  /** Closes the journals; the pools must not be changed afterwards. */
  close(): void {
    for (const fd of this.journals.values()) closeSync(fd);
    this.journals.clear();
  }

  /** A counter kept with the pools, so every run's passes get fresh session ids. */
  nextRun(): number {
    const p = join(this.dir, 'runs.json');
    let n: unknown = 1;
    if (existsSync(p)) {
      try {
        n = (JSON.parse(readFileSync(p, 'utf8')) as { next?: unknown }).next;
      } catch {
        n = undefined;
      }
      if (!Number.isSafeInteger(n) || (n as number) < 1) throw new PoolStoreError(`${p}: expected { "next": whole number >= 1 }, got next ${JSON.stringify(n)}`);
    }
    writeFileDurably(p, JSON.stringify({ next: (n as number) + 1 }), { mode: FILE_MODE });
    return n as number;
  }
}
