import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeTmFrameCapture } from '../../hil/decode/tmframe.ts';
import type { DecodeRecord } from '../../hil/decode/types.ts';
import { writeDownlinkCapture } from '../../hil/link/capture.ts';
import { type DownlinkPassSummary, simulateDownlinkPass, type VcTally } from '../../hil/link/downlink-pass.ts';

const dir = mkdtempSync(join(tmpdir(), 'downlink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

/** Tallies decoded packet records the way the summary tallies packets. */
function tallyRecords(records: DecodeRecord[]): Record<string, VcTally> {
  const out: Record<string, VcTally> = {};
  for (const r of records) {
    if (r.kind === 'tmframe') continue;
    expect(r.error, JSON.stringify(r)).toBeUndefined();
    const vc = String(r.vcid);
    const t = (out[vc] ??= { name: '', packets: 0, bytes: 0, apids: {} });
    t.packets++;
    t.bytes += r.length as number;
    const a = (t.apids[String(r.apid)] ??= { packets: 0, firstSeq: r.seq as number, lastSeq: r.seq as number });
    a.packets++;
    a.lastSeq = r.seq as number;
  }
  return out;
}

function withoutNames(t: Record<string, VcTally>) {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { packets: v.packets, bytes: v.bytes, apids: v.apids }]));
}

describe('downlink capture from a simulated pass decodes with --format tmframe', () => {
  it('clean link: every VC reassembled, counters equal to what was sent', () => {
    const { chunks, summary } = simulateDownlinkPass({ seed: 3, durationS: 3, bitRate: 2e6 });
    const path = join(dir, 'clean.bin');
    writeDownlinkCapture(path, chunks);
    const records: DecodeRecord[] = [];
    const r = decodeTmFrameCapture(readFileSync(path), { frameLengthBytes: 1115, randomized: true }, (x) => records.push(x));
    expect(r.invalid).toBe(0);
    const frames = records.filter((x) => x.kind === 'tmframe');
    expect(frames.length).toBe(summary.frames.total);
    expect(frames.every((f) => f.fecfOk === true && f.scid === 0x1a5)).toBe(true);
    const decoded = tallyRecords(records);
    expect(Object.keys(summary.sent).sort()).toEqual(['0', '1', '2']);
    expect(withoutNames(decoded)).toEqual(withoutNames(summary.sent));
    // Housekeeping decodes against the dictionary with named fields.
    expect(records.find((x) => x.vcid === 0 && x.name === 'LINK_HK')).toBeDefined();
  });

  it('noisy link: what decodes is exactly what the ground receiver got, in order, nothing corrupted', () => {
    const { chunks, summary } = simulateDownlinkPass({ seed: 11, durationS: 4, bitRate: 2e6, berZenith: 5e-6 });
    const records: DecodeRecord[] = [];
    const capture = Buffer.concat(chunks);
    const r = decodeTmFrameCapture(capture, { frameLengthBytes: 1115, randomized: true }, (x) => records.push(x));
    expect(summary.link.bitErrors).toBeGreaterThan(0);
    expect(r.invalid).toBeGreaterThan(0); // frames failing their FECF are reported
    const decoded = tallyRecords(records);
    expect(withoutNames(decoded)).toEqual(withoutNames(summary.received));
    // Best-effort channels lose packets; the reliable distillation channel repeats them.
    for (const vc of ['0', '2']) expect(decoded[vc].packets).toBeLessThanOrEqual(summary.sent[vc].packets);
    expect((summary.reliable.sender as { retransmissions: number }).retransmissions).toBeGreaterThan(0);
    expect(summary.delivered['1'].packets).toBeLessThanOrEqual(summary.sent['1'].packets);
  });

  it('through the CLIs: npm run downlink, then npm run decode -- --format tmframe', () => {
    const out = join(dir, 'cli.bin');
    execFileSync(tsx, ['scripts/downlink.ts', '--seed', '5', '--duration-s', '2', '--frame-length', '892', '--out', out], { stdio: 'pipe' });
    const summary = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8')) as DownlinkPassSummary;
    const dec = spawnSync(tsx, ['scripts/decode.ts', '--format', 'tmframe', '--frame-length', '892', '--randomized', out], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(dec.status, dec.stderr).toBe(0);
    const records = dec.stdout.trim().split('\n').map((l) => JSON.parse(l) as DecodeRecord);
    expect(withoutNames(tallyRecords(records))).toEqual(withoutNames(summary.sent));
    expect(dec.stderr).toMatch(/summary: .*"framesInvalid":0/);
    // Wrong frame length: nothing locks, so the CLI reports failure rather than silence.
    const bad = spawnSync(tsx, ['scripts/decode.ts', '--format', 'tmframe', '--frame-length', '900', '--randomized', out], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(bad.status).toBe(1);
  });

  it('npm run downlink refuses bad options with exit 2', () => {
    const r = spawnSync(tsx, ['scripts/downlink.ts', '--ber', 'lots'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--ber/);
  });
});
