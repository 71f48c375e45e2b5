/**
 * npm run decode -- [--format spacepacket|cobs|tmframe|boardlink|capture] [FILE|-]
 * Decodes and validates a capture: JSON Lines on stdout (one object per packet or
 * frame), a summary on stderr. Exit 0 all valid, 1 anything invalid, skipped or cut
 * off (or unreadable input), 2 usage error.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { type Capture, readCapture } from '../hil/capture.ts';
import { decodeBoardLinkStream, decodeCaptureRecords } from '../hil/capture-decode.ts';
import { decodeCobsStream } from '../hil/decode/cobs.ts';
import { decodeSpacePacketStream } from '../hil/decode/spacepacket.ts';
import type { DecodeRecord, DecodeResult } from '../hil/decode/types.ts';
import { MAX_TM_FRAME_BYTES, MIN_SYNC_FRAME_BYTES, minTmFrameBytes } from '../protocols/link/tm-frame.ts';
import { fail, intOption, parseCli, usageError } from './cli.ts';

const USAGE = `usage: npm run decode -- [--format FORMAT] [options] [FILE|-]

Decodes a capture and validates every packet against the dictionary.
  FILE | -             input file, or - (default) for standard input
  --format FORMAT      spacepacket (default): concatenated CCSDS space packets
                       cobs: 0x00-delimited COBS frames (CRC-32C), one space packet each
                       tmframe: TM transfer frames, each after the 0x1ACFFC1D marker
                       boardlink: 0x00-delimited COBS frames of the board link (one
                         direction of a bench capture: npm run hil -- --export-capture)
                       capture: a bench capture file (.cap.jsonl), both directions, timed
  --frame-length N     tmframe: frame length in octets (required for tmframe; at least
                       the header, OCF and FECF plus one data octet: 13 with both)
  --randomized         tmframe: frames are pseudo-randomised (CCSDS 131.0-B)
  --no-fecf            tmframe: frames carry no frame error control field (the one
                       layout fact a frame's header does not give)
  --ocf | --no-ocf     tmframe: what you expect of the operational control field. Not
                       needed: each frame's header says whether it has an OCF (and a
                       secondary header, sync flag, packet order, segment length id,
                       first header pointer), and the frame is decoded as it says;
                       frames that contradict the flag are counted once in the summary
                       ("ocfFlagOverridden") with one line on stderr
stdout: JSON Lines (offset, apid, type, seq, length, service, subtype, name, fields | error)
        an invalid record still has every header fact the bytes hold (apid, type,
        seqFlags, seq, length, service, subtype, sid/eventId/functionId, name) and
        "layer": "transport" (CRC/PEC, header, length field, cut off) or "dictionary"
        (well formed, but the data do not fit the dictionary's layout or ranges)
stderr: summary (packets, valid, invalid; per APID sequence gaps (forward jumps only),
        duplicates (a count seen again: retransmissions), late and resyncs; bytes
        skipped/truncated)
samples: npm run decode -- docs/samples/packets.bin
         npm run decode -- --format cobs docs/samples/packets.cobs
exit:   0 all valid, 1 something invalid, skipped or cut off, 2 usage error`;

const FORMATS = ['spacepacket', 'cobs', 'tmframe', 'boardlink', 'capture'];

const { values, positionals } = parseCli(
  {
    format: { type: 'string', default: 'spacepacket' },
    'frame-length': { type: 'string' },
    randomized: { type: 'boolean', default: false },
    'no-fecf': { type: 'boolean', default: false },
    ocf: { type: 'boolean', default: false },
    'no-ocf': { type: 'boolean', default: false },
  },
  USAGE,
);
if (positionals.length > 1) usageError('give at most one input file', USAGE);
const file = positionals[0] ?? '-';
const format = values.format as string;
if (!FORMATS.includes(format)) usageError(`unknown format '${format}' (${FORMATS.join(', ')})`, USAGE);
if (file !== '-') {
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    usageError(`no such file: ${file}`, USAGE);
  }
  if (!isFile) usageError(`not a file: ${file} (give a capture file, or - for standard input)`, USAGE);
}
if (format === 'capture' && file === '-') usageError('--format capture reads a capture file, not standard input', USAGE);
if (values.ocf && values['no-ocf']) usageError('give --ocf or --no-ocf, not both', USAGE);
/** What the user said of the OCF; undefined when nothing (each frame's header decides either way). */
const userOcf = values.ocf ? true : values['no-ocf'] ? false : undefined;
// The --frame-length bound assumes an OCF unless told otherwise.
const tmLayout = { ocf: userOcf ?? true, fecf: !values['no-fecf'] };
// The bound is the library's own (minTmFrameBytes), so the CLI never passes what the receiver refuses.
const minFrame = minTmFrameBytes(tmLayout);
const rawFrameLength = values['frame-length'] as string | undefined;
if (rawFrameLength !== undefined && !(Number(rawFrameLength) >= minFrame)) {
  const parts = ['6 header', tmLayout.ocf ? '4 OCF' : '', tmLayout.fecf ? '2 FECF' : '', '1 data'].filter(Boolean).join(' + ');
  const sync = minFrame === MIN_SYNC_FRAME_BYTES ? `; the frame synchroniser needs ${MIN_SYNC_FRAME_BYTES}` : '';
  usageError(`--frame-length must be a whole number in ${minFrame}..${MAX_TM_FRAME_BYTES} (the TM receiver's bound: ${parts} octets${sync}), got '${rawFrameLength}'`, USAGE);
}
const frameLength = intOption('frame-length', rawFrameLength, USAGE, minFrame, MAX_TM_FRAME_BYTES);
if (format === 'tmframe' && frameLength === undefined) usageError('--format tmframe needs --frame-length N', USAGE);

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
const input = () => (file === '-' ? process.stdin : createReadStream(file));

async function decode(): Promise<DecodeResult> {
  switch (format) {
    case 'spacepacket':
      return decodeSpacePacketStream(readAll(), emit);
    case 'cobs':
      return decodeCobsStream(input(), emit);
    case 'boardlink':
      return decodeBoardLinkStream(input(), emit);
    case 'capture': {
      let cap: Capture;
      try {
        cap = readCapture(file);
      } catch (e) {
        // readCapture names the file and line; JSON.parse of a bad header does not.
        throw new InputError(e instanceof SyntaxError ? `${file}: header line is not JSON (${e.message})` : (e as Error).message);
      }
      return decodeCaptureRecords(cap, emit);
    }
    default: {
      const { decodeTmFrameCapture } = await import('../hil/decode/tmframe.ts');
      return decodeTmFrameCapture(readAll(), { frameLengthBytes: frameLength as number, randomized: values.randomized as boolean, ocf: userOcf, fecf: tmLayout.fecf }, emit);
    }
  }
}

/** Input that cannot be decoded at all (not a capture file, an I/O error): one line, exit 1. */
class InputError extends Error {}

let result: DecodeResult;
try {
  result = await decode();
} catch (e) {
  const io = typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).syscall !== undefined;
  if (!(e instanceof InputError) && !io) throw e;
  flush();
  fail((e as Error).message, 1);
}
flush();
process.stderr.write(`summary: ${JSON.stringify(result.summary)}\n`);
for (const note of result.notes ?? []) process.stderr.write(`note: ${note}\n`);
const lost = (result.skippedBytes ?? 0) + (result.truncatedBytes ?? 0);
if (lost > 0) process.stderr.write(`input not fully decoded: ${result.skippedBytes ?? 0} bytes skipped, ${result.truncatedBytes ?? 0} bytes of a truncated last unit\n`);
process.exitCode = result.invalid > 0 || lost > 0 ? 1 : 0;
