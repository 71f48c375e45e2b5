/**
 * npm run decode -- [--format spacepacket|cobs|tmframe] [FILE|-]
 * Decodes and validates a capture: JSON Lines on stdout (one object per packet or
 * frame), a summary on stderr. Exit 0 all valid, 1 anything invalid, 2 usage error.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { readCapture } from '../hil/capture.ts';
import { decodeBoardLinkStream, decodeCaptureRecords } from '../hil/capture-decode.ts';
import { decodeCobsStream } from '../hil/decode/cobs.ts';
import { decodeSpacePacketStream } from '../hil/decode/spacepacket.ts';
import type { DecodeRecord, DecodeResult } from '../hil/decode/types.ts';
import { intOption, parseCli, usageError } from './cli.ts';

const USAGE = `usage: npm run decode -- [--format FORMAT] [options] [FILE|-]

Decodes a capture and validates every packet against the dictionary.
  FILE | -             input file, or - (default) for standard input
  --format FORMAT      spacepacket (default): concatenated CCSDS space packets
                       cobs: 0x00-delimited COBS frames (CRC-32C), one space packet each
                       tmframe: TM transfer frames, each after the 0x1ACFFC1D marker
                       boardlink: 0x00-delimited COBS frames of the board link (one
                         direction of a bench capture: npm run hil -- --export-capture)
                       capture: a bench capture file (.cap.jsonl), both directions, timed
  --frame-length N     tmframe: frame length in octets (required for tmframe)
  --randomized         tmframe: frames are pseudo-randomised (CCSDS 131.0-B)
  --no-fecf            tmframe: frames carry no frame error control field
  --no-ocf             tmframe: frames carry no operational control field
stdout: JSON Lines (apid, type, seq, length, service, subtype, name, fields | error)
stderr: summary (packets, valid, invalid, sequence gaps per APID)
exit:   0 all valid, 1 something invalid, 2 usage error`;

const { values, positionals } = parseCli(
  {
    format: { type: 'string', default: 'spacepacket' },
    'frame-length': { type: 'string' },
    randomized: { type: 'boolean', default: false },
    'no-fecf': { type: 'boolean', default: false },
    'no-ocf': { type: 'boolean', default: false },
  },
  USAGE,
);
if (positionals.length > 1) usageError('give at most one input file', USAGE);
const file = positionals[0] ?? '-';
if (file !== '-' && !existsSync(file)) usageError(`no such file: ${file}`, USAGE);
const format = values.format as string;
const frameLength = intOption('frame-length', values['frame-length'] as string | undefined, USAGE, 8, 65536);

const out: string[] = [];
const emit = (r: DecodeRecord) => {
  out.push(JSON.stringify(r));
  if (out.length >= 256) flush();
};
const flush = () => {
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
  out.length = 0;
};
const readAll = (): Uint8Array => (file === '-' ? readFileSync(0) : readFileSync(file));

let result: DecodeResult;
switch (format) {
  case 'spacepacket':
    result = decodeSpacePacketStream(readAll(), emit);
    break;
  case 'cobs':
    result = await decodeCobsStream(file === '-' ? process.stdin : createReadStream(file), emit);
    break;
  case 'boardlink':
    result = await decodeBoardLinkStream(file === '-' ? process.stdin : createReadStream(file), emit);
    break;
  case 'capture':
    if (file === '-') usageError('--format capture reads a capture file, not standard input', USAGE);
    result = decodeCaptureRecords(readCapture(file), emit);
    break;
  case 'tmframe': {
    if (frameLength === undefined) usageError('--format tmframe needs --frame-length N', USAGE);
    const { decodeTmFrameCapture } = await import('../hil/decode/tmframe.ts');
    result = decodeTmFrameCapture(
      readAll(),
      { frameLengthBytes: frameLength, randomized: values.randomized as boolean, fecf: !values['no-fecf'], ocf: !values['no-ocf'] },
      emit,
    );
    break;
  }
  default:
    usageError(`unknown format '${format}' (spacepacket, cobs, tmframe, boardlink or capture)`, USAGE);
}
flush();
process.stderr.write(`summary: ${JSON.stringify(result.summary)}\n`);
process.exitCode = result.invalid > 0 ? 1 : 0;
