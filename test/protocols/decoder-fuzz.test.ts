import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCobsBytes } from '../../hil/decode/cobs.ts';
import { decodeSpacePacketStream } from '../../hil/decode/spacepacket.ts';
import { decodeTmFrameCapture } from '../../hil/decode/tmframe.ts';
import type { DecodeRecord } from '../../hil/decode/types.ts';
import { SeededRandom } from '../../boards/link-sim/prng.ts';
import { encodeCommand, encodeReport } from '../../protocols/dictionary/index.ts';
import { ProtocolError } from '../../protocols/errors.ts';
import { scanPackets } from '../../protocols/packet-stream.ts';
import { TmFramer } from '../../protocols/link/tm-framer.ts';
import { VcPacketSender } from '../../protocols/link/vc-packet-sender.ts';
import { encodeSerialFrame, findTrailingFrame } from '../../protocols/serial-frame.ts';
import { checkIdlePacket, idlePacket } from '../../protocols/space-packet.ts';
import { FUZZ_FORMATS, fuzzCaseArb } from '../../hil/fuzz/decoder-audit.ts';
import { HAND_VECTORS, hexBytes } from './vectors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const records = (run: (emit: (r: DecodeRecord) => void) => unknown) => {
  const out: DecodeRecord[] = [];
  run((r) => out.push(r));
  return out;
};

describe('decoders never hide intact packets (issue 11 item 6)', () => {
  // npm run fuzz runs the same property at length (10,000 streams and more).
  for (const [name, run] of Object.entries(FUZZ_FORMATS)) {
    it(`${name}: in 500 seeded streams of 10 dictionary packets with 1-3 bit flips, no intact unit is lost and nothing fake is accepted`, () => {
      let intact = 0;
      fc.assert(
        fc.property(fuzzCaseArb, (c) => {
          const t = run(c);
          intact += t.intact;
          expect({ lost: t.lost, fake: t.fake }).toEqual({ lost: 0, fake: 0 });
        }),
        { seed: 11, numRuns: 500 },
      );
      expect(intact).toBeGreaterThan(1000); // the streams did carry intact units to lose
    });
  }
});

describe('space-packet scanner', () => {
  const packets = Object.values(HAND_VECTORS).map(hexBytes);
  const offsets = packets.map((_, i) => packets.slice(0, i).reduce((a, p) => a + p.length, 0));

  it('a corrupted length byte no longer swallows the intact packets behind it', () => {
    const bad = packets.map((p) => p.slice());
    // PONG's length now ends exactly where MODE_CHANGED starts: over VERIFY_ACCEPT_OK and SET_MODE.
    bad[1][5] += packets[2].length + packets[3].length;
    const s = [...scanPackets(Buffer.concat(bad))];
    const good = s.filter((x) => x.ok).map((x) => x.offset);
    expect(good).toEqual(offsets.filter((_, i) => i !== 1));
    const failed = s.filter((x) => !x.ok);
    expect(failed).toMatchObject([{ offset: offsets[1], length: packets[1].length, error: { code: 'CRC_MISMATCH' } }]);
  });

  it('after a header bit flip, payload bytes that look like an idle packet are not accepted and swallow nothing', () => {
    // MEMORY_DUMP whose dumped bytes hold an idle header whose length runs past the
    // end of the dump and exactly over the two packets behind it.
    const after = [encodeCommand('PING', {}, { seq: 4 }), encodeCommand('SET_MODE', { mode: 'QKD' }, { seq: 5 }), encodeCommand('PING', {}, { seq: 6 })];
    const dumpOf = (idleDataLength: number) =>
      encodeReport('MEMORY_DUMP', { memoryId: 'CONFIG_A', offset: 0, data: Uint8Array.of(0x07, 0xff, 0xc0, 0x00, 0x00, idleDataLength, 1, 2, 3, 4) }, { seq: 3, timeS: 5 });
    const at = Buffer.from(dumpOf(0)).indexOf(Buffer.of(0x07, 0xff, 0xc0, 0x00));
    const dump = dumpOf(dumpOf(0).length + after[0].length + after[1].length - at - 7);
    const stream = Buffer.concat([dump, ...after]);
    stream[0] ^= 0x20; // packet version 1: the dump's header is refused
    const s = [...scanPackets(stream)];
    expect(s.filter((x) => x.ok && 'idle' in x)).toEqual([]);
    expect(s.filter((x) => x.ok).map((x) => x.offset)).toEqual([dump.length, dump.length + after[0].length, dump.length + after[0].length + after[1].length]);
    expect(s.filter((x) => !x.ok)).toMatchObject([{ offset: 0, length: dump.length, error: { code: 'HEADER_INVALID' } }]);
  });

  it('random bytes yield no idle packets (1 MB, seeded)', () => {
    const rng = new SeededRandom(11);
    const junk = Uint8Array.from({ length: 1 << 20 }, () => rng.nextU32() & 0xff);
    const r = decodeSpacePacketStream(junk, () => {});
    expect(r.summary.idle).toBe(0);
  });

  it('idle packets are trusted only in their one legal form, and every other form is refused naming the field', () => {
    fc.assert(
      fc.property(fc.integer({ min: 7, max: 600 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (n, pos, x) => {
        const p = idlePacket(n);
        expect(checkIdlePacket(p).dataLength).toBe(n - 7);
        const bad = p.slice();
        bad[pos % n] ^= x; // any change anywhere: header or fill
        let err: unknown;
        try {
          checkIdlePacket(bad);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ProtocolError);
        expect((err as ProtocolError).message).toMatch(/version|apid|type|secondaryHeader|sequenceFlags|seq|fill|declares/);
      }),
      { seed: 11 },
    );
  });
});

describe('COBS frames', () => {
  it('a frame glued to the bytes before it (its delimiter hit) is found at the end of the refused chunk', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }).map((g) => g.map((b) => b || 1)), fc.uint8Array({ minLength: 1, maxLength: 300 }), (garbage, payload) => {
        const frame = encodeSerialFrame(payload).subarray(0, -1);
        const found = findTrailingFrame(Buffer.concat([garbage, frame]));
        expect(found?.offset).toBe(garbage.length);
        expect(hex(found!.payload)).toBe(hex(payload));
      }),
      { seed: 11 },
    );
  });

  it('never takes a run of 0x01 for a frame (four zero octets are an empty payload with a right CRC)', () => {
    const f = encodeSerialFrame(new Uint8Array(12)).subarray(0, -1); // zeros: the frame ends in 0x01 codes
    const bad = Buffer.concat([f, Uint8Array.of(1, 1, 1, 1, 1)]);
    expect(findTrailingFrame(bad)).toBeNull();
  });

  it('finds nothing in a chunk that holds no frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }).map((g) => g.map((b) => b || 1)), (junk) => {
        expect(findTrailingFrame(junk)).toBeNull();
      }),
      { seed: 11 },
    );
  });

  it('a flipped delimiter loses only the frame it ends; 10 kB without 0x00 in front of a frame lose nothing after them', () => {
    const frames = [1, 2, 3].map((i) => encodeSerialFrame(encodeCommand('PING', {}, { seq: i })));
    const hit = Buffer.concat(frames);
    hit[frames[0].length - 1] = 0x40;
    const a = records((emit) => decodeCobsBytes(hit, emit));
    expect(a.filter((r) => !r.error).map((r) => r.offset)).toEqual([frames[0].length, frames[0].length + frames[1].length]);
    const long = Buffer.concat([new Uint8Array(10_000).fill(0x55), ...frames]);
    const b = records((emit) => decodeCobsBytes(long, emit));
    expect(b.filter((r) => !r.error).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(b[0]).toMatchObject({ offset: 0, code: 'FRAME_TOO_LONG' });
  });

  it('an unterminated last frame is reported as truncated', () => {
    const f = encodeSerialFrame(encodeCommand('PING', {}, { seq: 1 }));
    const cut = Buffer.concat([f, f.subarray(0, 9)]);
    const r = decodeCobsBytes(cut, () => {});
    expect(r.truncatedBytes).toBe(9);
    expect(r.invalid).toBe(1);
  });
});

describe('TM frames', () => {
  function link(packets: number, L = 64) {
    const framer = new TmFramer({ scid: 7, frameLengthBytes: L, ocf: true, fecf: true, randomized: true });
    const s = new VcPacketSender(1, framer.dataFieldBytes);
    for (let i = 0; i < packets; i++) s.enqueue(encodeCommand('PING', {}, { seq: i }));
    const out: Uint8Array[] = [];
    while (s.pendingDataBytes > 0) {
      const f = new Uint8Array(framer.channelFrameBytes);
      framer.build(f, 0, 1, s);
      out.push(f);
    }
    return out;
  }

  it('the last frame is handed on at the end of input even when its marker was hit beyond tolerance', () => {
    const frames = link(12);
    const last = frames[frames.length - 1];
    last[0] ^= 0x0f; // four marker bits: not a marker any more, the frame itself intact
    const all = Buffer.concat(frames);
    const recs = records((emit) => decodeTmFrameCapture(all, { frameLengthBytes: 64, randomized: true }, emit));
    const good = recs.filter((r) => r.kind === 'tmframe' && !r.error).map((r) => r.offset);
    expect(good).toEqual(frames.map((_, i) => i * frames[0].length));
  });

  it('a capture cut mid-frame reports the truncated octets', () => {
    const all = Buffer.concat(link(12));
    const cut = all.subarray(0, all.length - 20);
    const r = decodeTmFrameCapture(cut, { frameLengthBytes: 64, randomized: true }, () => {});
    expect(r.truncatedBytes).toBe(68 - 20);
  });

  it('random bytes: no frame is accepted and every octet is counted as skipped', () => {
    const rng = new SeededRandom(3);
    const junk = Uint8Array.from({ length: 200_000 }, () => rng.nextU32() & 0xff);
    const r = decodeTmFrameCapture(junk, { frameLengthBytes: 64, randomized: false }, () => {});
    expect(r.valid).toBe(0);
    expect((r.skippedBytes ?? 0) + (r.truncatedBytes ?? 0)).toBe(junk.length - 68 * (r.summary.frames as number));
  });
});
