import { Socket } from 'node:net';
import { type ByteTransport, Listeners, TransportError } from './types.ts';

/** Raw TCP, the way ser2net (and board farms) export a serial port: bytes in, bytes out, no protocol. */
export class TcpTransport implements ByteTransport {
  readonly description: string;
  private sock: Socket | null = null;
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closed = new Listeners<[string]>();
  private closing = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connectTimeoutMs = 2000,
  ) {
    this.description = tcpSpec(host, port);
  }

  get isOpen(): boolean {
    return this.sock !== null && !this.sock.destroyed;
  }

  async open(): Promise<void> {
    this.closing = false;
    const sock = new Socket();
    sock.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new TransportError('CONNECT_FAILED', `no TCP connection to ${this.host}:${this.port} within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(new TransportError('CONNECT_FAILED', `cannot connect to ${this.host}:${this.port}: ${e.message}`));
      });
      sock.connect(this.port, this.host, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    sock.removeAllListeners('error');
    sock.on('data', (b: Buffer) => this.data.emit(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    sock.on('error', () => {});
    sock.on('close', () => {
      if (!this.closing) this.closed.emit(`${this.description} closed by the far end`);
    });
    this.sock = sock;
  }

  async close(): Promise<void> {
    this.closing = true;
    const s = this.sock;
    this.sock = null;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => s.destroy(), 200).unref();
    });
  }

  write(bytes: Uint8Array): void {
    if (!this.sock || this.sock.destroyed) throw new TransportError('NOT_OPEN', `${this.description} is not connected`);
    this.sock.write(bytes);
  }

  onData(cb: (bytes: Uint8Array) => void): () => void {
    return this.data.add(cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    return this.closed.add(cb);
  }
}

/** The one spelling of a TCP line (ser2net, `npm run emulate -- BOARD --tcp PORT`): tcp:HOST:PORT. */
export function tcpSpec(host: string, port: number): string {
  return `tcp:${host.includes(':') ? `[${host}]` : host}:${port}`;
}
