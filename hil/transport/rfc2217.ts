import {
  COM_PORT,
  type ComPortReply,
  comPortCommand,
  decodeComPortReply,
  DO,
  DONT,
  escapeIac,
  LINESTATE_ERROR_MASK,
  type LineState,
  type ModemState,
  OPTION,
  type SerialSettings,
  serialSettingsCommands,
  TelnetDecoder,
  TelnetNegotiator,
} from '../../protocols/telnet-rfc2217.ts';
import { TcpTransport } from './tcp.ts';
import { type ByteTransport, Listeners, TransportError } from './types.ts';

/**
 * A serial port exported by a port server over telnet with RFC 2217 (ser2net's
 * `telnet(rfc2217)` accepter, labgrid's NetworkSerialPort): TCP underneath, the line's
 * bytes IAC-escaped both ways, and at open the UART set to the board's settings (baud,
 * data bits, parity, stop bits, no flow control) and the server's answers checked, so a
 * board is never driven at a rate other than the one asked for. Receive errors the server
 * notifies (NOTIFY-LINESTATE) are kept and counted.
 */
export class Rfc2217Transport implements ByteTransport {
  readonly description: string;
  private readonly tcp: TcpTransport;
  private readonly data = new Listeners<[Uint8Array]>();
  private decoder = new TelnetDecoder();
  private negotiator = new TelnetNegotiator([OPTION.BINARY, OPTION.COM_PORT], [OPTION.BINARY, OPTION.SGA]);
  /** Waiters for the next server reply of a kind (the settings' confirmations). */
  private waiters: { accept: (r: ComPortReply) => boolean; resolve: (r: ComPortReply) => void }[] = [];
  private comPortAnswer: ((agreed: boolean) => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  /** The UART settings as the server confirmed them at open (null before). */
  confirmed: Partial<SerialSettings> | null = null;
  /** The last line and modem state the server notified, and how many line-state errors it reported. */
  lineState: LineState | null = null;
  modemState: ModemState | null = null;
  lineErrors = 0;
  /** The server's signature when it sent one. */
  signature: string | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly settings: SerialSettings,
    private readonly answerTimeoutMs = 2000,
  ) {
    this.description = rfc2217Spec(host, port);
    this.tcp = new TcpTransport(host, port, answerTimeoutMs);
  }

  get isOpen(): boolean {
    return this.tcp.isOpen;
  }

  async open(): Promise<void> {
    this.decoder = new TelnetDecoder();
    this.negotiator = new TelnetNegotiator([OPTION.BINARY, OPTION.COM_PORT], [OPTION.BINARY, OPTION.SGA]);
    this.confirmed = null;
    await this.tcp.open();
    this.unsubscribe?.();
    this.unsubscribe = this.tcp.onData((chunk) => this.receive(chunk));
    try {
      const agreed = new Promise<boolean>((resolve) => (this.comPortAnswer = resolve));
      for (const b of this.negotiator.start()) this.tcp.write(b);
      if (!(await this.within(agreed, 'DO COM-PORT-OPTION'))) throw this.fail('refused COM-PORT-OPTION (WONT/DONT): it is not an RFC 2217 port');
      await this.applySettings();
      this.tcp.write(comPortCommand(COM_PORT.SET_LINESTATE_MASK, LINESTATE_ERROR_MASK));
    } catch (e) {
      await this.tcp.close();
      throw e;
    }
  }

  /** Sets the UART and checks every answer against what was asked (a server that cannot do a rate says the one it set). */
  private async applySettings(): Promise<void> {
    const s = this.settings;
    const expected: [ComPortReply['kind'], (r: ComPortReply) => string | null][] = [
      ['baud', (r) => (r.kind === 'baud' && r.baud !== s.baud ? `${r.baud} baud (asked ${s.baud})` : null)],
      ['dataBits', (r) => (r.kind === 'dataBits' && r.dataBits !== s.dataBits ? `${r.dataBits} data bits (asked ${s.dataBits})` : null)],
      ['parity', (r) => (r.kind === 'parity' && r.parity !== s.parity ? `parity ${r.parity} (asked ${s.parity})` : null)],
      ['stopBits', (r) => (r.kind === 'stopBits' && r.stopBits !== s.stopBits ? `${r.stopBits} stop bits (asked ${s.stopBits})` : null)],
      ['control', (r) => (r.kind === 'control' && r.flow !== s.flow ? `flow control code ${r.code} (asked ${s.flow})` : null)],
    ];
    const answers = expected.map(([kind]) => this.next((r) => r.kind === kind));
    for (const b of serialSettingsCommands(s)) this.tcp.write(b);
    const replies = await this.within(Promise.all(answers), 'the answers to SET-BAUDRATE, SET-DATASIZE, SET-PARITY, SET-STOPSIZE and SET-CONTROL');
    const wrong = replies.map((r, i) => expected[i][1](r)).filter((x): x is string => x !== null);
    if (wrong.length > 0) throw this.fail(`set the port to ${wrong.join(', ')}`, 'PORT_OPEN_FAILED');
    this.confirmed = { ...s };
  }

  private next(accept: (r: ComPortReply) => boolean): Promise<ComPortReply> {
    return new Promise((resolve) => this.waiters.push({ accept, resolve }));
  }

  private async within<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(this.fail(`sent no ${what} within ${this.answerTimeoutMs} ms (a raw TCP port? write tcp:HOST:PORT)`)), this.answerTimeoutMs);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(why: string, code: 'CONNECT_FAILED' | 'PORT_OPEN_FAILED' = 'CONNECT_FAILED'): TransportError {
    return new TransportError(code, `${this.description}: the port server ${why}`);
  }

  private receive(chunk: Uint8Array): void {
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind === 'data') this.data.emit(ev.bytes);
      else if (ev.kind === 'negotiate') {
        const reply = this.negotiator.receive(ev.verb, ev.option);
        if (reply && this.tcp.isOpen) this.tcp.write(reply);
        // RFC 2217: the client says WILL COM-PORT-OPTION, the server DO (or DONT: not a serial port server).
        if (ev.option === OPTION.COM_PORT && (ev.verb === DO || ev.verb === DONT)) this.comPortAnswer?.(this.negotiator.localEnabled(OPTION.COM_PORT));
      } else if (ev.kind === 'subnegotiation' && ev.option === OPTION.COM_PORT) {
        let r: ComPortReply;
        try {
          r = decodeComPortReply(ev.payload);
        } catch {
          continue; // a reply we cannot read changes nothing we rely on
        }
        if (r.kind === 'lineState') {
          this.lineState = r.state;
          if (r.byte & LINESTATE_ERROR_MASK) this.lineErrors++;
        } else if (r.kind === 'modemState') this.modemState = r.state;
        else if (r.kind === 'signature') this.signature = r.text;
        const i = this.waiters.findIndex((w) => w.accept(r));
        if (i >= 0) this.waiters.splice(i, 1)[0].resolve(r);
      }
    }
  }

  async close(): Promise<void> {
    this.waiters = [];
    await this.tcp.close();
  }

  write(bytes: Uint8Array): void {
    if (!this.tcp.isOpen) throw new TransportError('NOT_OPEN', `${this.description} is not connected`);
    this.tcp.write(escapeIac(bytes));
  }

  onData(cb: (bytes: Uint8Array) => void): () => void {
    return this.data.add(cb);
  }

  onClose(cb: (reason: string) => void): () => void {
    return this.tcp.onClose((reason) => cb(reason.replace(this.tcp.description, this.description)));
  }
}

/** A board's UART as its definition gives it (boards/definitions/*.yaml `serial`), at `baud` when given: 8 data bits, no flow control. */
export function boardSerialSettings(serial: { baud: number; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2 }, baud?: number): SerialSettings {
  return { baud: baud ?? serial.baud, dataBits: 8, parity: serial.parity, stopBits: serial.stopBits, flow: 'none' };
}

/** The one spelling of an RFC 2217 line (what --port takes and the bench prints): rfc2217://HOST:PORT. */
export function rfc2217Spec(host: string, port: number): string {
  return `rfc2217://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
