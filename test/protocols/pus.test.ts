import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePacket, encodeCommand, encodeEvent, encodeHousekeeping, encodeReport } from '../../protocols/dictionary/index.ts';
import { crc16 } from '../../protocols/crc.ts';
import { ProtocolError } from '../../protocols/errors.ts';
import { scanPackets } from '../../protocols/packet-stream.ts';
import { ACK_ALL, cucFromSeconds, cucToSeconds, decodePus, encodePusTc, encodePusTm } from '../../protocols/pus.ts';
import { SequenceCounter, SequenceTracker } from '../../protocols/space-packet.ts';
import { HAND_VECTORS, hexBytes } from './vectors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('PUS-C packets written by hand from the standard', () => {
  it('TC(17,1) decodes field by field', () => {
    const { header, packet, length } = decodePus(hexBytes(HAND_VECTORS.pingTc));
    expect(header).toMatchObject({ version: 0, type: 'TC', secondaryHeader: true, apid: 0x65, sequenceFlags: 3, seq: 1, dataLength: 6 });
    expect(packet).toMatchObject({ type: 'TC', service: 17, subtype: 1, sourceId: 0, ack: { acceptance: true, start: false, progress: false, completion: true } });
    expect(length).toBe(13);
  });
  it('TM(17,2) decodes its CUC 4+2 time', () => {
    const { packet } = decodePus(hexBytes(HAND_VECTORS.pongTm));
    expect(packet).toMatchObject({ type: 'TM', service: 17, subtype: 2, msgTypeCounter: 7, destinationId: 1 });
    if (packet.type !== 'TM') throw new Error('not TM');
    expect(cucToSeconds(packet.time)).toBe(0x12345678 + 0.5);
  });
  it('the dictionary names every hand-made packet and decodes its fields', () => {
    const named = Object.fromEntries(Object.entries(HAND_VECTORS).map(([k, v]) => [k, decodePacket(hexBytes(v))]));
    expect(named.pingTc).toMatchObject({ kind: 'command', name: 'PING', fields: {} });
    expect(named.pongTm).toMatchObject({ kind: 'report', name: 'PONG' });
    expect(named.acceptOkTm).toMatchObject({ name: 'VERIFY_ACCEPT_OK', fields: { tcVersion: 0, tcType: 1, tcSecHeader: 1, tcApid: 0x65, tcSeqFlags: 3, tcSeq: 1 } });
    expect(named.setModeTc).toMatchObject({ name: 'SET_MODE', fields: { mode: 'STANDBY' } });
    expect(named.modeEventTm).toMatchObject({ kind: 'event', name: 'MODE_CHANGED', fields: { from: 'BOOT', to: 'STANDBY' } });
    expect(named.paramTm).toMatchObject({ name: 'PARAM_VALUE', fields: { paramId: 2, value: 0.8 } });
  });
  it('our encoders produce exactly the hand-made bytes', () => {
    expect(hex(encodeCommand('PING', {}, { seq: 1, sourceId: 0, ack: { acceptance: true, start: false, progress: false, completion: true } }))).toBe(HAND_VECTORS.pingTc);
    expect(hex(encodeCommand('SET_MODE', { mode: 'STANDBY' }, { seq: 2, ack: { acceptance: true, start: false, progress: false, completion: true } }))).toBe(HAND_VECTORS.setModeTc);
    expect(hex(encodeReport('VERIFY_ACCEPT_OK', { tcVersion: 0, tcType: 1, tcSecHeader: 1, tcApid: 0x65, tcSeqFlags: 3, tcSeq: 1 }, { seq: 6, timeS: 100, msgTypeCounter: 8 }))).toBe(
      HAND_VECTORS.acceptOkTm,
    );
    expect(hex(encodeEvent('MODE_CHANGED', { from: 'BOOT', to: 'STANDBY' }, { seq: 7, timeS: 101.25, msgTypeCounter: 9 }))).toBe(HAND_VECTORS.modeEventTm);
    expect(hex(encodeReport('PARAM_VALUE', { paramId: 2, value: 0.8 }, { seq: 8, timeS: 102, msgTypeCounter: 10 }))).toBe(HAND_VECTORS.paramTm);
  });
});

const tcArb = fc.record({
  apid: fc.integer({ min: 0, max: 0x7fe }),
  seq: fc.integer({ min: 0, max: 0x3fff }),
  ack: fc.record({ acceptance: fc.boolean(), start: fc.boolean(), progress: fc.boolean(), completion: fc.boolean() }),
  service: fc.integer({ min: 0, max: 255 }),
  subtype: fc.integer({ min: 0, max: 255 }),
  sourceId: fc.integer({ min: 0, max: 0xffff }),
  appData: fc.uint8Array({ maxLength: 200 }),
});
const tmArb = fc.record({
  apid: fc.integer({ min: 0, max: 0x7fe }),
  seq: fc.integer({ min: 0, max: 0x3fff }),
  timeRefStatus: fc.integer({ min: 0, max: 15 }),
  service: fc.integer({ min: 0, max: 255 }),
  subtype: fc.integer({ min: 0, max: 255 }),
  msgTypeCounter: fc.integer({ min: 0, max: 0xffff }),
  destinationId: fc.integer({ min: 0, max: 0xffff }),
  time: fc.record({ coarse: fc.integer({ min: 0, max: 0xffffffff }), fine: fc.integer({ min: 0, max: 0xffff }) }),
  appData: fc.uint8Array({ maxLength: 200 }),
});
const packetArb = fc.oneof(tcArb.map(encodePusTc), tmArb.map(encodePusTm));

describe('PUS codec properties', () => {
  it('TC and TM round-trip every header field', () => {
    fc.assert(
      fc.property(tcArb, (tc) => {
        expect(decodePus(encodePusTc(tc)).packet).toEqual({ type: 'TC', ...tc, appData: Uint8Array.from(tc.appData) });
      }),
    );
    fc.assert(
      fc.property(tmArb, (tm) => {
        expect(decodePus(encodePusTm(tm)).packet).toEqual({ type: 'TM', ...tm, appData: Uint8Array.from(tm.appData) });
      }),
    );
  });
  it('every single-bit flip in a packet is detected', () => {
    fc.assert(
      fc.property(packetArb, fc.nat(), (p, pos) => {
        const bit = pos % (p.length * 8);
        const bad = p.slice();
        bad[bit >> 3] ^= 1 << (bit & 7);
        expect(() => decodePus(bad)).toThrow(ProtocolError);
      }),
    );
  });
  it('random bytes and mutations throw only typed errors', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), packetArb.chain((p) => fc.tuple(fc.nat(p.length), fc.uint8Array({ maxLength: 8 })).map(([i, junk]) => Uint8Array.from([...p.subarray(0, i), ...junk, ...p.subarray(i + junk.length)])))), (d) => {
        try {
          decodePacket(d);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
        for (const s of scanPackets(d)) expect(s.length).toBeGreaterThan(0);
      }),
    );
  });
  it('refuses header fields out of range before encoding', () => {
    expect(() => encodePusTc({ apid: 0x800, seq: 0, ack: ACK_ALL, service: 1, subtype: 1, sourceId: 0, appData: new Uint8Array() })).toThrow(/apid/);
    expect(() => encodePusTc({ apid: 1, seq: 0x4000, ack: ACK_ALL, service: 1, subtype: 1, sourceId: 0, appData: new Uint8Array() })).toThrow(/sequence/);
  });
  it('CUC 4+2 keeps 1/65536 s resolution and carries into the seconds', () => {
    expect(cucFromSeconds(1.5)).toEqual({ coarse: 1, fine: 32768 });
    expect(cucFromSeconds(2.9999999)).toEqual({ coarse: 3, fine: 0 });
  });
});

describe('packet stream scanning', () => {
  const packets = Object.values(HAND_VECTORS).map(hexBytes);
  it('a corrupted packet in the middle is reported and every packet after it still decodes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: packets.length - 2 }), fc.nat(), (victim, pos) => {
        const bad = packets.map((p) => p.slice());
        const bit = pos % (bad[victim].length * 8);
        bad[victim][bit >> 3] ^= 1 << (bit & 7);
        const results = [...scanPackets(Buffer.concat(bad))];
        const ok = results.filter((r) => r.ok);
        const errors = results.filter((r) => !r.ok);
        expect(errors.length).toBeGreaterThanOrEqual(1);
        // The packets after the victim come through intact.
        const tail = ok.slice(-(packets.length - victim - 1));
        expect(tail.map((r) => hex(Buffer.concat(bad).subarray(r.offset, r.offset + r.length)))).toEqual(packets.slice(victim + 1).map(hex));
      }),
    );
  });
  it('counts sequence gaps per APID and type, modulo 16384', () => {
    const t = new SequenceTracker();
    expect([t.observe('TM', 1, 16382), t.observe('TM', 1, 16383), t.observe('TM', 1, 2), t.observe('TC', 1, 5), t.observe('TM', 2, 0)]).toEqual([0, 0, 2, 0, 0]);
    expect(t.summary()).toEqual({ 'TM:1': 2 });
    expect(t.observe('TM', 2, 0)).toBe(0);
    expect(Object.fromEntries(t.duplicates)).toEqual({ 'TM:2': 1 });
    const c = new SequenceCounter();
    expect([c.take(5), c.take(5), c.take(6)]).toEqual([0, 1, 0]);
  });
});

describe('dictionary-driven encoding', () => {
  it('refuses commands outside range or enum before encoding, naming the field', () => {
    expect(() => encodeCommand('SET_HK_INTERVAL', { sid: 1, intervalMs: 5 })).toThrow(/field 'intervalMs'.*100\.\.600000/);
    expect(() => encodeCommand('SET_MODE', { mode: 'WARP' })).toThrow(/field 'mode'.*not one of/);
    expect(() => encodeCommand('SET_PARAM', { paramId: 2, value: 3 })).toThrow(/MU_SIGNAL.*0\.\.2/);
    expect(() => encodeCommand('SET_PARAM', { paramId: 999, value: 3 })).toThrow(/paramId.*no parameter/);
    expect(() => encodeCommand('SET_MODE', {})).toThrow(/field 'mode': missing/);
    expect(() => encodeCommand('SET_MODE', { mode: 'QKD', extra: 1 })).toThrow(/field 'extra': unknown/);
    expect(() => encodeCommand('NO_SUCH', {})).toThrow(/unknown command/);
  });
  it('decoding a telecommand refuses an argument outside its range, naming the field', () => {
    const tc = encodeCommand('SET_HK_INTERVAL', { sid: 1, intervalMs: 1000 });
    // Hand-patch intervalMs (the last 4 application octets before the PEC) to 10 ms and fix the PEC.
    const bad = tc.slice();
    new DataView(bad.buffer).setUint32(bad.length - 6, 10);
    const pec = crc16(bad, 0, bad.length - 2);
    bad[bad.length - 2] = pec >> 8;
    bad[bad.length - 1] = pec & 0xff;
    expect(() => decodePacket(bad)).toThrow(/FIELD_OUT_OF_RANGE: field 'intervalMs': 10 ms outside 100\.\.600000/);
  });

  it('housekeeping round-trips with scaled and limited fields', () => {
    const fields = {
      mode: 'QKD', activeBank: 'B', configGeneration: 7, uptimeS: 99, tcAccepted: 3, tcRejected: 1, faultsActive: 0, laserTempC: 25.37,
      pointingErrorMeanUrad: 1.5, pointingErrorRmsUrad: 2.5, pointingErrorMaxUrad: 6, fsmXUrad: -10, fsmYUrad: 12, fineLock: true, emitting: false,
      frameNumber: 12, pulsesSent: 1.875e11, elevationDeg: 42.5,
    };
    const d = decodePacket(encodeHousekeeping('PAYLOAD_HK', fields, { seq: 1, timeS: 5 }));
    expect(d.name).toBe('PAYLOAD_HK');
    expect(d.fields).toEqual({ ...fields, laserTempC: expect.closeTo(25.37, 5) });
  });
});
