import { isProtocolError } from '../../protocols/errors.ts';
import { DelimitedSplitter, encodeSerialFrame, SerialFrameReceiver } from '../../protocols/serial-frame.ts';
import type { ByteTransport } from '../transport/types.ts';

/**
 * The payload controller as the bench sees it: a stream of PUS packets. The bench
 * writes complete TC packets and receives complete TM packets. Implementations: an
 * in-process endpoint (the firmware model bound directly), or PUS packets in COBS
 * serial frames over any transport (a payload on a serial line).
 */
export interface PayloadEndpoint {
  readonly description: string;
  sendTc(packet: Uint8Array): void;
  onTm(cb: (packet: Uint8Array) => void): () => void;
  close?(): Promise<void>;
}

/** Both ends of an in-process endpoint: the bench gets `endpoint`; the payload model uses `payloadSide`. */
export function inMemoryEndpoint(description = 'in-process payload'): {
  endpoint: PayloadEndpoint;
  payloadSide: { onTc(cb: (packet: Uint8Array) => void): () => void; sendTm(packet: Uint8Array): void };
} {
  const tcHandlers = new Set<(p: Uint8Array) => void>();
  const tmHandlers = new Set<(p: Uint8Array) => void>();
  return {
    endpoint: {
      description,
      sendTc: (p) => queueMicrotask(() => tcHandlers.forEach((h) => h(p.slice()))),
      onTm: (cb) => {
        tmHandlers.add(cb);
        return () => tmHandlers.delete(cb);
      },
    },
    payloadSide: {
      onTc: (cb) => {
        tcHandlers.add(cb);
        return () => tcHandlers.delete(cb);
      },
      sendTm: (p) => queueMicrotask(() => tmHandlers.forEach((h) => h(p.slice()))),
    },
  };
}

/** PUS packets carried one per serial frame (COBS + CRC-32C + 0x00) over a transport. */
export class FramedPacketEndpoint implements PayloadEndpoint {
  private readonly splitter = new DelimitedSplitter();
  readonly receiver = new SerialFrameReceiver();
  private readonly handlers = new Set<(p: Uint8Array) => void>();

  constructor(private readonly transport: ByteTransport) {
    transport.onData((b) => {
      for (const chunk of this.splitter.push(b)) {
        const r = this.receiver.accept(chunk);
        if (r instanceof Uint8Array) this.handlers.forEach((h) => h(r));
        else if (r !== null && !isProtocolError(r)) throw r;
      }
    });
  }
  get description(): string {
    return `PUS over ${this.transport.description}`;
  }
  sendTc(packet: Uint8Array): void {
    this.transport.write(encodeSerialFrame(packet));
  }
  onTm(cb: (p: Uint8Array) => void): () => void {
    this.handlers.add(cb);
    return () => this.handlers.delete(cb);
  }
  close(): Promise<void> {
    return this.transport.close();
  }
}
