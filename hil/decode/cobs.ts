import { DelimiterParser } from '@serialport/parser-delimiter';
import type { Readable } from 'node:stream';
import { countError, type ErrorCounts, isProtocolError } from '../../protocols/errors.ts';
import { decodeSerialFrame, DEFAULT_MAX_FRAME_PAYLOAD } from '../../protocols/serial-frame.ts';
import { packetRecord } from './packet-record.ts';
import { PacketTally } from './spacepacket.ts';
import type { DecodeResult, Emit } from './types.ts';

/**
 * `--format cobs`: 0x00-delimited COBS frames (with their CRC-32C) each holding one
 * space packet, split by @serialport/parser-delimiter exactly as on a serial line.
 */
export async function decodeCobsStream(input: Readable, emit: Emit, maxPayload = DEFAULT_MAX_FRAME_PAYLOAD): Promise<DecodeResult> {
  const tally = new PacketTally();
  const frameErrors: ErrorCounts = {};
  let frame = 0;
  const onChunk = (chunk: Buffer) => {
    if (chunk.length === 0) return;
    frame++;
    let payload: Uint8Array;
    try {
      payload = decodeSerialFrame(chunk, maxPayload);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      countError(frameErrors, e);
      emit(tally.note({ frame, error: e.message, code: e.code }));
      return;
    }
    emit(tally.note({ frame, ...packetRecord(payload) }));
  };
  // 'data' events, not `for await`: async iteration read()s a byte stream, which joins
  // every chunk the parser pushed in one go back into one buffer, undoing the split.
  await new Promise<void>((resolve, reject) => {
    const parser = input.pipe(new DelimiterParser({ delimiter: [0x00] }));
    parser.on('data', onChunk);
    parser.on('end', resolve);
    parser.on('error', reject);
    input.on('error', reject);
  });
  return tally.result({ frames: frame, frameErrors });
}

