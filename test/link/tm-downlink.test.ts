import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTmFrameCapture } from '../../hil/decode/tmframe.ts';
import type { DecodeRecord } from '../../hil/decode/types.ts';
import { FrameSynchronizer } from '../../protocols/link/frame-sync.ts';
import { TmFramer } from '../../protocols/link/tm-framer.ts';
import { TmReceiver } from '../../protocols/link/tm-receiver.ts';
import { VcPacketSender } from '../../protocols/link/vc-packet-sender.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { PRIMARY_HEADER_BYTES } from '../../protocols/space-packet.ts';
import { crc16Bitwise, hex, packBits, randomiserBytes } from './vectors.ts';

/** A space packet with recognisable content. */
function packet(apid: number, seq: number, dataBytes: number, fill = seq): Uint8Array {
  const data = Uint8Array.from({ length: dataBytes }, (_, j) => (fill * 31 + PRIMARY_HEADER_BYTES + j) & 0xff);
  return encodeOpaquePacket('TM', apid, seq, data);
}

/**
 * A TM frame built from the standard's layout alone (no project code): header packed
 * bit by bit, data field, OCF, bitwise CRC, bit-serial randomiser, marker in front.
 */
function independentFrame(o: { scid: number; vcid: number; mcfc: number; vcfc: number; fhp: number; data: Uint8Array; frameLength: number; ocf: number; randomise: boolean }): Uint8Array {
  const header = packBits([[0, 2], [o.scid, 10], [o.vcid, 3], [1, 1], [o.mcfc, 8], [o.vcfc, 8], [0, 1], [0, 1], [0, 1], [3, 2], [o.fhp, 11]]);
  const frame = new Uint8Array(o.frameLength);
  frame.set(header, 0);
  frame.set(o.data, 6);
  const ocfAt = o.frameLength - 6;
  frame.set(packBits([[o.ocf >>> 16, 16], [o.ocf & 0xffff, 16]]), ocfAt);
  const crc = crc16Bitwise(frame.subarray(0, o.frameLength - 2));
  frame[o.frameLength - 2] = crc >>> 8;
  frame[o.frameLength - 1] = crc & 0xff;
  if (o.randomise) {
    const pn = randomiserBytes(o.frameLength);
    for (let i = 0; i < frame.length; i++) frame[i] ^= pn[i];
  }
  const out = new Uint8Array(4 + o.frameLength);
  out.set([0x1a, 0xcf, 0xfc, 0x1d], 0);
  out.set(frame, 4);
  return out;
}

describe('TM frames from an independent implementation decode', () => {
  for (const randomise of [true, false]) {
    it(`two frames with a packet spanning them (${randomise ? 'randomised' : 'plain'})`, () => {
      const L = 64;
      const dataLen = L - 6 - 4 - 2; // 52
      const a = packet(0x0d0, 5, 30); // 36 octets
      const b = packet(0x0d0, 6, 40); // 46 octets: 16 in frame 1, 30 in frame 2
      const c = packet(0x0d0, 7, 9); // 15 octets after b in frame 2
      const stream = new Uint8Array(a.length + b.length + c.length);
      stream.set(a, 0);
      stream.set(b, a.length);
      stream.set(c, a.length + b.length);
      const restFrame2 = 2 * dataLen - stream.length; // 22 octets
      const idleFill = packet(0x7ff, 0, restFrame2 - PRIMARY_HEADER_BYTES, 0);
      const all = new Uint8Array(2 * dataLen);
      all.set(stream, 0);
      all.set(idleFill, stream.length);
      const f1 = independentFrame({ scid: 0x1a5, vcid: 1, mcfc: 200, vcfc: 9, fhp: 0, data: all.subarray(0, dataLen), frameLength: L, ocf: 0x01040000, randomise });
      const f2 = independentFrame({ scid: 0x1a5, vcid: 1, mcfc: 201, vcfc: 10, fhp: b.length - 16, data: all.subarray(dataLen), frameLength: L, ocf: 0x01040001, randomise });
      const capture = new Uint8Array([...Array(13).fill(0x55), ...f1, ...f2]); // leading garbage
      const records: DecodeRecord[] = [];
      const r = decodeTmFrameCapture(capture, { frameLengthBytes: L, randomized: randomise }, (x) => records.push(x));
      const frames = records.filter((x) => x.kind === 'tmframe');
      const packets = records.filter((x) => x.kind !== 'tmframe');
      expect(frames).toMatchObject([
        { scid: 0x1a5, vcid: 1, mcfc: 200, vcfc: 9, fhp: 0, fecfOk: true, clcw: { vcid: 1, nr: 0 } },
        { scid: 0x1a5, vcid: 1, mcfc: 201, vcfc: 10, fhp: 30, fecfOk: true, clcw: { vcid: 1, nr: 1 } },
      ]);
      expect(packets.map((p) => [p.apid, p.seq, p.length, p.vcid])).toEqual([
        [0x0d0, 5, 36, 1],
        [0x0d0, 6, 46, 1],
        [0x0d0, 7, 15, 1],
      ]);
      expect(r.invalid).toBe(0);
    });
  }

  it('our framer produces exactly the independent bytes', () => {
    const L = 64;
    const framer = new TmFramer({ scid: 0x1a5, frameLengthBytes: L, ocf: true, fecf: true, randomized: true });
    const s = new VcPacketSender(1, framer.dataFieldBytes);
    const p = packet(0x0d0, 3, 46); // exactly one data field
    s.enqueue(p);
    const out = new Uint8Array(4 + L);
    framer.build(out, 0, 1, s, 0x01040000);
    const ref = independentFrame({ scid: 0x1a5, vcid: 1, mcfc: 0, vcfc: 0, fhp: 0, data: p, frameLength: L, ocf: 0x01040000, randomise: true });
    expect(hex(out)).toBe(hex(ref));
  });
});

describe('virtual channel packet multiplexing', () => {
  const arbPackets = fc.array(
    fc.record({ vc: fc.integer({ min: 0, max: 2 }), size: fc.integer({ min: 1, max: 900 }), apid: fc.integer({ min: 0, max: 0x7fe }) }),
    { minLength: 1, maxLength: 60 },
  );

  it('any packets on any mix of channels arrive complete, in order, per VC (clean link)', () => {
    fc.assert(
      fc.property(arbPackets, fc.integer({ min: 16, max: 400 }), fc.boolean(), (specs, frameLength, randomized) => {
        const framer = new TmFramer({ scid: 3, frameLengthBytes: frameLength, ocf: true, fecf: true, randomized });
        const senders = [0, 1, 2].map((v) => new VcPacketSender(v, framer.dataFieldBytes));
        const sent: Uint8Array[][] = [[], [], []];
        specs.forEach((s, i) => {
          const p = packet(s.apid, i & 0x3fff, s.size, i);
          senders[s.vc].enqueue(p);
          sent[s.vc].push(p);
        });
        const rx = new TmReceiver({ frameLengthBytes: frameLength, randomized, ocf: true, fecf: true, expectedScid: 3 });
        const got: Uint8Array[][] = [[], [], []];
        const buf = new Uint8Array(framer.channelFrameBytes);
        let rounds = 0;
        while (senders.some((s) => s.pendingDataBytes > 0) || rounds < 2) {
          for (const s of senders) {
            if (s.pendingDataBytes === 0) continue;
            framer.build(buf, 0, s.vcid, s, 0);
            rx.push(buf, (f) => f.packets.forEach((p) => got[p.vcid].push(p.bytes)));
          }
          if (!senders.some((s) => s.pendingDataBytes > 0)) {
            framer.build(buf, 0, 7, null, 0); // idle frame flushes the synchroniser
            rx.push(buf, () => undefined);
            rounds++;
          }
        }
        for (let v = 0; v < 3; v++) expect(got[v].map(hex)).toEqual(sent[v].map(hex));
      }),
      { numRuns: 60 },
    );
  });

  it('with bit errors, lost and slipped octets, nothing corrupted is delivered and order holds', () => {
    fc.assert(
      fc.property(arbPackets, fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 30 }), (specs, seed, flipsPerFrameMilli) => {
        const L = 223;
        const framer = new TmFramer({ scid: 3, frameLengthBytes: L, ocf: false, fecf: true, randomized: true });
        const senders = [0, 1, 2].map((v) => new VcPacketSender(v, framer.dataFieldBytes));
        const sent = new Map<string, number>();
        const order: string[][] = [[], [], []];
        specs.forEach((s, i) => {
          const p = packet(s.apid, i & 0x3fff, s.size, i);
          senders[s.vc].enqueue(p);
          sent.set(hex(p), i);
          order[s.vc].push(hex(p));
        });
        let x = seed >>> 0;
        const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        const rx = new TmReceiver({ frameLengthBytes: L, randomized: true, ocf: false, fecf: true });
        const got: string[][] = [[], [], []];
        const buf = new Uint8Array(framer.channelFrameBytes);
        for (let k = 0; k < 400; k++) {
          const s = senders.find((q, i) => q.pendingDataBytes > 0 && (k + i) % 2 === 0) ?? senders.find((q) => q.pendingDataBytes > 0);
          framer.build(buf, 0, s ? s.vcid : 7, s ?? null, 0);
          let chunk = buf.slice();
          const r = rand();
          if (r < flipsPerFrameMilli / 100) chunk[Math.floor(rand() * chunk.length)] ^= 1 << Math.floor(rand() * 8);
          else if (r < 0.05 + flipsPerFrameMilli / 100) chunk = chunk.subarray(0, Math.floor(rand() * chunk.length)); // octets lost
          else if (r < 0.07 + flipsPerFrameMilli / 100) chunk = Uint8Array.from([...chunk, 0xaa, 0x55]); // octets inserted
          else if (r < 0.1 + flipsPerFrameMilli / 100) chunk = new Uint8Array(0); // whole frame lost
          rx.push(chunk, (f) => f.packets.forEach((p) => got[p.vcid].push(hex(p.bytes))));
          if (!s && k > 50) break;
        }
        for (let v = 0; v < 3; v++) {
          // Every delivered packet was sent on that VC, and they come in sending order.
          let last = -1;
          for (const h of got[v]) {
            const idx = order[v].indexOf(h);
            expect(idx).toBeGreaterThan(last);
            last = idx;
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('frame synchroniser', () => {
  const L = 100;
  function frames(n: number): { stream: Uint8Array; bodies: Uint8Array[] } {
    const bodies: Uint8Array[] = [];
    const parts: number[] = [];
    for (let i = 0; i < n; i++) {
      const b = Uint8Array.from({ length: L }, (_, k) => (i * 7 + k * 13) & 0xff);
      bodies.push(b);
      parts.push(0x1a, 0xcf, 0xfc, 0x1d, ...b);
    }
    return { stream: Uint8Array.from(parts), bodies };
  }

  it('finds the marker after garbage, locks, and hands out every frame across any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 30 }), fc.uint8Array({ maxLength: 50 }), (cuts, garbage) => {
        const { stream, bodies } = frames(12);
        const clean = garbage.map((g) => (g === 0x1a ? 0 : g));
        const all = Uint8Array.from([...clean, ...stream]);
        const sync = new FrameSynchronizer({ frameLengthBytes: L });
        const got: string[] = [];
        let off = 0;
        let i = 0;
        while (off < all.length) {
          const n = cuts[i++ % cuts.length];
          sync.push(all.subarray(off, off + n), (f) => got.push(hex(f)));
          off += n;
        }
        expect(got).toEqual(bodies.map(hex));
        expect(sync.state).toBe('LOCK');
        expect(sync.counters.bytesSkipped).toBe(clean.length);
      }),
    );
  });

  it('tolerates the configured number of marker bit errors in lock, not more', () => {
    const { stream, bodies } = frames(6);
    const s = stream.slice();
    s[(4 + L) * 3] ^= 0x03; // two bit errors in the 4th marker
    const sync = new FrameSynchronizer({ frameLengthBytes: L, maxMarkerBitErrors: 2, flywheelFrames: 0 });
    const got: string[] = [];
    sync.push(s, (f) => got.push(hex(f)));
    expect(got).toEqual(bodies.map(hex));
    expect(sync.counters.markersWithErrors).toBe(1);
    expect(sync.counters.markerBitErrors).toBe(2);

    const s3 = stream.slice();
    s3[(4 + L) * 3] ^= 0x07; // three bit errors: the marker is missed (flywheel keeps the frame)
    const sync3 = new FrameSynchronizer({ frameLengthBytes: L, maxMarkerBitErrors: 2, flywheelFrames: 1 });
    const got3: string[] = [];
    sync3.push(s3, (f) => got3.push(hex(f)));
    expect(sync3.counters.markersMissed).toBe(1);
    expect(got3).toEqual(bodies.map(hex));
  });

  it('regains lock after a slip (octets lost or inserted) and after a burst of garbage', () => {
    const { stream, bodies } = frames(10);
    const step = 4 + L;
    // Drop 3 octets inside frame 2, insert 5 inside frame 5, garbage burst over frame 7's marker region.
    const parts = [stream.subarray(0, 2 * step + 50), stream.subarray(2 * step + 53, 5 * step + 20), Uint8Array.of(1, 2, 3, 4, 5), stream.subarray(5 * step + 20)];
    const s = Uint8Array.from(parts.flatMap((p) => [...p]));
    const sync = new FrameSynchronizer({ frameLengthBytes: L, maxMarkerBitErrors: 2 });
    const got = new Set<string>();
    sync.push(s, (f) => got.add(hex(f)));
    // Frames not touched by a slip all come through.
    for (const i of [0, 1, 3, 4, 6, 7, 8, 9]) expect(got.has(hex(bodies[i]))).toBe(true);
    expect(sync.counters.slips).toBeGreaterThanOrEqual(2);
  });

  it('loses lock after too many missed markers and searches again', () => {
    const { stream, bodies } = frames(12);
    const step = 4 + L;
    const s = stream.slice();
    for (let i = 3 * step; i < 7 * step; i++) s[i] = 0x00; // a long fade: four frames of zeros
    const sync = new FrameSynchronizer({ frameLengthBytes: L, flywheelFrames: 2 });
    const got = new Set<string>();
    sync.push(s, (f) => got.add(hex(f)));
    expect(sync.counters.lockLost).toBe(1);
    expect(sync.counters.lockAcquired).toBe(2);
    for (const i of [0, 1, 2, 7, 8, 9, 10, 11]) expect(got.has(hex(bodies[i]))).toBe(true);
  });
});
