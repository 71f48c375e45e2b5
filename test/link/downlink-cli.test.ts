import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from '../cli/run.ts';

/**
 * Issue 13: the noisy simulated downlink, end to end. `npm run downlink` says why the
 * distillation VC received more than it sent, and `decode --format tmframe` counts the
 * retransmitted packets as duplicates, not as forward gaps modulo 16384.
 */
describe('npm run downlink then decode --format tmframe on a noisy link', () => {
  const dir = mkdtempSync(join(tmpdir(), 'downlink-cli-'));
  const out = join(dir, 'downlink.bin');
  const dl = runScript('downlink', ['--seed', '1', '--ber', '1e-5', '--out', out]);

  it('the summary line explains received > sent on the reliable VC with the channel counters', () => {
    expect(dl.code, dl.stderr).toBe(0);
    const s = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8'));
    const sent = s.sent['1'].packets;
    const received = s.received['1'].packets;
    const delivered = s.delivered['1'].packets;
    expect(received).toBeGreaterThan(sent); // the case the issue saw
    expect(dl.stderr).toContain(`VC1 distillation: ${sent} sent / ${received} received / ${delivered} delivered\n`);
    const tx = s.reliable.sender;
    const rx = s.reliable.receiver;
    expect(rx.duplicates + rx.gaps).toBe(received - delivered);
    expect(dl.stderr).toContain(
      `received counts every copy that reached the ground: the reliable channel (go-back-N) retransmits, ${tx.retransmissions} of its ${tx.transmissions} transmissions were repeats; ` +
        `delivery dropped ${received - delivered} copies (${rx.duplicates} duplicates, ${rx.gaps} out of order); ${tx.offered - tx.acknowledged} of ${tx.offered} sent were not acknowledged when the pass ended`,
    );
  });

  it('decode counts repeats as duplicates: gaps stay below the packets sent', () => {
    const s = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8'));
    const r = runScript('decode', ['--format', 'tmframe', '--frame-length', String(s.frameLengthBytes), '--randomized', out]);
    const summary = JSON.parse(/summary: (.*)/.exec(r.stderr)![1]);
    const apid = Object.keys(s.sent['1'].apids)[0];
    const key = `TM:${apid}`;
    const distinctSeen = s.received['1'].packets - (summary.duplicates[key] ?? 0);
    expect(summary.duplicates[key]).toBeGreaterThan(0);
    // Every count is one of the 390 sent: what was seen plus what is counted missing fits in them.
    expect((summary.sequenceGaps[key] ?? 0) + distinctSeen).toBeLessThanOrEqual(s.sent['1'].packets);
    const records = r.stdout.split('\n').filter((l) => l.includes(`"apid":${apid}`)).map((l) => JSON.parse(l));
    expect(records.filter((x) => x.seqRepeat === 'duplicate').length).toBe(summary.duplicates[key]);
  });
});
