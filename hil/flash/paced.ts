import type { Clock } from '../../boards/clock.ts';
import { UartTx } from '../../boards/uart.ts';
import type { ByteTransport } from '../transport/types.ts';

/**
 * Paces what the bench writes at a line rate (8N1, 10 bits a byte), the way a real
 * UART does. A pseudo-terminal moves bytes at memory speed, so without this a flash
 * over a pty would beat the wire it stands for; the benchmark uses it to measure
 * against honest wire time. Reads pass straight through.
 */
export class PacedTransport implements ByteTransport {
  private readonly tx: UartTx;

  constructor(
    readonly inner: ByteTransport,
    clock: Clock,
    readonly baud: number,
  ) {
    this.tx = new UartTx(baud, clock, (b) => {
      if (inner.isOpen) inner.write(b);
    });
  }

  get description(): string {
    return this.inner.description;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  async close(): Promise<void> {
    this.tx.flush();
    await this.inner.close();
  }
  write(bytes: Uint8Array): void {
    this.tx.write(bytes.slice());
  }
  onData(cb: (bytes: Uint8Array) => void): () => void {
    return this.inner.onData(cb);
  }
  onClose(cb: (reason: string) => void): () => void {
    return this.inner.onClose(cb);
  }
}
