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
  const parser = input.pipe(new DelimiterParser({ delimiter: [0x00] }));
  for await (const chunk of parser as AsyncIterable<Buffer>) {
    if (chunk.length === 0) continue;
    frame++;
    let payload: Uint8Array;
    try {
      payload = decodeSerialFrame(chunk, maxPayload);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      countError(frameErrors, e);
      emit(tally.note({ frame, error: e.message, code: e.code }));
      continue;
    }
    emit(tally.note({ frame, ...packetRecord(payload) }));
  }
  return tally.result({ frames: frame, frameErrors });
}

