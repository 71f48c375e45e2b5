import { SeededRandom } from '../../boards/link-sim/prng.ts';
import { encodeRequest, frameMessage } from '../../protocols/board-link.ts';
import { encodeCommand } from '../../protocols/dictionary/index.ts';
import { TmFramer } from '../../protocols/link/tm-framer.ts';
import { VcPacketSender } from '../../protocols/link/vc-packet-sender.ts';

/** Inputs for `npm run decode` tests: clean captures and what is cut or garbled from them. */

/** `n` seeded random bytes. */
export const junk = (n: number, seed: number) => {
  const rng = new SeededRandom(seed);
  return Uint8Array.from({ length: n }, () => rng.nextU32() & 0xff);
};

/** Six PING commands in 64-octet TM frames (VC 1, OCF and FECF, not randomised). */
export function tmCapture(): Uint8Array {
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
/** A board-link IDENTIFY request frame, as a capture record's hex. */
export const identifyHex = Buffer.from(frameMessage(encodeRequest(1, { op: 'IDENTIFY' }))).toString('hex');
/** A bench capture file's text: the header line, then `records`. */
export const capture = (...records: string[]) => [capHeader, ...records].join('\n') + '\n';
