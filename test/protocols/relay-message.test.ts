import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSealed,
  encodeSealed,
  joinRelayPacketData,
  MAX_RELAY_PAYLOAD_BYTES,
  RELAY_CHUNK_BYTES,
  relayPacketData,
} from '../../protocols/relay-message.ts';
import { hexBytes } from './vectors.ts';
import { assertOnlyProtocolErrors } from './only-protocol-errors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sealed relay message (hand-made vectors)', () => {
  it('is tagHi u32 | tagLo u32 | ciphertext, big-endian', () => {
    const v = '01020304' + 'a0b0c0d0' + 'ff00';
    const m = { tagHi: 0x01020304, tagLo: 0xa0b0c0d0, ciphertext: Uint8Array.of(0xff, 0x00) };
    expect(hex(encodeSealed(m))).toBe(v);
    expect(decodeSealed(hexBytes(v))).toEqual(m);
  });

  it('a bare tag is an empty ciphertext; less than a tag is refused', () => {
    expect(decodeSealed(hexBytes('ffffffff00000001'))).toEqual({ tagHi: 0xffffffff, tagLo: 1, ciphertext: new Uint8Array(0) });
    expect(() => decodeSealed(hexBytes('ffffffff000000'))).toThrow(/LENGTH_MISMATCH.*shorter than its tag/);
  });

  it('round-trips any message (property)', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.uint8Array({ maxLength: 100 }), (tagHi, tagLo, ciphertext) => {
        expect(decodeSealed(encodeSealed({ tagHi, tagLo, ciphertext }))).toEqual({ tagHi, tagLo, ciphertext });
      }),
      { numRuns: 300, seed: 1207 },
    );
  });
});

describe('relay VC transfer (hand-made vectors)', () => {
  it('packet 0 holds the length, then 1000-octet pieces', () => {
    const payload = Uint8Array.from({ length: 2500 }, (_, i) => i & 0xff);
    const packets = relayPacketData(payload);
    expect(hex(packets[0])).toBe('000009c4'); // 2500
    expect(packets.slice(1).map((p) => p.length)).toEqual([1000, 1000, 500]);
    expect(hex(packets[3].subarray(0, 2))).toBe('d0d1'); // octet 2000 = 2000 mod 256 = 0xd0
    expect(relayPacketData(new Uint8Array(0)).map(hex)).toEqual(['00000000']);
  });

  it('a receiver zero-fills what is missing and gets nothing without a valid length packet', () => {
    const got = (m: [number, string][]) => hex(joinRelayPacketData(new Map(m.map(([s, h]) => [s, hexBytes(h)]))));
    expect(got([[0, '00000003'], [1, 'aabbcc']])).toBe('aabbcc');
    expect(got([[0, '00000003']])).toBe('000000');
    expect(got([[1, 'aabbcc']])).toBe(''); // no length
    expect(got([[0, '000003'], [1, 'aabbcc']])).toBe(''); // length packet too short
    expect(got([[0, 'ffffffff'], [1, 'aabbcc']])).toBe(''); // a length no sender sends
    expect(got([[0, '00000002'], [1, 'aabbcc'], [7, 'ee']])).toBe('aabb'); // extra octets and packets ignored
  });

  it('refuses a payload that needs more than 16384 packets', () => {
    expect(relayPacketData(new Uint8Array(MAX_RELAY_PAYLOAD_BYTES)).length).toBe(0x4000);
    expect(() => relayPacketData(new Uint8Array(MAX_RELAY_PAYLOAD_BYTES + 1))).toThrow(/FIELD_OUT_OF_RANGE.*16384 packets/);
  });
});

describe('relay VC transfer (properties)', () => {
  it('whatever packets arrive, the payload comes back with exactly the lost pieces zeroed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), (payload, keep) => {
        const packets = relayPacketData(payload);
        const received = new Map(packets.map((d, seq) => [seq, d] as const).filter(([seq]) => seq === 0 || keep[seq % 7]));
        const want = payload.slice();
        for (let seq = 1; seq < packets.length; seq++) if (!received.has(seq)) want.fill(0, (seq - 1) * RELAY_CHUNK_BYTES, seq * RELAY_CHUNK_BYTES);
        expect(hex(joinRelayPacketData(received))).toBe(hex(want));
      }),
      { numRuns: 200, seed: 1208 },
    );
  });

  it('garbage packets give a bounded payload, never an exception', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(20), fc.uint8Array({ maxLength: 12 })), { maxLength: 10 }), (packets) => {
        const out = joinRelayPacketData(new Map(packets));
        expect(out.length).toBeLessThanOrEqual(MAX_RELAY_PAYLOAD_BYTES);
      }),
      { numRuns: 500, seed: 1209 },
    );
    assertOnlyProtocolErrors(fc.uint8Array({ maxLength: 12 }), decodeSealed, { numRuns: 300, seed: 1210 });
  });
});
