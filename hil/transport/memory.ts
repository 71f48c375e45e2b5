import type { Clock } from '../../boards/clock.ts';
import type { BoardEmulator } from '../../boards/emulator/index.ts';
import { UartTx } from '../../boards/uart.ts';
import { type ByteTransport, Listeners, TransportError } from './types.ts';

/**
 * In-memory byte pipe between the bench and something in the same process. Writes
 * from the bench go through a UART model on the bench clock (paced at the line's
 * baud rate, in simulated time on a SimClock) and arrive at the far end's `deliver`;
 * an `unpaced` pipe hands them over at once, as a pty or socket does (a lockstep host
 * paces on its own clock).
 */
export class MemoryTransport implements ByteTransport {
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closed = new Listeners<[string]>();
  private open_ = false;
  private readonly tx: UartTx | null;
  /** Where bench writes end up (the emulator's receive line). */
  private far: ((bytes: Uint8Array) => void) | null = null;

  constructor(description: string, clock: Clock, baud: number);
  constructor(description: string, clock: null, baud: null);
  constructor(
    readonly description: string,
    clock: Clock | null,
    baud: number | null,
  ) {
    this.tx = clock && baud ? new UartTx(baud, clock, (b) => this.far?.(b)) : null;
  }

  /** A pipe without pacing: a write reaches the far end synchronously, in the same call. */
  static unpaced(description: string): MemoryTransport {
    return new MemoryTransport(description, null, null);
  }

  get isOpen(): boolean {
    return this.open_;
  }

  /** Connects the far end: `deliver` gets bench writes; returns the function the far end calls to send bytes back. */
  attach(deliver: (bytes: Uint8Array) => void): (bytes: Uint8Array) => void {
    this.far = deliver;
    return (bytes) => {
      if (this.open_) this.data.emit(bytes);
    };
  }

  async open(): Promise<void> {
    this.open_ = true;
  }

  async close(): Promise<void> {
    this.open_ = false;
    this.tx?.flush();
  }

  write(bytes: Uint8Array): void {
    if (!this.open_) throw new TransportError('NOT_OPEN', `${this.description} is not open`);
    if (this.tx) this.tx.write(bytes.slice());
    else this.far?.(bytes.slice());
  }

  onData(cb: (bytes: Uint8Array) => void): () => void {
    return this.data.add(cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    return this.closed.add(cb);
  }
}

/** An in-process emulator behind an in-memory transport (the board paces its own output). */
export function emulatorTransport(emulator: BoardEmulator, clock: Clock): MemoryTransport {
  const t = new MemoryTransport(`in-memory emulator ${emulator.def.name}`, clock, emulator.baud);
  const back = t.attach((b) => emulator.receive(b));
  emulator.onTransmit(back);
  return t;
}

/**
 * Two connected in-memory transports (A's writes arrive at B and back), each direction
 * paced at `baud` on the clock: e.g. a PUS packet line between the bench and an
 * in-process payload model.
 */
export function memoryPair(clock: Clock, baud: number, names: [string, string] = ['in-memory A', 'in-memory B']): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport(names[0], clock, baud);
  const b = new MemoryTransport(names[1], clock, baud);
  let toA: (bytes: Uint8Array) => void = () => {};
  const toB = b.attach((bytes) => toA(bytes));
  toA = a.attach((bytes) => toB(bytes));
  return [a, b];
}
