/**
 * npm run downlink -- [--seed N] [--out FILE] [--frame-length N] [--randomize|--no-randomize] [--ber X]
 * Simulates a pass's optical downlink and writes the received byte stream as a capture
 * file (each frame after 0x1ACFFC1D) plus FILE.summary.json: what was sent and received
 * per virtual channel. Check it with:
 *   npm run decode -- --format tmframe --frame-length N --randomized FILE
 */
import { writeFileSync } from 'node:fs';
import { writeDownlinkCapture } from '../hil/link/capture.ts';
import { simulateDownlinkPass } from '../hil/link/downlink-pass.ts';
import { DEFAULT_TM_FRAME_BYTES, TM_VC } from '../protocols/link/mission.ts';
import { intOption, numberOption, outputPath, parseCli, seedOption, usageError } from './cli.ts';

const USAGE = `usage: npm run downlink -- [options]

Simulates one pass's downlink (housekeeping and events on VC 0, key-distillation
messages on VC 1, relay data on VC 2, idle frames on VC 7) through the link model and
writes a capture plus a JSON summary of what was sent per virtual channel.
  --seed N            simulation seed (default 1); same seed, same bytes
  --out FILE          capture file (default captures/downlink.bin; its folder is created);
                      the summary goes to FILE.summary.json
  --frame-length N    TM frame length in octets, 16..2048 (default ${DEFAULT_TM_FRAME_BYTES})
  --randomize         pseudo-randomise frames (CCSDS 131.0-B; the default)
  --no-randomize      send frames without randomisation
  --ber X             bit error rate at zenith, 0..0.01 (default 0: clean link); worse at
                      low elevation; >0 also enables error bursts and drop-outs
  --duration-s S      simulated pass length in seconds (default 20)
  --bit-rate R        downlink rate in bit/s (default 2000000)
Check it: npm run decode -- --format tmframe --frame-length N [--randomized] FILE
exit: 0 ok, 1 failure, 2 usage error`;

const { values } = parseCli(
  {
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'captures/downlink.bin' },
    'frame-length': { type: 'string' },
    randomize: { type: 'boolean' },
    'no-randomize': { type: 'boolean' },
    ber: { type: 'string', default: '0' },
    'duration-s': { type: 'string', default: '20' },
    'bit-rate': { type: 'string', default: '2000000' },
  },
  USAGE,
  false,
);
const seed = seedOption(values.seed as string, USAGE) as number;
const frameLengthBytes = intOption('frame-length', values['frame-length'] as string | undefined, USAGE, 16, 2048) ?? DEFAULT_TM_FRAME_BYTES;
if (values.randomize && values['no-randomize']) usageError('give --randomize or --no-randomize, not both', USAGE);
const randomized = !values['no-randomize'];
const ber = numberOption('ber', values.ber as string, USAGE, 0, 0.01) as number;
const durationS = numberOption('duration-s', values['duration-s'] as string, USAGE, 0, 3600, true) as number;
const bitRate = numberOption('bit-rate', values['bit-rate'] as string, USAGE, 1e4, 1e10) as number;
const out = outputPath('out', values.out as string);

interface ReliableCounts {
  sender: { offered: number; transmissions: number; retransmissions: number; acknowledged: number };
  receiver: { delivered: number; duplicates: number; gaps: number };
}

/**
 * Why the reliable VC's received count exceeds what was sent: received counts every copy
 * that reached the ground, retransmissions included; delivery drops repeats.
 */
function reliableNote(r: ReliableCounts): string {
  const dropped = r.receiver.duplicates + r.receiver.gaps;
  const unacked = r.sender.offered - r.sender.acknowledged;
  return (
    `received counts every copy that reached the ground: the reliable channel (go-back-N) retransmits, ${r.sender.retransmissions} of its ${r.sender.transmissions} transmissions were repeats; ` +
    `delivery dropped ${dropped} copies (${r.receiver.duplicates} duplicates, ${r.receiver.gaps} out of order); ${unacked} of ${r.sender.offered} sent were not acknowledged when the pass ended`
  );
}

try {
  const { chunks, summary } = simulateDownlinkPass({
    seed,
    durationS,
    frameLengthBytes,
    randomized,
    berZenith: ber,
    bitRate,
    progress: (m) => process.stderr.write(`${m}\n`),
  });
  const bytes = writeDownlinkCapture(out, chunks);
  const summaryPath = `${out}.summary.json`;
  writeFileSync(summaryPath, `${JSON.stringify({ capture: out, captureBytes: bytes, ...summary }, null, 2)}\n`);
  const lines = Object.entries(summary.sent).map(([vc, t]) => {
    const counts = `VC${vc} ${t.name}: ${t.packets} sent / ${summary.received[vc]?.packets ?? 0} received / ${summary.delivered[vc]?.packets ?? 0} delivered`;
    return Number(vc) === TM_VC.distillation ? `${counts}\n  ${reliableNote(summary.reliable as unknown as ReliableCounts)}` : counts;
  });
  process.stderr.write(`wrote ${out} (${bytes} octets, ${summary.frames.total} frames) and ${summaryPath}\n${lines.join('\n')}\n`);
  process.stderr.write(`check: npm run decode -- --format tmframe --frame-length ${frameLengthBytes}${randomized ? ' --randomized' : ''} ${out}\n`);
} catch (e) {
  process.stderr.write(`downlink failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
