import { chmodSync, existsSync, mkdtempSync, openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { appendDurably, writeFileDurably } from '../../boards/durable-file.ts';
import { configFlash, loadBoardDefinition } from '../../boards/definitions.ts';
import { loadPersistentState, savePersistentState } from '../../boards/flash-file.ts';
import { FileSaStateStore } from '../../hil/link/sa-state-file.ts';
import { PoolStore } from '../../hil/relay/pool-store.ts';

/**
 * The one durable-write helper and its three users (emulator flash file, key pools and
 * their journal, uplink anti-replay state). Every node:fs call is logged so the order
 * that makes a write survive a crash is asserted: data fsynced before the rename, the
 * folder fsynced after it, a journal line fsynced before the write returns.
 */
const ops = vi.hoisted(() => ({ log: [] as string[], paths: new Map<number, string>() }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const name = (fd: number) => ops.paths.get(fd) ?? `fd${fd}`;
  const wrapped = {
    ...fs,
    openSync: ((path: string, ...rest: unknown[]) => {
      const fd = (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
      ops.paths.set(fd, String(path));
      ops.log.push(`open ${path}`);
      return fd;
    }) as typeof fs.openSync,
    writeSync: ((fd: number, ...rest: unknown[]) => {
      ops.log.push(`write ${name(fd)}`);
      return (fs.writeSync as (...a: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync,
    fsyncSync: (fd: number) => {
      ops.log.push(`fsync ${name(fd)}`);
      fs.fsyncSync(fd);
    },
    renameSync: (from: string, to: string) => {
      ops.log.push(`rename ${from} -> ${to}`);
      fs.renameSync(from, to);
    },
  };
  return { ...wrapped, default: wrapped };
});

const fresh = () => mkdtempSync(join(tmpdir(), 'durable-'));
/** The log from the first open of `path`'s temporary file to the fsync of its folder. */
function durableWriteOf(path: string, dir: string): string[] {
  const start = ops.log.indexOf(`open ${path}.tmp`);
  const end = ops.log.indexOf(`fsync ${dir}`, start);
  expect(start, `no temporary file for ${path} in ${JSON.stringify(ops.log)}`).toBeGreaterThanOrEqual(0);
  expect(end, `no fsync of ${dir} after writing ${path}`).toBeGreaterThan(start);
  return ops.log.slice(start, end + 1).filter((l) => !l.startsWith('write'));
}
const expectedDurableWrite = (path: string, dir: string) => [`open ${path}.tmp`, `fsync ${path}.tmp`, `rename ${path}.tmp -> ${path}`, `open ${dir}`, `fsync ${dir}`];

beforeEach(() => {
  ops.log.length = 0;
});

describe('writeFileDurably / appendDurably', () => {
  it('replaces the file whole: data fsynced, renamed over the old file, folder fsynced; no temporary file left', () => {
    const dir = fresh();
    const path = join(dir, 'state.bin');
    writeFileSync(path, 'old contents, longer than the new');
    writeFileDurably(path, Uint8Array.of(1, 2, 3));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(existsSync(`${path}.tmp`)).toBe(false);
    expect(durableWriteOf(path, dir)).toEqual(expectedDurableWrite(path, dir));
  });

  it('mode 0600 is applied even over a temporary file a crash left with another mode; without a mode the umask decides', () => {
    const dir = fresh();
    const path = join(dir, 'key.json');
    writeFileSync(`${path}.tmp`, 'stale');
    chmodSync(`${path}.tmp`, 0o644);
    writeFileDurably(path, '{"k":1}', { mode: 0o600 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const plain = join(dir, 'plain.bin');
    writeFileDurably(plain, 'x');
    expect(statSync(plain).mode & 0o777).toBe(0o666 & ~process.umask());
  });

  it('appends every byte (a 3 MB line too) and fsyncs before returning', () => {
    const dir = fresh();
    const path = join(dir, 'journal');
    const fd = openSync(path, 'a');
    const big = 'x'.repeat(3 << 20);
    appendDurably(fd, 'first\n');
    appendDurably(fd, `${big}\n`);
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe(`first\n${big}\n`);
    const mine = ops.log.filter((l) => l.endsWith(path));
    expect(mine.at(-1)).toBe(`fsync ${path}`);
    expect(mine.filter((l) => l === `fsync ${path}`)).toHaveLength(2);
  });
});

describe('the three durable files use it', () => {
  it('the emulator flash file', () => {
    const dir = fresh();
    const file = join(dir, 'qsrc.flash');
    const g = configFlash(loadBoardDefinition('qsrc'));
    const p = loadPersistentState(file, { base: g.base, size: g.size, pageSize: g.pageSize, banks: g.banks });
    p.resetCount = 3;
    savePersistentState(file, p);
    expect(durableWriteOf(file, dir)).toEqual(expectedDurableWrite(file, dir));
    expect(loadPersistentState(file, { base: g.base, size: g.size, pageSize: g.pageSize, banks: g.banks }).resetCount).toBe(3);
  });

  it('the uplink anti-replay state (0600)', () => {
    const dir = fresh();
    const file = join(dir, 'sa.json');
    new FileSaStateStore(file).save(1, 42);
    expect(durableWriteOf(file, dir)).toEqual(expectedDurableWrite(file, dir));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(new FileSaStateStore(file).load()).toEqual({ 1: 42 });
  });

  it('the key pool snapshot and run counter (0600), and a new journal whose name is made durable before any entry is written', () => {
    const dir = fresh();
    const store = new PoolStore(dir);
    const pool = store.load('ground-x', 'x', 1);
    const snap = join(dir, 'ground-x.json');
    const journal = join(dir, 'ground-x.journal');
    expect(durableWriteOf(snap, dir)).toEqual(expectedDurableWrite(snap, dir));
    // Without the folder fsync a crash may lose the journal's name, and with it every entry in it.
    const opened = ops.log.indexOf(`open ${journal}`);
    expect(ops.log.indexOf(`fsync ${dir}`, opened)).toBeGreaterThan(opened);
    ops.log.length = 0;
    pool.consume(64, 'auth-hash-key', 's1');
    expect(ops.log).toEqual([`write ${journal}`, `fsync ${journal}`]);
    store.nextRun();
    const runs = join(dir, 'runs.json');
    expect(durableWriteOf(runs, dir)).toEqual(expectedDurableWrite(runs, dir));
    for (const f of [snap, journal, runs]) expect(statSync(f).mode & 0o777).toBe(0o600);
    store.close();
  });
});
