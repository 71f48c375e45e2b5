import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DistillationLink } from '../../hil/mission/distillation-link.ts';
import { MAX_SEGMENT_BYTES } from '../../protocols/distillation-segment.ts';
import { LINK_APID } from '../../protocols/link/mission.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A link whose packets wait in two queues until the test hands them to the other side. */
function rig() {
  const down: Uint8Array[] = [];
  const up: Uint8Array[] = [];
  const link = new DistillationLink({ downlink: (p) => down.push(p), uplink: (p) => up.push(p) });
  const atBob: string[] = [];
  const atAlice: string[] = [];
  link.bob.onReceive((f) => atBob.push(hex(f)));
  link.alice.onReceive((f) => atAlice.push(hex(f)));
  return { link, down, up, atBob, atAlice };
}

describe('distillation link (segments on the distillation VCs)', () => {
  it('puts a frame down as one TM space packet of the distillation APID (hand-made vector)', () => {
    const { link, down, atBob } = rig();
    link.alice.send(new TextEncoder().encode('123456789'));
    // 00d0 c000 0011: TM, APID 0x0d0, unsegmented, seq 0, 18 data octets
    // 00000000 03 e3069283: segment 0, first and last, CRC-32C("123456789")
    expect(down.map(hex)).toEqual(['00d0c0000011' + '00000000' + '03' + 'e3069283' + '313233343536373839']);
    link.onGroundPacket(down[0]);
    expect(atBob).toEqual(['313233343536373839']);
  });

  it('replies go up as TC packets and reach Alice', () => {
    const { link, up, atAlice } = rig();
    link.bob.send(Uint8Array.of(0xab));
    expect(hex(up[0].subarray(0, 2))).toBe('10d0');
    link.onBoardPacket(up[0]);
    expect(atAlice).toEqual(['ab']);
    expect(link.up).toMatchObject({ messages: 1, segments: 1, delivered: 1 });
  });

  it('joins frames of any size, in order, both ways (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 * MAX_SEGMENT_BYTES + 10 }), { maxLength: 4 }), fc.nat(255), (sizes, fill) => {
        const { link, down, up, atBob, atAlice } = rig();
        const frames = sizes.map((n, i) => new Uint8Array(n).fill((fill + i) & 0xff));
        for (const f of frames) {
          link.alice.send(f);
          link.bob.send(f);
        }
        down.forEach((p) => link.onGroundPacket(p));
        up.forEach((p) => link.onBoardPacket(p));
        expect(atBob).toEqual(frames.map(hex));
        expect(atAlice).toEqual(frames.map(hex));
        const segments = sizes.reduce((a, n) => a + Math.max(1, Math.ceil(n / MAX_SEGMENT_BYTES)), 0);
        expect(link.down).toEqual({ messages: frames.length, segments, delivered: frames.length, duplicates: 0, outOfOrder: 0, crcErrors: 0, malformed: 0 });
      }),
      { numRuns: 30, seed: 1213 },
    );
  });

  it('counts and drops duplicates, gaps, damaged and malformed segments, and ignores other APIDs', () => {
    const { link, down, atBob } = rig();
    link.alice.send(new Uint8Array(MAX_SEGMENT_BYTES + 1).fill(7)); // two segments
    link.alice.send(Uint8Array.of(1, 2, 3));
    const [a, b, c] = down;
    link.onGroundPacket(b); // gap: segment 1 before 0
    link.onGroundPacket(a);
    link.onGroundPacket(a); // duplicate
    const damaged = b.slice();
    damaged[damaged.length - 1] ^= 1;
    link.onGroundPacket(damaged);
    link.onGroundPacket(encodeOpaquePacket('TM', LINK_APID.distillation, 9, new Uint8Array(8))); // shorter than a segment header
    link.onGroundPacket(Uint8Array.of(0x00, 0xd0, 0xc0, 0x00)); // not even a packet header
    const other = c.slice();
    other[1] = 0xe0; // relay APID on this VC: not ours
    link.onGroundPacket(other);
    expect(atBob).toEqual([]);
    link.onGroundPacket(b);
    link.onGroundPacket(c);
    expect(atBob.map((f) => f.length / 2)).toEqual([MAX_SEGMENT_BYTES + 1, 3]);
    expect(link.down).toEqual({ messages: 2, segments: 3, delivered: 2, duplicates: 1, outOfOrder: 1, crcErrors: 1, malformed: 2 });
  });
});
