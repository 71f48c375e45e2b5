import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LINK_APID } from '../../protocols/link/mission.ts';
import { decodeOpaquePacket, encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { packBits } from './vectors.ts';
import { assertOnlyProtocolErrors } from '../protocols/only-protocol-errors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

describe('opaque link packets (hand-made vectors)', () => {
  it('TM on the distillation APID: version 0, no secondary header, unsegmented', () => {
    // 00d0: ver 000, type 0, sec 0, APID 0x0d0 | c005: flags 11, seq 5 | 0001: two data octets
    expect(hex(encodeOpaquePacket('TM', LINK_APID.distillation, 5, Uint8Array.of(0x61, 0x62)))).toBe('00d0c00500016162');
    // 10e0: type 1 (TC), APID 0x0e0 | ffff: flags 11, seq 0x3fff | 0000: one data octet
    expect(hex(encodeOpaquePacket('TC', LINK_APID.relay, 0x3fff, Uint8Array.of(0xee)))).toBe('10e0ffff0000ee');
    const bits = packBits([[0, 3], [1, 1], [0, 1], [0x0e0, 11], [3, 2], [0x3fff, 14], [0, 16], [0xee, 8]]);
    expect(decodeOpaquePacket(bits)).toEqual({ apid: 0x0e0, seq: 0x3fff, data: Uint8Array.of(0xee) });
  });

  it('refuses short packets, other versions, length fields that disagree and empty data', () => {
    expect(() => decodeOpaquePacket(bytes('00d0c005'))).toThrow(/PACKET_TOO_SHORT/);
    expect(() => decodeOpaquePacket(bytes('20d0c00500016162'))).toThrow(/HEADER_INVALID/);
    expect(() => decodeOpaquePacket(bytes('00d0c0050001616263'))).toThrow(/LENGTH_MISMATCH/);
    expect(() => encodeOpaquePacket('TM', LINK_APID.relay, 0, new Uint8Array(0))).toThrow(/FIELD_OUT_OF_RANGE/);
    expect(() => encodeOpaquePacket('TM', LINK_APID.relay, 0x4000, Uint8Array.of(1))).toThrow(/FIELD_OUT_OF_RANGE/);
  });

  it('round-trips and never throws anything but a ProtocolError (properties)', () => {
    fc.assert(
      fc.property(fc.constantFrom('TM' as const, 'TC' as const), fc.nat(0x7ff), fc.nat(0x3fff), fc.uint8Array({ minLength: 1, maxLength: 80 }), (type, apid, seq, data) => {
        expect(decodeOpaquePacket(encodeOpaquePacket(type, apid, seq, data))).toEqual({ apid, seq, data });
      }),
      { numRuns: 300, seed: 1211 },
    );
    assertOnlyProtocolErrors(fc.uint8Array({ maxLength: 20 }), decodeOpaquePacket, { numRuns: 500, seed: 1212 });
  });
});
