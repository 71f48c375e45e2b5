import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COM_PORT,
  comPortCommand,
  decodeComPortReply,
  DO,
  DONT,
  escapeIac,
  negotiation,
  OPTION,
  serialSettingsCommands,
  subnegotiation,
  TelnetDecoder,
  type TelnetEvent,
  TelnetNegotiator,
  WILL,
  WONT,
} from '../../protocols/telnet-rfc2217.ts';
import { ProtocolError } from '../../protocols/errors.ts';

/**
 * Telnet (RFC 854) and its COM-PORT-OPTION (RFC 2217): byte vectors written by hand from
 * the RFCs (IAC=FF, SB=FA, SE=F0, WILL=FB, WONT=FC, DO=FD, DONT=FE; option 44 = 0x2C;
 * client commands 1..12, server answers +100), and properties of the IAC escaping.
 */
const hex = (s: string) => Uint8Array.from(s.split(' ').map((b) => parseInt(b, 16)));
const bytes = (u: Uint8Array) => [...u].map((b) => b.toString(16).padStart(2, '0')).join(' ');

/** Every data byte the events carry, concatenated. */
function dataOf(events: TelnetEvent[]): number[] {
  return events.flatMap((e) => (e.kind === 'data' ? [...e.bytes] : []));
}

describe('telnet byte vectors (RFC 854/855)', () => {
  it('IAC escaping doubles 0xFF and nothing else', () => {
    expect(bytes(escapeIac(hex('01 ff 02 ff ff')))).toBe('01 ff ff 02 ff ff ff ff');
    expect(bytes(escapeIac(hex('00 7f fe')))).toBe('00 7f fe');
  });

  it('negotiations: IAC verb option', () => {
    expect(bytes(negotiation(WILL, OPTION.COM_PORT))).toBe('ff fb 2c');
    expect(bytes(negotiation(DO, OPTION.BINARY))).toBe('ff fd 00');
    expect(bytes(negotiation(WONT, OPTION.ECHO))).toBe('ff fc 01');
    expect(bytes(negotiation(DONT, OPTION.SGA))).toBe('ff fe 03');
  });

  it('subnegotiation: IAC SB option payload IAC SE with the payload escaped', () => {
    expect(bytes(subnegotiation(44, hex('02 08')))).toBe('ff fa 2c 02 08 ff f0');
    expect(bytes(subnegotiation(44, hex('01 00 00 00 ff')))).toBe('ff fa 2c 01 00 00 00 ff ff ff f0');
  });
});

describe('RFC 2217 commands', () => {
  it('SET-BAUDRATE carries the rate as 4 bytes, network order (9600 = 00 00 25 80; 115200 = 00 01 c2 00)', () => {
    expect(bytes(comPortCommand(COM_PORT.SET_BAUDRATE, 9600))).toBe('ff fa 2c 01 00 00 25 80 ff f0');
    expect(bytes(comPortCommand(COM_PORT.SET_BAUDRATE, 115200))).toBe('ff fa 2c 01 00 01 c2 00 ff f0');
    // A 0xFF inside the value is doubled like any other.
    expect(bytes(comPortCommand(COM_PORT.SET_BAUDRATE, 0x0001ffff))).toBe('ff fa 2c 01 00 01 ff ff ff ff ff f0');
  });

  it('a board UART 8N1 at 115200, no flow control: the five SET commands', () => {
    const cmds = serialSettingsCommands({ baud: 115200, dataBits: 8, parity: 'none', stopBits: 1, flow: 'none' }).map(bytes);
    expect(cmds).toEqual(['ff fa 2c 01 00 01 c2 00 ff f0', 'ff fa 2c 02 08 ff f0', 'ff fa 2c 03 01 ff f0', 'ff fa 2c 04 01 ff f0', 'ff fa 2c 05 01 ff f0']);
    const other = serialSettingsCommands({ baud: 9600, dataBits: 7, parity: 'even', stopBits: 1.5, flow: 'hardware' }).map(bytes);
    expect(other.slice(1)).toEqual(['ff fa 2c 02 07 ff f0', 'ff fa 2c 03 03 ff f0', 'ff fa 2c 04 03 ff f0', 'ff fa 2c 05 03 ff f0']);
  });

  it('values that do not fit are refused as FIELD_OUT_OF_RANGE', () => {
    expect(() => comPortCommand(COM_PORT.SET_BAUDRATE, 2 ** 32)).toThrow(ProtocolError);
    expect(() => comPortCommand(COM_PORT.SET_DATASIZE, 256)).toThrow(/FIELD_OUT_OF_RANGE/);
  });

  it('server answers (+100): baud, data size, parity, stop size, control, line and modem state', () => {
    expect(decodeComPortReply(hex('65 00 00 25 80'))).toEqual({ kind: 'baud', baud: 9600 });
    expect(decodeComPortReply(hex('66 08'))).toEqual({ kind: 'dataBits', dataBits: 8 });
    expect(decodeComPortReply(hex('67 02'))).toEqual({ kind: 'parity', parity: 'odd' });
    expect(decodeComPortReply(hex('68 03'))).toEqual({ kind: 'stopBits', stopBits: 1.5 });
    expect(decodeComPortReply(hex('69 01'))).toEqual({ kind: 'control', code: 1, flow: 'none' });
    // NOTIFY-LINESTATE 0x12: overrun (bit 1) and break (bit 4).
    const line = decodeComPortReply(hex('6a 12'));
    expect(line).toMatchObject({ kind: 'lineState', byte: 0x12, state: { overrunError: true, breakDetect: true, framingError: false, parityError: false, dataReady: false, timeoutError: false } });
    // NOTIFY-MODEMSTATE 0xB0: carrier detect (7), DSR (5), CTS (4).
    const modem = decodeComPortReply(hex('6b b0'));
    expect(modem).toMatchObject({ kind: 'modemState', byte: 0xb0, state: { carrierDetect: true, dataSetReady: true, clearToSend: true, ringIndicator: false, deltaClearToSend: false } });
    expect(decodeComPortReply(Uint8Array.of(100, ...new TextEncoder().encode('ser2net')))).toEqual({ kind: 'signature', text: 'ser2net' });
  });

  it('malformed answers are ProtocolErrors naming what is wrong', () => {
    expect(() => decodeComPortReply(hex('65 00 00'))).toThrow(/LENGTH_MISMATCH: SET-BAUDRATE reply carries 2 value bytes, expected 4/);
    expect(() => decodeComPortReply(hex('67 09'))).toThrow(/FIELD_INVALID: SET-PARITY reply has unknown value 9/);
    expect(() => decodeComPortReply(new Uint8Array(0))).toThrow(/FIELD_INVALID: empty/);
  });
});

describe('TelnetDecoder', () => {
  it('splits data, negotiations, subnegotiations and bare commands', () => {
    const events = new TelnetDecoder().push(hex('41 ff ff 42 ff fd 2c 43 ff fa 2c 65 00 01 ff ff ff f0 ff f1 44'));
    expect(events).toEqual([
      { kind: 'data', bytes: hex('41 ff 42') },
      { kind: 'negotiate', verb: DO, option: 44 },
      { kind: 'data', bytes: hex('43') },
      { kind: 'subnegotiation', option: 44, payload: hex('65 00 01 ff') },
      { kind: 'command', code: 0xf1 },
      { kind: 'data', bytes: hex('44') },
    ]);
  });

  const stream = fc.array(
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 20 }).map((d) => ({ kind: 'data' as const, d })),
      fc.record({ verb: fc.constantFrom(WILL, WONT, DO, DONT), option: fc.integer({ min: 0, max: 255 }) }).map((n) => ({ kind: 'neg' as const, ...n })),
      fc.uint8Array({ maxLength: 8 }).map((p) => ({ kind: 'sb' as const, p })),
    ),
    { maxLength: 12 },
  );
  const cuts = fc.array(fc.nat(), { maxLength: 6 });

  it('property: any bytes IAC-escaped and cut into any chunks decode to exactly those bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cuts, (data, at) => {
        const wire = escapeIac(data);
        const d = new TelnetDecoder();
        const bounds = [...new Set(at.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const events: TelnetEvent[] = [];
        let from = 0;
        for (const b of [...bounds, wire.length]) {
          events.push(...d.push(wire.subarray(from, b)));
          from = b;
        }
        expect(dataOf(events)).toEqual([...data]);
        expect(events.every((e) => e.kind === 'data')).toBe(true);
      }),
      { seed: 2217, numRuns: 500 },
    );
  });

  it('property: data, negotiations and subnegotiations mixed come back the same, whatever the chunking', () => {
    fc.assert(
      fc.property(stream, cuts, (items, at) => {
        const wire = Buffer.concat(items.map((i) => (i.kind === 'data' ? escapeIac(i.d) : i.kind === 'neg' ? negotiation(i.verb, i.option) : subnegotiation(44, i.p))));
        const whole = new TelnetDecoder().push(wire);
        const d = new TelnetDecoder();
        const chunked: TelnetEvent[] = [];
        let from = 0;
        for (const b of [...new Set(at.map((c) => c % (wire.length + 1)))].sort((x, y) => x - y).concat(wire.length)) {
          chunked.push(...d.push(wire.subarray(from, b)));
          from = b;
        }
        // Chunking may split one data run in two; everything else is the same sequence.
        const merge = (evs: TelnetEvent[]) => evs.reduce<TelnetEvent[]>((acc, e) => {
          const last = acc[acc.length - 1];
          if (e.kind === 'data' && last?.kind === 'data') acc[acc.length - 1] = { kind: 'data', bytes: Uint8Array.from([...last.bytes, ...e.bytes]) };
          else acc.push(e);
          return acc;
        }, []);
        const expected = merge(items.map((i): TelnetEvent => (i.kind === 'data' ? { kind: 'data', bytes: i.d } : i.kind === 'neg' ? { kind: 'negotiate', verb: i.verb, option: i.option } : { kind: 'subnegotiation', option: 44, payload: i.p })));
        expect(merge(whole)).toEqual(expected);
        expect(merge(chunked)).toEqual(expected);
      }),
      { seed: 854, numRuns: 400 },
    );
  });
});

describe('TelnetNegotiator (the client side)', () => {
  it('opens with WILL BINARY, WILL COM-PORT-OPTION, DO BINARY, DO SGA; agreement needs no answer', () => {
    const n = new TelnetNegotiator([OPTION.BINARY, OPTION.COM_PORT], [OPTION.BINARY, OPTION.SGA]);
    expect(n.start().map(bytes)).toEqual(['ff fb 00', 'ff fb 2c', 'ff fd 00', 'ff fd 03']);
    expect(n.receive(DO, OPTION.COM_PORT)).toBeNull();
    expect(n.localEnabled(OPTION.COM_PORT)).toBe(true);
    expect(n.receive(WILL, OPTION.SGA)).toBeNull();
    expect(n.remoteEnabled(OPTION.SGA)).toBe(true);
    // Repeated agreement is not answered again (no negotiation loop).
    expect(n.receive(DO, OPTION.COM_PORT)).toBeNull();
  });

  it('refuses what it does not want, records refusals, and confirms a switch-off once', () => {
    const n = new TelnetNegotiator([OPTION.BINARY, OPTION.COM_PORT], [OPTION.BINARY, OPTION.SGA]);
    n.start();
    expect(bytes(n.receive(DO, OPTION.ECHO)!)).toBe('ff fc 01');
    expect(bytes(n.receive(WILL, OPTION.ECHO)!)).toBe('ff fe 01');
    expect(n.receive(DONT, OPTION.COM_PORT)).toBeNull();
    expect(n.refused('local', OPTION.COM_PORT)).toBe(true);
    expect(n.receive(DO, OPTION.BINARY)).toBeNull();
    expect(bytes(n.receive(DONT, OPTION.BINARY)!)).toBe('ff fc 00');
    expect(n.receive(DONT, OPTION.BINARY)).toBeNull();
    // A server-initiated WILL for an option we want is agreed with DO.
    const m = new TelnetNegotiator([], [OPTION.SGA]);
    expect(bytes(m.receive(WILL, OPTION.SGA)!)).toBe('ff fd 03');
  });
});
