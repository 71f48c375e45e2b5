import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../protocols/dictionary/index.ts';
import { encodeSerialFrame } from '../../protocols/serial-frame.ts';
import { HAND_VECTORS, hexBytes } from '../protocols/vectors.ts';
import { capture, identifyHex, tmCapture } from './decode-fixtures.ts';
import { jsonLines, runScript } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'decode-'));
const packets = Object.values(HAND_VECTORS).map(hexBytes);

describe('npm run decode', () => {
  it('prints each hand-made PUS-C packet with its named fields and exits 0', () => {
    const file = join(dir, 'good.bin');
    writeFileSync(file, Buffer.concat(packets));
    const r = runScript('decode', [file]);
    expect(r.code).toBe(0);
    const recs = jsonLines(r.stdout);
    expect(recs.map((x) => x.name)).toEqual(['PING', 'PONG', 'VERIFY_ACCEPT_OK', 'SET_MODE', 'MODE_CHANGED', 'PARAM_VALUE']);
    expect(recs[3]).toMatchObject({ apid: 0x65, type: 'TC', seq: 2, length: 16, service: 8, subtype: 1, fields: { mode: 'STANDBY' } });
    expect(recs[4]).toMatchObject({ type: 'TM', service: 5, subtype: 1, timeS: 101.25, fields: { from: 'BOOT', to: 'STANDBY' } });
    expect(r.stderr).toMatch(/"packets":6,"valid":6,"invalid":0/);
  });

  it('a corrupted packet in the middle: reported, exit 1, the packets after it still printed', () => {
    const bad = packets.map((p) => p.slice());
    bad[2][20] ^= 0x10; // a data octet of VERIFY_ACCEPT_OK
    const file = join(dir, 'bad.bin');
    writeFileSync(file, Buffer.concat(bad));
    const r = runScript('decode', ['--format', 'spacepacket', file]);
    expect(r.code).toBe(1);
    const recs = jsonLines(r.stdout);
    expect(recs[2]).toMatchObject({ code: 'CRC_MISMATCH', apid: 0x65, seq: 6 });
    expect(String(recs[2].error)).toMatch(/packet error control/);
    expect(recs.slice(3).map((x) => x.name)).toEqual(['SET_MODE', 'MODE_CHANGED', 'PARAM_VALUE']);
    expect(r.stderr).toMatch(/"invalid":1/);
  });

  it('reads COBS-framed packets from stdin, reporting a broken frame and a sequence gap', () => {
    const frames = packets.map((p) => encodeSerialFrame(p));
    const broken = frames[1].slice();
    broken[3] ^= 0x01;
    const r = runScript('decode', ['--format', 'cobs', '-'], Buffer.concat([frames[0], broken, ...frames.slice(2)]));
    expect(r.code).toBe(1);
    const recs = jsonLines(r.stdout);
    expect(recs).toHaveLength(6);
    expect(recs[1]).toMatchObject({ frame: 2, code: 'CRC_MISMATCH' });
    expect(recs.slice(2).every((x) => !('error' in x))).toBe(true);
    expect(r.stderr).toMatch(/"frameErrors":\{"CRC_MISMATCH":1\}/);
  });

  it('--help prints the usage and exits 0', () => {
    const r = runScript('decode', ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: npm run decode/);
  });
});

// Bad input (directories, malformed captures, cut and random bytes, bad options) is in
// the one table of test/cli/bad-input.test.ts.
describe('npm run decode: clean captures and where records start', () => {
  const tm = tmCapture();

  it('a clean TM capture and a clean bench capture still exit 0', () => {
    expect(runScript('decode', ['--format', 'tmframe', '--frame-length', '64', '-'], tm).code).toBe(0);
    const good = join(dir, 'good.cap.jsonl');
    writeFileSync(good, capture(`{"t":1,"dir":"tx","hex":"${identifyHex}"}`));
    const r = runScript('decode', ['--format', 'capture', good]);
    expect(jsonLines(r.stdout)).toMatchObject([{ dir: 'tx', kind: 'request', op: 'IDENTIFY' }]);
    expect(r.code).toBe(0);
  });

  it('COBS frames: a hit delimiter costs only the frame it ends, and each record says where it starts', () => {
    const frames = [1, 2, 3].map((i) => encodeSerialFrame(encodeCommand('PING', {}, { seq: i })));
    const hit = Buffer.concat(frames);
    hit[frames[0].length - 1] ^= 0x20;
    const r = runScript('decode', ['--format', 'cobs', '-'], hit);
    expect(r.code).toBe(1);
    const recs = jsonLines(r.stdout);
    expect(recs.filter((x) => !x.error).map((x) => [x.offset, x.seq])).toEqual([
      [frames[0].length, 2],
      [frames[0].length + frames[1].length, 3],
    ]);
  });
});
