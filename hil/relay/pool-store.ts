import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyPool } from '../../firmware/qkd/pool.ts';
import { preSharedKey } from '../../boards/sim/run-pass.ts';

/**
 * Key pools on disk: one JSON file per pool holder, written atomically (temp file +
 * rename) so a crash mid-write never leaves a pool that reissues used key. A pool that
 * does not exist yet starts with a pre-shared key (the first QKD session's
 * authentication), as a real mission ships one.
 */
export const PSK_BITS = 1 << 17;

export class PoolStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** Loads `name`, or creates it holding the pre-shared key for `station` (seeded). */
  load(name: string, station: string, pskSeed: number): KeyPool {
    const p = this.path(name);
    if (existsSync(p)) return KeyPool.deserialise(readFileSync(p));
    const pool = new KeyPool(station);
    pool.add('psk-0', preSharedKey(pskSeed, PSK_BITS), PSK_BITS, 'psk');
    return pool;
  }

  save(name: string, pool: KeyPool): void {
    const p = this.path(name);
    writeFileSync(`${p}.tmp`, pool.serialise());
    renameSync(`${p}.tmp`, p);
  }

  /** A counter kept with the pools, so every run's passes get fresh session ids. */
  nextRun(): number {
    const p = join(this.dir, 'runs.json');
    const n = existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as { next: number }).next : 1;
    writeFileSync(`${p}.tmp`, JSON.stringify({ next: n + 1 }));
    renameSync(`${p}.tmp`, p);
    return n;
  }
}
