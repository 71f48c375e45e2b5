/** One byte-stream interface for every way the bench reaches a board. */
export interface ByteTransport {
  /** What a person needs to find the line: "port /dev/ttyUSB0", "tcp:127.0.0.1:7001", "in-memory apt". */
  readonly description: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  write(bytes: Uint8Array): void;
  onData(cb: (bytes: Uint8Array) => void): () => void;
  /** Called when the line goes away without close() (cable pulled, process died). */
  onClose(cb: (reason: string) => void): () => void;
}

export type TransportErrorCode = 'PORT_NOT_FOUND' | 'PORT_OPEN_FAILED' | 'CONNECT_FAILED' | 'NOT_OPEN';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Shared listener bookkeeping for transports. */
export class Listeners<T extends unknown[]> {
  private readonly set = new Set<(...a: T) => void>();
  add(cb: (...a: T) => void): () => void {
    this.set.add(cb);
    return () => this.set.delete(cb);
  }
  emit(...a: T): void {
    for (const cb of [...this.set]) cb(...a);
  }
}
