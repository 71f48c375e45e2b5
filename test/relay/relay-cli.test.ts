import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyPool } from '../../qkd/pool.ts';
import { decodePng, encodePng, testPattern } from '../../hil/relay/png.ts';
import { runScript, STACK_LINE } from '../cli/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'relay-'));
const pools = join(dir, 'pools');
const input = join(dir, 'in.png');
writeFileSync(input, encodePng(testPattern(64, 48)));
const poolFiles = ['satellite-beijing', 'ground-beijing', 'satellite-stellenbosch', 'ground-stellenbosch'];
const loadPools = () => poolFiles.map((f) => KeyPool.deserialise(readFileSync(join(pools, `${f}.json`))));

/** Every consumption record of a pool block starts where the previous one ended: no bit is used twice. */
function expectNoReuse(p: KeyPool) {
  const next = new Map<string, number>();
  for (const r of p.records) {
    expect(r.offsetBits).toBe(next.get(r.keyId) ?? 0);
    next.set(r.keyId, r.offsetBits + r.lengthBits);
  }
}

describe('npm run relay', () => {
  it('round-trips an image bit for bit from Beijing to Stellenbosch and renders the ciphertext', () => {
    // --out in a folder that does not exist yet: the CLI creates it (issue 13).
    const out = join(dir, 'new', 'folder', 'out.png');
    const r = runScript('relay', ['--from', 'beijing', '--to', 'stellenbosch', '--image', input, '--out', out, '--pool-dir', pools, '--duration-s', '120', '--seed', '7']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(input))).toBe(true);
    const cipher = decodePng(readFileSync(join(dir, 'new', 'folder', 'out.cipher.png')));
    expect(Buffer.from(cipher.rgb.subarray(0, 100)).equals(readFileSync(input).subarray(0, 100))).toBe(false);
    expect(r.stdout).toMatch(/satellite-beijing\s+\d+\s+\d+\s+\d+/);
    expect(r.stdout).toMatch(/over \d+ relay-VC packets/);
    for (const p of loadPools()) expectNoReuse(p);
  }, 300_000);

  it('a tampered ciphertext is refused and nothing is written; the key it used is never reissued', () => {
    const before = loadPools().map((p) => p.availableBits());
    const out = join(dir, 'tampered.png');
    const r = runScript('relay', ['--from', 'beijing', '--to', 'stellenbosch', '--image', input, '--out', out, '--pool-dir', pools, '--no-pass', '--tamper']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tag mismatch/);
    expect(existsSync(out)).toBe(false);
    const after = loadPools();
    after.forEach((p, i) => expect(p.availableBits()).toBeLessThan(before[i]));
    for (const p of after) expectNoReuse(p);
  });

  it('a relay channel that loses packets fails the tag check: refused, nothing written', () => {
    const out = join(dir, 'noisy.png');
    const r = runScript('relay', ['--from', 'beijing', '--to', 'stellenbosch', '--image', input, '--out', out, '--pool-dir', pools, '--no-pass', '--relay-ber', '1e-3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/relay VC: \d+ of \d+ packets arrived/);
    expect(r.stderr).toMatch(/relay refused: .*(tag mismatch|shorter than its tag)/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses with exit 1, sending nothing and consuming nothing, when the pools hold too little key', () => {
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(400_000, 7));
    const before = loadPools().map((p) => p.fingerprint());
    const r = runScript('relay', ['--from', 'beijing', '--to', 'stellenbosch', '--image', big, '--out', join(dir, 'big.out'), '--pool-dir', pools, '--no-pass']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not enough key: 3200128 bits needed/);
    expect(existsSync(join(dir, 'big.out'))).toBe(false);
    expect(loadPools().map((p) => p.fingerprint())).toEqual(before);
  });

  it('usage errors exit 2', () => {
    expect(runScript('relay', ['--from', 'beijing']).code).toBe(2);
    expect(runScript('relay', ['--from', 'beijing', '--to', 'mars', '--image', input, '--out', join(dir, 'x.png'), '--no-pass', '--pool-dir', pools]).code).toBe(2);
  });

  it('key pool files and their journals are readable by their owner only (0600), old files included', () => {
    chmodSync(join(pools, 'ground-beijing.json'), 0o644); // as the code before issue 11 left them
    const r = runScript('relay', ['--from', 'beijing', '--to', 'stellenbosch', '--image', input, '--out', join(dir, 'mode.png'), '--pool-dir', pools, '--no-pass']);
    expect(r.code).toBe(0);
    const files = readdirSync(pools).filter((f) => poolFiles.some((p) => f.startsWith(`${p}.`)));
    for (const f of files) expect({ f, mode: (statSync(join(pools, f)).mode & 0o777).toString(8) }).toEqual({ f, mode: '600' });
    expect(files.filter((f) => f.endsWith('.journal')).length).toBe(poolFiles.length);
  });

  it('an --out that cannot be written is refused in one line with exit 2 before any key is consumed', () => {
    const aDir = join(dir, 'a-directory');
    mkdirSync(aDir, { recursive: true });
    mkdirSync(join(dir, 'cipher-taken.cipher.png'), { recursive: true });
    // (A folder that does not exist is no longer refused: every --out creates its folder.)
    const outs = [aDir, join(input, 'under-a-file.png'), join(input, 'deeper', 'x.png'), join(dir, 'cipher-taken.png')];
    for (const out of outs) {
      const before = loadPools().map((p) => p.fingerprint());
      const r = runScript('relay', ['--from', 'beijing', '--to', 'stellenbosch', '--image', input, '--out', out, '--pool-dir', pools, '--no-pass']);
      const lines = r.stderr.trim().split('\n');
      expect({ out, code: r.code, lines: lines.length }).toEqual({ out, code: 2, lines: 1 });
      expect(lines[0]).toMatch(/^error: --out .*(directory|cannot be written)/);
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(STACK_LINE);
      expect(loadPools().map((p) => p.fingerprint())).toEqual(before);
    }
  });
});
