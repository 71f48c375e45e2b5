import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConsumptionRecord, KeyPool } from '../../qkd/pool.ts';
import { Rng } from '../../qkd/random.ts';
import { readPool } from '../../hil/relay/pool-store.ts';
import { ROOT } from '../cli/run.ts';

/**
 * Power-loss safety of the key pools, in the manner of test/flash/power-loss.test.ts but
 * with real processes: the relay CLI is SIGKILLed at many points (right after its k-th
 * durable journal write, through the test-only KEYPOOL_TEST_KILL_AFTER_WRITES hook, and
 * after wall-clock delays that land anywhere, mid-write included), then run again. After
 * every run the pools on disk are judged:
 *  - records are append-only: what one run left on disk is a prefix of what the next leaves;
 *  - records tile every block from offset 0 without overlap: no bit is handed out twice;
 *  - everything a killed process showed it had used or produced is on disk: a pass whose
 *    summary it printed has its authentication-key records and its key blocks there
 *    (the pre-issue code lost both, and its rerun took the same bits again).
 * Finally an unkilled run must still deliver: the two ends of each link are back in step.
 */
const STATIONS = ['beijing', 'stellenbosch'];
const POOLS = STATIONS.flatMap((s) => [`satellite-${s}`, `ground-${s}`]);

const dir = mkdtempSync(join(tmpdir(), 'relay-kill-'));
const poolDir = join(dir, 'pools');
const input = join(dir, 'in.bin');
const rng = new Rng(11);
writeFileSync(input, Uint8Array.from({ length: 200 }, () => rng.nextU32() & 0xff));
const ARGS = ['--from', 'beijing', '--to', 'stellenbosch', '--image', input, '--pool-dir', poolDir, '--duration-s', '20', '--seed', '5'];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

interface KillPoint {
  killAfterWrites?: number;
  killAfterMs?: number;
  /** Spend only what the pools hold: the journal writes are then the relay's own four. */
  noPass?: boolean;
}

function relay(out: string, o: KillPoint): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    if (o.killAfterWrites !== undefined) env.KEYPOOL_TEST_KILL_AFTER_WRITES = String(o.killAfterWrites);
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/relay.ts', ...ARGS, '--out', out, ...(o.noPass ? ['--no-pass'] : [])], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = o.killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), o.killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** Passes the process reported as finished: session id (as runPass names it) and the secure bits it made. */
function finishedPasses(stderr: string): { session: string; station: string; bits: number }[] {
  const out: { session: string; station: string; bits: number }[] = [];
  let seed = -1;
  for (const line of stderr.split('\n')) {
    const start = /^QKD pass over (\w+) \(seed (\d+)\)/.exec(line);
    if (start) seed = Number(start[2]);
    const done = /^ {2}(\w+): (\d+) secure bits/.exec(line);
    if (done) out.push({ session: `${done[1]}-${seed}`, station: done[1], bits: Number(done[2]) });
  }
  return out;
}

const onDisk = (): Map<string, KeyPool | null> => new Map(POOLS.map((name) => [name, readPool(poolDir, name)]));

const rangeText = (r: ConsumptionRecord) => `${r.keyId} offset ${r.offsetBits} len ${r.lengthBits} ${r.purpose} ${r.ref}`;

function judge(label: string, before: Map<string, KeyPool | null>, now: Map<string, KeyPool | null>, passes: ReturnType<typeof finishedPasses>, relays: number) {
  for (const name of POOLS) {
    const was = before.get(name)?.records ?? [];
    const pool = now.get(name);
    const recs = pool?.records ?? [];
    // Append-only: nothing on disk is forgotten or rewritten by a crash or a rerun.
    expect(recs.slice(0, was.length).map(rangeText), `${label}: ${name} records rewritten`).toEqual(was.map(rangeText));
    // Tiling: each block is consumed from 0 upwards without overlap, up to its consumedBits.
    const next = new Map<string, number>();
    for (const r of recs) {
      expect(r.offsetBits, `${label}: ${name} reuses bits: ${rangeText(r)}`).toBe(next.get(r.keyId) ?? 0);
      next.set(r.keyId, r.offsetBits + r.lengthBits);
    }
    for (const b of pool?.blocks ?? []) expect(b.consumedBits, `${label}: ${name} ${b.keyId}`).toBe(next.get(b.keyId) ?? 0);
  }
  // What the processes showed they had used and produced is on disk.
  for (const p of passes) {
    for (const holder of ['satellite', 'ground']) {
      const pool = now.get(`${holder}-${p.station}`);
      const where = `${label}: ${holder}-${p.station} after session ${p.session} (${p.bits} bits)`;
      expect(pool?.records.some((r) => r.ref === p.session && r.purpose === 'auth-hash-key'), `${where}: its authentication key is not recorded`).toBe(true);
      const made = (pool?.blocks ?? []).filter((b) => b.source.startsWith(`${p.session}/`)).reduce((a, b) => a + b.lengthBits, 0);
      expect(made, `${where}: key blocks lost`).toBe(p.bits);
    }
  }
  for (const name of POOLS) {
    const refs = new Set((now.get(name)?.records ?? []).filter((r) => r.ref.startsWith('relay:')).map((r) => r.ref));
    expect(refs.size, `${label}: ${name} relays recorded vs relays done`).toBeGreaterThanOrEqual(relays);
  }
}

describe('relay killed at any moment (SIGKILL) never reuses key and never loses key', () => {
  it('kill points by journal write and by time, then a clean run', async () => {
    const kills: KillPoint[] = [
      ...[1, 3, 7, 15, 30, 45].map((k) => ({ killAfterWrites: k })), // during the passes
      ...[1, 2, 3, 4, 5].map((k) => ({ killAfterWrites: k, noPass: true })), // realignment and the relay's four takes
      ...[800, 1300, 1800].map((ms) => ({ killAfterMs: ms })), // anywhere, mid-write included
    ];
    let before = onDisk();
    const passes: ReturnType<typeof finishedPasses> = [];
    let relays = 0;
    let killed = 0;
    let killedInRelay = 0;
    const relayRefs = (m: Map<string, KeyPool | null>) => new Set((m.get('satellite-beijing')?.records ?? []).map((r) => r.ref).filter((x) => x.startsWith('relay:'))).size;
    for (const [i, k] of kills.entries()) {
      const r = await relay(join(dir, `out-${i}.bin`), k);
      const label = `run ${i} (${JSON.stringify(k)}, ${r.signal ?? `exit ${r.code}`})`;
      if (r.signal === 'SIGKILL') killed++;
      else expect(r.code, `${label}: ${r.stderr}`).toBe(0);
      passes.push(...finishedPasses(r.stderr));
      const relayed = (r.stderr.match(/^relay: \d+ key bits taken/gm) ?? []).length;
      relays += relayed;
      const now = onDisk();
      if (r.signal === 'SIGKILL' && relayRefs(now) > relayRefs(before) && relayed === 0) killedInRelay++;
      judge(label, before, now, passes, relays);
      before = now;
    }
    // The kill points really killed (not a test that silently ran to completion), one of
    // them between taking the relay key and sealing with it.
    expect(killed).toBeGreaterThanOrEqual(kills.length - 2);
    expect(killedInRelay).toBeGreaterThanOrEqual(2);
    expect(passes.length).toBeGreaterThan(0);

    const out = join(dir, 'final.bin');
    const r = await relay(out, {});
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out).equals(readFileSync(input))).toBe(true);
    passes.push(...finishedPasses(r.stderr));
    const now = onDisk();
    judge('final run', before, now, passes, relays + 1);
    for (const s of STATIONS) expect(now.get(`satellite-${s}`)!.fingerprint()).toBe(now.get(`ground-${s}`)!.fingerprint());
  }, 120_000); // about 20 s alone; generous for a loaded machine
});
