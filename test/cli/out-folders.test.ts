import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportDirection } from '../../hil/capture.ts';
import { encodeRequest, frameMessage } from '../../protocols/board-link.ts';
import { capture } from './decode-fixtures.ts';
import { runScript, STACK_LINE } from './run.ts';

/** Issue 13: every --out creates its folder (the README's `--out out/dictionary.json` on a fresh clone crashed). */
describe('--out creates its folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'out-folders-'));

  it('dict --export json --out NEW/FOLDER/dictionary.json', () => {
    const out = join(dir, 'dict', 'nested', 'dictionary.json');
    const r = runScript('dict', ['--export', 'json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(STACK_LINE);
    expect(Object.keys(JSON.parse(readFileSync(out, 'utf8')) as object)).toContain('commands');
  });

  it('downlink --out NEW/FOLDER/x.bin (and its summary beside it)', () => {
    const out = join(dir, 'downlink', 'nested', 'x.bin');
    const r = runScript('downlink', ['--duration-s', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out) && existsSync(`${out}.summary.json`)).toBe(true);
  });

  it('relay --make-test-image NEW/FOLDER/in.png', () => {
    const out = join(dir, 'relay', 'nested', 'in.png');
    const r = runScript('relay', ['--make-test-image', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('hil --export-capture --out: exportDirection makes the folder', () => {
    const cap = join(dir, 'one.cap.jsonl');
    const hex = Buffer.from(frameMessage(encodeRequest(1, { op: 'IDENTIFY' }))).toString('hex');
    writeFileSync(cap, capture(`{"t":1,"dir":"tx","hex":"${hex}"}`));
    const out = join(dir, 'export', 'nested', 'tx.bin');
    expect(exportDirection(cap, 'tx', out)).toBe(hex.length / 2);
    expect(readFileSync(out).toString('hex')).toBe(hex);
  });
});
