import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PoolStore, PoolStoreError, PSK_BITS, readPool } from '../../hil/relay/pool-store.ts';
import { runScript } from '../cli/run.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'pool-store-'));
const journalOf = (dir: string, name: string) => readFileSync(join(dir, `${name}.journal`), 'utf8');

describe('pool store: snapshot + write-ahead journal', () => {
  it('every change is in the journal (one line, on disk) before the call returns; load compacts it into the snapshot', () => {
    const dir = fresh();
    const store = new PoolStore(dir);
    const pool = store.load('ground-x', 'x', 1);
    expect(journalOf(dir, 'ground-x')).toBe('');
    pool.consume(64, 'auth-hash-key', 's1');
    expect(journalOf(dir, 'ground-x').split('\n')).toHaveLength(2); // one entry and the final newline
    pool.add('s1/b0', new Uint32Array([1, 2]), 64, 's1/block:0');
    // Without save or close (a crash), the disk already has both changes.
    const seen = readPool(dir, 'ground-x')!;
    expect(seen.toJSON()).toEqual(pool.toJSON());
    store.close();

    const again = new PoolStore(dir);
    const reloaded = again.load('ground-x', 'x', 1);
    expect(reloaded.toJSON()).toEqual(pool.toJSON());
    expect(journalOf(dir, 'ground-x')).toBe('');
    expect(statSync(join(dir, 'ground-x.json')).mode & 0o777).toBe(0o600);
    expect(reloaded.availableBits()).toBe(PSK_BITS - 64 + 64);
    again.close();
  });

  it('a torn last journal line (its write never returned) is dropped; the rest is kept', () => {
    const dir = fresh();
    const store = new PoolStore(dir);
    const pool = store.load('sat-x', 'x', 1);
    pool.consume(100, 'otp', 'r1');
    store.close();
    appendFileSync(join(dir, 'sat-x.journal'), '{"op":"reserve","records":[{"keyId":"psk-0","offs');
    const back = readPool(dir, 'sat-x')!;
    expect(back.records).toEqual([{ keyId: 'psk-0', offsetBits: 0, lengthBits: 100, purpose: 'otp', ref: 'r1' }]);
  });

  it('a crash between writing the snapshot and emptying the journal replays nothing twice', () => {
    const dir = fresh();
    const store = new PoolStore(dir);
    const pool = store.load('sat-x', 'x', 1);
    pool.consume(100, 'otp', 'r1');
    pool.add('b', new Uint32Array([7]), 32, 'pass/block:0');
    const journal = journalOf(dir, 'sat-x');
    store.save('sat-x', pool);
    store.close();
    writeFileSync(join(dir, 'sat-x.journal'), journal); // as if the truncate had not happened
    expect(readPool(dir, 'sat-x')!.toJSON()).toEqual(pool.toJSON());
  });

  it('a damaged journal line is refused naming the file and line', () => {
    const dir = fresh();
    const store = new PoolStore(dir);
    store.load('sat-x', 'x', 1).consume(10, 'otp', 'r1');
    store.close();
    const p = join(dir, 'sat-x.journal');
    writeFileSync(p, `garbage\n${readFileSync(p, 'utf8')}`);
    expect(() => readPool(dir, 'sat-x')).toThrow(PoolStoreError);
    expect(() => readPool(dir, 'sat-x')).toThrow(/sat-x\.journal line 1: .*not JSON: garbage/);
  });

  it('the relay CLI refuses damaged pools in one line with exit 1', () => {
    const dir = fresh();
    const input = join(dir, 'in.bin');
    writeFileSync(input, 'hello');
    writeFileSync(join(dir, 'satellite-beijing.json'), '{"station":"beijing","blocks":[{"keyId":1}],"records":[]}');
    const r = runScript('relay', ['--from', 'beijing', '--to', 'stellenbosch', '--image', input, '--out', join(dir, 'out.bin'), '--pool-dir', dir, '--no-pass']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: key pools in .*satellite-beijing\.json: key pool: blocks\[0\] malformed/);
  });
});
