import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { type ByteTransport, Listeners, TransportError } from './types.ts';

export interface SerialOptions {
  path: string;
  baudRate: number;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
}

/** A serial device (real UART, USB adapter, or a pseudo-terminal of an emulator) through `serialport`. */
export class SerialTransport implements ByteTransport {
  readonly description: string;
  private port: SerialPort | null = null;
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closed = new Listeners<[string]>();
  private closing = false;

  constructor(private readonly opts: SerialOptions) {
    this.description = `port ${opts.path}`;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    if (!existsSync(this.opts.path)) throw new TransportError('PORT_NOT_FOUND', `serial port ${this.opts.path} does not exist`);
    this.closing = false;
    const port = new SerialPort({
      path: this.opts.path,
      baudRate: this.opts.baudRate,
      parity: this.opts.parity ?? 'none',
      stopBits: this.opts.stopBits ?? 1,
      dataBits: 8,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(new TransportError('PORT_OPEN_FAILED', `cannot open serial port ${this.opts.path}: ${err.message}`)) : resolve())),
    );
    port.on('data', (b: Buffer) => this.data.emit(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    port.on('close', () => {
      if (!this.closing) this.closed.emit(`serial port ${this.opts.path} closed`);
    });
    port.on('error', (e: Error) => {
      if (!this.closing) this.closed.emit(`serial port ${this.opts.path}: ${e.message}`);
    });
    this.port = port;
  }

  async close(): Promise<void> {
    const p = this.port;
    this.port = null;
    this.closing = true;
    if (!p || !p.isOpen) return;
    await new Promise<void>((resolve) => p.close(() => resolve()));
  }

  write(bytes: Uint8Array): void {
    if (!this.port?.isOpen) throw new TransportError('NOT_OPEN', `serial port ${this.opts.path} is not open`);
    this.port.write(Buffer.from(bytes));
  }

  onData(cb: (bytes: Uint8Array) => void): () => void {
    return this.data.add(cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    return this.closed.add(cb);
  }
}
