import { ProtocolError } from './errors.ts';

/**
 * Telnet (RFC 854/855) as far as a serial port server needs it, and its COM-PORT-OPTION
 * (RFC 2217): how a board farm's ser2net lets a client set the remote UART's baud rate,
 * data bits, parity, stop bits and flow control, and reports line and modem state back.
 * Pure: bytes in, bytes and events out; the transport (hil/transport/rfc2217.ts) does I/O.
 */

/** Telnet command bytes (RFC 854). */
export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;

export type Verb = typeof WILL | typeof WONT | typeof DO | typeof DONT;

/** Telnet options the serial client uses: BINARY (RFC 856), SGA (RFC 858), COM-PORT-OPTION (RFC 2217). */
export const OPTION = { BINARY: 0, ECHO: 1, SGA: 3, COM_PORT: 44 } as const;

/** RFC 2217 client-to-server command codes; the server answers with the code + 100. */
export const COM_PORT = {
  SIGNATURE: 0,
  SET_BAUDRATE: 1,
  SET_DATASIZE: 2,
  SET_PARITY: 3,
  SET_STOPSIZE: 4,
  SET_CONTROL: 5,
  NOTIFY_LINESTATE: 6,
  NOTIFY_MODEMSTATE: 7,
  FLOWCONTROL_SUSPEND: 8,
  FLOWCONTROL_RESUME: 9,
  SET_LINESTATE_MASK: 10,
  SET_MODEMSTATE_MASK: 11,
  PURGE_DATA: 12,
} as const;
export const SERVER_OFFSET = 100;

export type Parity = 'none' | 'odd' | 'even' | 'mark' | 'space';
export type StopBits = 1 | 1.5 | 2;
export type FlowControl = 'none' | 'xonxoff' | 'hardware';

/** The UART settings a client asks the port server for. */
export interface SerialSettings {
  baud: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: Parity;
  stopBits: StopBits;
  flow: FlowControl;
}

// RFC 2217 value codes (0 asks for the current value, so every real setting is >= 1).
const PARITY_CODE: Record<Parity, number> = { none: 1, odd: 2, even: 3, mark: 4, space: 5 };
const STOPSIZE_CODE: Record<string, number> = { '1': 1, '2': 2, '1.5': 3 };
const FLOW_CODE: Record<FlowControl, number> = { none: 1, xonxoff: 2, hardware: 3 };
const byCode = <T extends string | number>(m: Record<string, number>, conv: (k: string) => T) => new Map(Object.entries(m).map(([k, v]) => [v, conv(k)]));
const PARITY_BY_CODE = byCode(PARITY_CODE, (k) => k as Parity);
const STOPSIZE_BY_CODE = byCode(STOPSIZE_CODE, (k) => Number(k) as StopBits);
const FLOW_BY_CODE = byCode(FLOW_CODE, (k) => k as FlowControl);

/** Doubles every 0xFF (IAC) so data bytes can never be read as a telnet command. */
export function escapeIac(data: Uint8Array): Uint8Array {
  let n = 0;
  for (const b of data) if (b === IAC) n++;
  if (n === 0) return data;
  const out = new Uint8Array(data.length + n);
  let j = 0;
  for (const b of data) {
    out[j++] = b;
    if (b === IAC) out[j++] = IAC;
  }
  return out;
}

/** IAC verb option: one option negotiation (RFC 854/855). */
export function negotiation(verb: Verb, option: number): Uint8Array {
  return Uint8Array.of(IAC, verb, option);
}

/** IAC SB option payload IAC SE, the payload IAC-escaped. */
export function subnegotiation(option: number, payload: Uint8Array): Uint8Array {
  const body = escapeIac(payload);
  const out = new Uint8Array(body.length + 5);
  out.set([IAC, SB, option]);
  out.set(body, 3);
  out.set([IAC, SE], body.length + 3);
  return out;
}

/** One RFC 2217 command: SET-BAUDRATE carries a 32-bit big-endian value, the others one byte. */
export function comPortCommand(command: number, value: number): Uint8Array {
  if (command === COM_PORT.SET_BAUDRATE) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new ProtocolError('FIELD_OUT_OF_RANGE', `baud rate ${value} is not a 32-bit unsigned integer`, { field: 'baud', value });
    return subnegotiation(OPTION.COM_PORT, Uint8Array.of(command, value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff));
  }
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new ProtocolError('FIELD_OUT_OF_RANGE', `RFC 2217 command ${command} value ${value} is not one byte`, { field: 'value', command, value });
  return subnegotiation(OPTION.COM_PORT, Uint8Array.of(command, value));
}

/** The commands that set a UART as `s` says: baud, data size, parity, stop size, flow control (in that order). */
export function serialSettingsCommands(s: SerialSettings): Uint8Array[] {
  return [
    comPortCommand(COM_PORT.SET_BAUDRATE, s.baud),
    comPortCommand(COM_PORT.SET_DATASIZE, s.dataBits),
    comPortCommand(COM_PORT.SET_PARITY, PARITY_CODE[s.parity]),
    comPortCommand(COM_PORT.SET_STOPSIZE, STOPSIZE_CODE[String(s.stopBits)]),
    comPortCommand(COM_PORT.SET_CONTROL, FLOW_CODE[s.flow]),
  ];
}

/** NOTIFY-LINESTATE bits (RFC 2217), most significant first. */
export interface LineState {
  timeoutError: boolean;
  transferShiftRegisterEmpty: boolean;
  transferHoldingRegisterEmpty: boolean;
  breakDetect: boolean;
  framingError: boolean;
  parityError: boolean;
  overrunError: boolean;
  dataReady: boolean;
}
const LINE_BITS: (keyof LineState)[] = ['dataReady', 'overrunError', 'parityError', 'framingError', 'breakDetect', 'transferHoldingRegisterEmpty', 'transferShiftRegisterEmpty', 'timeoutError'];

/** NOTIFY-MODEMSTATE bits (RFC 2217). */
export interface ModemState {
  carrierDetect: boolean;
  ringIndicator: boolean;
  dataSetReady: boolean;
  clearToSend: boolean;
  deltaCarrierDetect: boolean;
  trailingEdgeRing: boolean;
  deltaDataSetReady: boolean;
  deltaClearToSend: boolean;
}
const MODEM_BITS: (keyof ModemState)[] = ['deltaClearToSend', 'deltaDataSetReady', 'trailingEdgeRing', 'deltaCarrierDetect', 'clearToSend', 'dataSetReady', 'ringIndicator', 'carrierDetect'];

function bits<T>(names: (keyof T)[], byte: number): T {
  return Object.fromEntries(names.map((n, i) => [n, ((byte >> i) & 1) === 1])) as T;
}

/** The line-state bits a client asks to be told about: the receive errors (overrun, parity, framing, break). */
export const LINESTATE_ERROR_MASK = 0b0001_1110;

/** What the server said in one COM-PORT-OPTION subnegotiation. */
export type ComPortReply =
  | { kind: 'baud'; baud: number }
  | { kind: 'dataBits'; dataBits: number }
  | { kind: 'parity'; parity: Parity }
  | { kind: 'stopBits'; stopBits: StopBits }
  | { kind: 'control'; code: number; flow?: FlowControl }
  | { kind: 'lineState'; state: LineState; byte: number }
  | { kind: 'modemState'; state: ModemState; byte: number }
  | { kind: 'signature'; text: string }
  | { kind: 'other'; command: number; value: Uint8Array };

/** Decodes a server's COM-PORT-OPTION subnegotiation payload (already IAC-unescaped); throws ProtocolError on a bad one. */
export function decodeComPortReply(payload: Uint8Array): ComPortReply {
  if (payload.length < 1) throw new ProtocolError('FIELD_INVALID', 'empty COM-PORT-OPTION subnegotiation');
  const command = payload[0] - SERVER_OFFSET;
  const value = payload.subarray(1);
  const one = (what: string): number => {
    if (value.length !== 1) throw new ProtocolError('LENGTH_MISMATCH', `${what} reply carries ${value.length} value bytes, expected 1`, { command: payload[0], length: value.length });
    return value[0];
  };
  const coded = <T>(what: string, map: Map<number, T>): T => {
    const v = one(what);
    const r = map.get(v);
    if (r === undefined) throw new ProtocolError('FIELD_INVALID', `${what} reply has unknown value ${v}`, { field: what, value: v });
    return r;
  };
  switch (command) {
    case COM_PORT.SET_BAUDRATE:
      if (value.length !== 4) throw new ProtocolError('LENGTH_MISMATCH', `SET-BAUDRATE reply carries ${value.length} value bytes, expected 4`, { length: value.length });
      return { kind: 'baud', baud: ((value[0] << 24) | (value[1] << 16) | (value[2] << 8) | value[3]) >>> 0 };
    case COM_PORT.SET_DATASIZE:
      return { kind: 'dataBits', dataBits: one('SET-DATASIZE') };
    case COM_PORT.SET_PARITY:
      return { kind: 'parity', parity: coded('SET-PARITY', PARITY_BY_CODE) };
    case COM_PORT.SET_STOPSIZE:
      return { kind: 'stopBits', stopBits: coded('SET-STOPSIZE', STOPSIZE_BY_CODE) };
    case COM_PORT.SET_CONTROL: {
      const code = one('SET-CONTROL');
      return { kind: 'control', code, flow: FLOW_BY_CODE.get(code) };
    }
    case COM_PORT.NOTIFY_LINESTATE: {
      const b = one('NOTIFY-LINESTATE');
      return { kind: 'lineState', state: bits<LineState>(LINE_BITS, b), byte: b };
    }
    case COM_PORT.NOTIFY_MODEMSTATE: {
      const b = one('NOTIFY-MODEMSTATE');
      return { kind: 'modemState', state: bits<ModemState>(MODEM_BITS, b), byte: b };
    }
    case COM_PORT.SIGNATURE:
      return { kind: 'signature', text: new TextDecoder().decode(value) };
    default:
      return { kind: 'other', command: payload[0], value: value.slice() };
  }
}

/** What the telnet stream carried: line data, an option negotiation, a subnegotiation, or another command (NOP, ...). */
export type TelnetEvent =
  | { kind: 'data'; bytes: Uint8Array }
  | { kind: 'negotiate'; verb: Verb; option: number }
  | { kind: 'subnegotiation'; option: number; payload: Uint8Array }
  | { kind: 'command'; code: number };

/**
 * Splits a telnet byte stream into events, across chunk boundaries: IAC IAC is one data
 * byte 0xFF, IAC verb option a negotiation, IAC SB option ... IAC SE a subnegotiation
 * (its IAC IAC unescaped). Anything else after IAC is a bare command.
 */
export class TelnetDecoder {
  private state: 'data' | 'iac' | 'verb' | 'sb-option' | 'sb' | 'sb-iac' = 'data';
  private verb: Verb = WILL;
  private sbOption = 0;
  private sb: number[] = [];

  push(chunk: Uint8Array): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    let data: number[] = [];
    const flush = () => {
      if (data.length > 0) events.push({ kind: 'data', bytes: Uint8Array.from(data) });
      data = [];
    };
    for (const b of chunk) {
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          else data.push(b);
          break;
        case 'iac':
          if (b === IAC) {
            data.push(IAC);
            this.state = 'data';
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = 'verb';
          } else if (b === SB) {
            this.state = 'sb-option';
          } else {
            flush();
            events.push({ kind: 'command', code: b });
            this.state = 'data';
          }
          break;
        case 'verb':
          flush();
          events.push({ kind: 'negotiate', verb: this.verb, option: b });
          this.state = 'data';
          break;
        case 'sb-option':
          this.sbOption = b;
          this.sb = [];
          this.state = 'sb';
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          else this.sb.push(b);
          break;
        case 'sb-iac':
          if (b === IAC) {
            this.sb.push(IAC);
            this.state = 'sb';
          } else if (b === SE) {
            flush();
            events.push({ kind: 'subnegotiation', option: this.sbOption, payload: Uint8Array.from(this.sb) });
            this.state = 'data';
          } else {
            // IAC then neither IAC nor SE inside SB: a broken subnegotiation; keep its bytes as sent.
            this.sb.push(IAC, b);
            this.state = 'sb';
          }
          break;
      }
    }
    flush();
    return events;
  }
}

type OptionState = 'no' | 'asked' | 'yes' | 'refused';

/**
 * The client's side of option negotiation (RFC 854's rules, without loops): it offers
 * the options it wants to perform (WILL) and asks the server to perform others (DO),
 * agrees to nothing else, and answers a request only when it changes an option's state.
 */
export class TelnetNegotiator {
  private readonly local = new Map<number, OptionState>();
  private readonly remote = new Map<number, OptionState>();

  constructor(
    private readonly wantLocal: readonly number[],
    private readonly wantRemote: readonly number[],
  ) {}

  /** The opening requests: WILL for each option we perform, DO for each the server should. */
  start(): Uint8Array[] {
    for (const o of this.wantLocal) this.local.set(o, 'asked');
    for (const o of this.wantRemote) this.remote.set(o, 'asked');
    return [...this.wantLocal.map((o) => negotiation(WILL, o)), ...this.wantRemote.map((o) => negotiation(DO, o))];
  }

  /** Our answer to one negotiation from the server (null when none is due). */
  receive(verb: Verb, option: number): Uint8Array | null {
    const mine = verb === DO || verb === DONT;
    const table = mine ? this.local : this.remote;
    const wanted = (mine ? this.wantLocal : this.wantRemote).includes(option);
    const state = table.get(option) ?? 'no';
    const yes = verb === DO || verb === WILL;
    if (yes) {
      if (state === 'yes') return null;
      if (!wanted) return negotiation(mine ? WONT : DONT, option);
      table.set(option, 'yes');
      return state === 'asked' ? null : negotiation(mine ? WILL : DO, option);
    }
    if (state === 'asked') {
      table.set(option, 'refused');
      return null;
    }
    if (state !== 'yes') return null;
    table.set(option, 'no');
    return negotiation(mine ? WONT : DONT, option);
  }

  /** Whether we perform `option` (the server said DO). */
  localEnabled(option: number): boolean {
    return this.local.get(option) === 'yes';
  }

  /** Whether the server performs `option` (it said WILL). */
  remoteEnabled(option: number): boolean {
    return this.remote.get(option) === 'yes';
  }

  /** Whether the server refused an option we asked for (on our side: DONT; on its side: WONT). */
  refused(side: 'local' | 'remote', option: number): boolean {
    return (side === 'local' ? this.local : this.remote).get(option) === 'refused';
  }
}
