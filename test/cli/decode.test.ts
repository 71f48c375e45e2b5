import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../boards/link-sim/prng.ts';
import { encodeRequest, frameMessage } from '../../protocols/board-link.ts';
import { encodeCommand } from '../../protocols/dictionary/index.ts';
import { TmFramer } from '../../protocols/link/tm-framer.ts';
import { VcPacketSender } from '../../protocols/link/vc-packet-sender.ts';
import { encodeSerialFrame } from '../../protocols/serial-frame.ts';
import { HAND_VECTORS, hexBytes } from '../protocols/vectors.ts';
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

  it('usage errors exit 2 and say what was wrong', () => {
    expect(runScript('decode', ['--format', 'nope', '-'], '').code).toBe(2);
    const r = runScript('decode', ['/no/such/file']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such file/);
    expect(runScript('decode', ['--help']).stdout).toMatch(/usage: npm run decode/);
  });
});

/** A line a Node process prints when an error escapes: a stack frame or the uncaught-exception banner. */
const STACK_LINE = /^\s+at .+(:\d+|\))$|node:internal|triggerUncaughtException|^\w*Error: /m;

function write(name: string, content: Uint8Array | string): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

const junk = (n: number, seed: number) => {
  const rng = new SeededRandom(seed);
  return Uint8Array.from({ length: n }, () => rng.nextU32() & 0xff);
};

function tmCapture(): Uint8Array {
  const framer = new TmFramer({ scid: 7, frameLengthBytes: 64, ocf: true, fecf: true, randomized: false });
  const s = new VcPacketSender(1, framer.dataFieldBytes);
  for (let i = 0; i < 6; i++) s.enqueue(encodeCommand('PING', {}, { seq: i }));
  const out: Uint8Array[] = [];
  while (s.pendingDataBytes > 0) {
    const f = new Uint8Array(framer.channelFrameBytes);
    framer.build(f, 0, 1, s);
    out.push(f);
  }
  return Buffer.concat(out);
}

const capHeader = JSON.stringify({ type: 'header', format: 'qkd-hil-capture', version: 1, board: 'apt', port: 'mem', clock: 'sim', baud: 115200, seed: 1, startedAt: '2025-01-01T00:00:00Z' });
const identify = Buffer.from(frameMessage(encodeRequest(1, { op: 'IDENTIFY' }))).toString('hex');
const capture = (...records: string[]) => [capHeader, ...records].join('\n') + '\n';

describe('npm run decode: bad input is one line and an honest exit code (issue 11 items 8-10)', () => {
  const subdir = join(dir, 'a-directory');
  mkdirSync(subdir, { recursive: true });
  const tm = tmCapture();
  const pings = Buffer.concat([1, 2, 3].map((i) => encodeSerialFrame(encodeCommand('PING', {}, { seq: i }))));
  const cases: { name: string; args: () => string[]; input?: Uint8Array; code: number; stderr: RegExp }[] = [
    ...['spacepacket', 'cobs', 'boardlink', 'capture', 'tmframe'].map((format) => ({
      name: `a directory as --format ${format}`,
      args: () => ['--format', format, '--frame-length', '64', subdir],
      code: 2,
      stderr: /not a file: .*a-directory/,
    })),
    { name: '--frame-length 8 (the receiver needs 13)', args: () => ['--format', 'tmframe', '--frame-length', '8', '-'], input: tm, code: 2, stderr: /--frame-length .*13\.\.2048.*got '8'/ },
    { name: 'a capture file whose header is not JSON', args: () => ['--format', 'capture', write('bad-header.cap.jsonl', '{"type":"header",\n')], code: 1, stderr: /bad-header\.cap\.jsonl: header line is not JSON/ },
    { name: 'a capture file with a line that is not JSON', args: () => ['--format', 'capture', write('bad-line.cap.jsonl', capture('{"t":1,'))], code: 1, stderr: /bad-line\.cap\.jsonl:2: not JSON/ },
    { name: 'a capture record with hex zz11', args: () => ['--format', 'capture', write('zz.cap.jsonl', capture(`{"t":1,"dir":"tx","hex":"${identify}"}`, '{"t":2,"dir":"rx","hex":"zz11"}'))], code: 1, stderr: /recordsInvalid":1/ },
    { name: 'a capture cut mid-frame', args: () => ['--format', 'capture', write('cut.cap.jsonl', capture(`{"t":1,"dir":"tx","hex":"${identify.slice(0, 12)}"}`))], code: 1, stderr: /truncatedBytes":6/ },
    { name: '200 kB of random bytes as --format tmframe', args: () => ['--format', 'tmframe', '--frame-length', '64', '-'], input: junk(200_000, 1), code: 1, stderr: /200000 bytes skipped/ },
    { name: 'a TM capture cut mid-frame', args: () => ['--format', 'tmframe', '--frame-length', '64', '-'], input: tm.subarray(0, tm.length - 30), code: 1, stderr: /38 bytes of a truncated last unit/ },
    { name: 'a COBS capture cut mid-frame', args: () => ['--format', 'cobs', '-'], input: pings.subarray(0, pings.length - 5), code: 1, stderr: /truncatedBytes":\d+/ },
    { name: 'a board-link capture cut mid-frame', args: () => ['--format', 'boardlink', '-'], input: Buffer.from(identify.slice(0, 12), 'hex'), code: 1, stderr: /6 bytes of a truncated last unit/ },
  ];
  for (const c of cases) {
    it(`${c.name}: exit ${c.code}, says why, no stack trace`, () => {
      const r = runScript('decode', c.args(), c.input);
      expect(r.stderr).toMatch(c.stderr);
      expect(r.code).toBe(c.code);
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(STACK_LINE);
    });
  }

  it('a clean TM capture and a clean bench capture still exit 0', () => {
    expect(runScript('decode', ['--format', 'tmframe', '--frame-length', '64', '-'], tm).code).toBe(0);
    const r = runScript('decode', ['--format', 'capture', write('good.cap.jsonl', capture(`{"t":1,"dir":"tx","hex":"${identify}"}`))]);
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
