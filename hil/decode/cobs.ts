import type { Readable } from 'node:stream';
import { countError, type ErrorCounts, isProtocolError, type ProtocolError } from '../../protocols/errors.ts';
import { DEFAULT_MAX_FRAME_PAYLOAD, DelimitedSplitter, decodeSerialFrame, findTrailingFrame, FRAME_DELIMITER, maxEncodedFrameLength } from '../../protocols/serial-frame.ts';
import { packetRecord } from './packet-record.ts';
import { PacketTally } from './spacepacket.ts';
import type { DecodeResult, Emit } from './types.ts';

/** One unit of a 0x00-delimited COBS stream: a frame's payload, or why a stretch of bytes is not one. */
export type CobsUnit =
  | { offset: number; length: number; payload: Uint8Array }
  | { offset: number; length: number; error: ProtocolError }
  | { offset: number; length: number; truncated: true };

/**
 * Splits a 0x00-delimited COBS byte stream into frames with their byte offsets, in
 * time linear in the input: the splitter buffers at most one longest legal frame, so
 * a run of bytes without 0x00 is cut down as it arrives (its dropped head counts as
 * skipped) instead of being re-joined and re-searched on every read. A refused chunk
 * is reported, then searched for a good frame at its end (findTrailingFrame): a hit
 * delimiter glues a frame to the bytes before it, and that frame is intact.
 */
export class CobsFrameScanner {
  private readonly split: DelimitedSplitter;
  /** Absolute offset of the first byte after the last delimiter. */
  private runStart = 0;
  private pos = 0;
  frames = 0;
  skippedBytes = 0;
  truncatedBytes = 0;
  readonly frameErrors: ErrorCounts = {};

  constructor(readonly maxPayload = DEFAULT_MAX_FRAME_PAYLOAD) {
    this.split = new DelimitedSplitter(maxEncodedFrameLength(maxPayload));
  }

  push(bytes: Uint8Array, out: (u: CobsUnit) => void): void {
    const chunks = this.split.push(bytes);
    // Each chunk ends at the next delimiter of `bytes`; its span starts after the
    // previous one, so bytes the splitter dropped stay inside the span they came from.
    let from = 0;
    for (const chunk of chunks) {
      const d = bytes.indexOf(FRAME_DELIMITER, from);
      from = d + 1;
      const end = this.pos + d;
      this.chunk(chunk, this.runStart, end - this.runStart, out);
      this.runStart = end + 1;
    }
    this.pos += bytes.length;
  }

  /** End of input: bytes after the last delimiter are an unterminated (truncated) frame. */
  end(out: (u: CobsUnit) => void): void {
    this.split.flush();
    const length = this.pos - this.runStart;
    if (length > 0) {
      this.truncatedBytes += length;
      out({ offset: this.runStart, length, truncated: true });
    }
  }

  private chunk(chunk: Uint8Array, offset: number, length: number, out: (u: CobsUnit) => void): void {
    if (length === 0) return; // back-to-back delimiters: not a frame
    this.frames++;
    this.skippedBytes += length - chunk.length;
    try {
      out({ offset, length, payload: decodeSerialFrame(chunk, this.maxPayload) });
      return;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      countError(this.frameErrors, e);
      const found = findTrailingFrame(chunk, this.maxPayload);
      const badLength = found ? length - (chunk.length - found.offset) : length;
      out({ offset, length: badLength, error: e });
      if (found) {
        this.frames++;
        out({ offset: offset + badLength, length: length - badLength, payload: found.payload });
      }
    }
  }
}

/**
 * `--format cobs`: 0x00-delimited COBS frames (with their CRC-32C) each holding one
 * space packet. One record per frame (`offset`: where its encoded bytes start), one
 * per refused stretch, one for an unterminated last frame.
 */
export class CobsPacketDecoder {
  private readonly scanner: CobsFrameScanner;
  private readonly tally = new PacketTally();
  private frame = 0;

  constructor(
    private readonly emit: Emit,
    maxPayload = DEFAULT_MAX_FRAME_PAYLOAD,
  ) {
    this.scanner = new CobsFrameScanner(maxPayload);
  }

  push(bytes: Uint8Array): void {
    this.scanner.push(bytes, (u) => this.unit(u));
  }

  end(): DecodeResult {
    this.scanner.end((u) => this.unit(u));
    const s = this.scanner;
    const r = this.tally.result({ frames: s.frames, frameErrors: s.frameErrors, skippedBytes: s.skippedBytes, truncatedBytes: s.truncatedBytes });
    return { ...r, skippedBytes: s.skippedBytes, truncatedBytes: s.truncatedBytes };
  }

  private unit(u: CobsUnit): void {
    const frame = ++this.frame;
    const at = { frame, offset: u.offset };
    if ('payload' in u) this.emit(this.tally.note({ ...at, ...packetRecord(u.payload) }));
    else if ('error' in u) this.emit(this.tally.note({ ...at, length: u.length, error: u.error.message, code: u.error.code, layer: 'transport' }));
    else this.emit(this.tally.note({ ...at, length: u.length, error: `input ends ${u.length} bytes into a frame (no 0x00 after it)`, code: 'TRUNCATED', layer: 'transport' }));
  }
}

export function decodeCobsBytes(bytes: Uint8Array, emit: Emit, maxPayload = DEFAULT_MAX_FRAME_PAYLOAD): DecodeResult {
  const d = new CobsPacketDecoder(emit, maxPayload);
  d.push(bytes);
  return d.end();
}

export async function decodeCobsStream(input: Readable, emit: Emit, maxPayload = DEFAULT_MAX_FRAME_PAYLOAD): Promise<DecodeResult> {
  const d = new CobsPacketDecoder(emit, maxPayload);
  for await (const chunk of input) d.push(chunk as Buffer);
  return d.end();
}
