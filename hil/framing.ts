import { DelimiterParser } from '@serialport/parser-delimiter';
import type { Clock } from '../boards/clock.ts';
import { type BoardMessage, decodeBoardMessage, frameMessage } from '../protocols/board-link.ts';
import { countError, type ErrorCounts, isProtocolError, ProtocolError } from '../protocols/errors.ts';
import { DEFAULT_MAX_FRAME_PAYLOAD, FRAME_DELIMITER, maxEncodedFrameLength, SerialFrameReceiver } from '../protocols/serial-frame.ts';
import type { CaptureWriter } from './capture.ts';
import type { ByteTransport } from './transport/types.ts';

/**
 * Framing over any transport: bytes are split on 0x00 by @serialport/parser-delimiter,
 * each chunk is checked (COBS, CRC-32C, size) and decoded as a board-link message.
 * Garbage and partial frames are counted and dropped; the stream resynchronises at
 * the next delimiter. Every byte each way and every rejected chunk go to the capture.
 */
export class FrameLink {
  private readonly parser = new DelimiterParser({ delimiter: [FRAME_DELIMITER] });
  private readonly receiver = new SerialFrameReceiver(DEFAULT_MAX_FRAME_PAYLOAD);
  private readonly handlers = new Set<(m: BoardMessage) => void>();
  private sinceDelimiter = 0;
  private readonly maxChunk = maxEncodedFrameLength(DEFAULT_MAX_FRAME_PAYLOAD);
  /** Frames whose payload was a valid frame but not a valid board-link message. */
  readonly messageErrors: ErrorCounts = {};
  messagesOk = 0;
  bytesRx = 0;
  bytesTx = 0;

  constructor(
    readonly transport: ByteTransport,
    private readonly clock: Clock,
    private capture: CaptureWriter | null = null,
  ) {
    this.parser.on('data', (chunk: Buffer) => this.onChunk(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    transport.onData((b) => this.onBytes(b));
  }

  get frameErrors(): ErrorCounts {
    return this.receiver.errors;
  }

  /** Frames dropped by the framing or message decoder. */
  get rejected(): number {
    return this.receiver.framesDropped + Object.values(this.messageErrors).reduce((a, b) => a + (b ?? 0), 0);
  }

  setCapture(c: CaptureWriter | null): void {
    this.capture = c;
  }

  onMessage(cb: (m: BoardMessage) => void): () => void {
    this.handlers.add(cb);
    return () => this.handlers.delete(cb);
  }

  send(message: Uint8Array): void {
    const frame = frameMessage(message);
    this.capture?.bytes(this.clock.now(), 'tx', frame);
    this.bytesTx += frame.length;
    this.transport.write(frame);
  }

  note(event: string, detail?: string): void {
    this.capture?.event(this.clock.now(), event, detail);
  }

  private onBytes(b: Uint8Array): void {
    this.capture?.bytes(this.clock.now(), 'rx', b);
    this.bytesRx += b.length;
    // The delimiter parser buffers without bound; a run of garbage with no 0x00 is
    // cut here by a synthetic delimiter, which yields a FRAME_TOO_LONG reject.
    let start = 0;
    for (let i = 0; i < b.length; i++) {
      if (b[i] === FRAME_DELIMITER) this.sinceDelimiter = 0;
      else if (++this.sinceDelimiter > this.maxChunk) {
        this.parser.write(Buffer.from(b.subarray(start, i)));
        this.parser.write(Buffer.from([FRAME_DELIMITER]));
        start = i;
        this.sinceDelimiter = 1;
      }
    }
    this.parser.write(Buffer.from(b.subarray(start)));
  }

  private onChunk(chunk: Uint8Array): void {
    let r = this.receiver.accept(chunk);
    if (r === null) return;
    if (r instanceof ProtocolError) {
      this.capture?.reject(this.clock.now(), 'rx', r.code, r.message, chunk);
      // A hit delimiter glues an intact frame to the bytes before it: keep that frame.
      r = this.receiver.recover(chunk);
      if (r === null) return;
    }
    let m: BoardMessage;
    try {
      m = decodeBoardMessage(r);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      countError(this.messageErrors, e);
      this.capture?.reject(this.clock.now(), 'rx', e.code, e.message, chunk);
      return;
    }
    this.messagesOk++;
    for (const h of [...this.handlers]) h(m);
  }
}
