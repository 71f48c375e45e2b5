import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTmFrameCapture } from '../../hil/decode/tmframe.ts';
import type { DecodeRecord } from '../../hil/decode/types.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { readTmHeader, tmFrameLayout } from '../../protocols/link/tm-frame.ts';
import { TmReceiver } from '../../protocols/link/tm-receiver.ts';
import { jsonLines, runScript } from '../cli/run.ts';
import { crc16Bitwise, packBits } from './vectors.ts';

/**
 * Issue 15: each TM frame's own header says whether it carries an OCF and a secondary
 * header (and its sync flag, packet order, segment length id, first header pointer).
 * Frames here are built from CCSDS 132.0-B's layout alone (no project framer).
 */

interface FrameSpec {
  vcid?: number;
  mcfc: number;
  vcfc: number;
  fhp: number;
  ocf: boolean;
  /** Secondary header octets including its id octet (0: none). */
  secondaryHeaderBytes?: number;
  syncFlag?: boolean;
  data: Uint8Array;
  frameLength: number;
}

/** Marker + frame: header bit by bit, optional secondary header, data, optional OCF, bitwise FECF. */
function frame(o: FrameSpec): Uint8Array {
  const sh = o.secondaryHeaderBytes ?? 0;
  const header = packBits([[0, 2], [0x1a5, 10], [o.vcid ?? 1, 3], [o.ocf ? 1 : 0, 1], [o.mcfc, 8], [o.vcfc, 8], [sh > 0 ? 1 : 0, 1], [o.syncFlag ? 1 : 0, 1], [0, 1], [3, 2], [o.fhp, 11]]);
  const f = new Uint8Array(o.frameLength);
  f.set(header, 0);
  if (sh > 0) f.set([sh - 1, ...Array(sh - 1).fill(0xee)], 6);
  f.set(o.data, 6 + sh);
  if (o.ocf) f.set([0x01, 0x04, 0x00, o.vcfc], o.frameLength - 6); // a CLCW for VC 1
  const crc = crc16Bitwise(f.subarray(0, o.frameLength - 2));
  f[o.frameLength - 2] = crc >>> 8;
  f[o.frameLength - 1] = crc & 0xff;
  return Uint8Array.from([0x1a, 0xcf, 0xfc, 0x1d, ...f]);
}

const dataBytes = (L: number, ocf: boolean, sh = 0) => L - 6 - sh - (ocf ? 4 : 0) - 2;

/** An idle packet (APID 0x7FF, zeros) of `n` >= 7 octets, written by hand. */
const idle = (n: number) => Uint8Array.from([0x07, 0xff, 0xc0, 0x00, (n - 7) >>> 8, (n - 7) & 0xff, ...Array(n - 6).fill(0)]);

/**
 * Lays `packets` end to end over frames whose layouts cycle through `layouts`, with
 * the first header pointer of each, and idle fill after the last packet.
 */
function capture(packets: Uint8Array[], layouts: { ocf: boolean; sh: number }[], L: number): { bytes: Uint8Array; frames: number } {
  const starts = new Set<number>();
  let stream: number[] = [];
  for (const p of packets) {
    starts.add(stream.length);
    stream = stream.concat([...p]);
  }
  const out: Uint8Array[] = [];
  let pos = 0;
  for (let i = 0; pos < stream.length || out.length === 0; i++) {
    const lay = layouts[i % layouts.length];
    const d = dataBytes(L, lay.ocf, lay.sh);
    if (stream.length < pos + d) {
      // Fill the rest with idle data; an idle packet needs 7 octets, so it may run into the next frame.
      const room = pos + d - stream.length;
      const n = room >= 7 ? room : room + dataBytes(L, layouts[(i + 1) % layouts.length].ocf, layouts[(i + 1) % layouts.length].sh);
      starts.add(stream.length);
      stream = stream.concat([...idle(n)]);
    }
    let fhp = 0x7ff;
    for (let k = pos; k < pos + d; k++) {
      if (starts.has(k)) {
        fhp = k - pos;
        break;
      }
    }
    out.push(frame({ mcfc: i & 0xff, vcfc: i & 0xff, fhp, ocf: lay.ocf, secondaryHeaderBytes: lay.sh, data: Uint8Array.from(stream.slice(pos, pos + d)), frameLength: L }));
    pos += d;
  }
  return { bytes: Buffer.concat(out), frames: out.length };
}

const pkt = (seq: number, n: number) => encodeOpaquePacket('TM', 0x0d0, seq, Uint8Array.from({ length: n }, (_, j) => (seq * 7 + j) & 0xff));

function decode(bytes: Uint8Array, L: number, ocf?: boolean) {
  const records: DecodeRecord[] = [];
  const r = decodeTmFrameCapture(bytes, { frameLengthBytes: L, randomized: false, ocf }, (x) => records.push(x));
  return { r, frames: records.filter((x) => x.kind === 'tmframe'), packets: records.filter((x) => x.kind !== 'tmframe') };
}

describe('tmFrameLayout: a frame says its own layout (hand-made vectors)', () => {
  const L = 24;
  const withFecf = { frameLengthBytes: L, fecf: true };
  const h = (hexHeader: string) => readTmHeader(Buffer.from(hexHeader, 'hex'));

  it('OCF flag 1 (1A 53 .. 18 00): data field 6..14, OCF before the FECF', () => {
    expect(tmFrameLayout(new Uint8Array(L), 0, h('1a5312341800'), withFecf)).toEqual({ secondaryHeaderBytes: 0, dataStart: 6, dataEnd: 14 + 4, ocf: true });
  });
  it('OCF flag 0 (1A 52 .. 18 00): the four octets are data', () => {
    expect(tmFrameLayout(new Uint8Array(L), 0, h('1a5212341800'), withFecf)).toEqual({ secondaryHeaderBytes: 0, dataStart: 6, dataEnd: 22, ocf: false });
    expect(tmFrameLayout(new Uint8Array(L), 0, h('1a5212341800'), { frameLengthBytes: L, fecf: false })).toMatchObject({ dataEnd: 24 });
  });
  it('secondary header flag (byte 4 = 98): id octet 03 = version 00, 4 octets in all; data after it', () => {
    const f = Buffer.from('1a53123498000399999900000000000000000000000000', 'hex');
    const hd = readTmHeader(f);
    expect(hd).toMatchObject({ secondaryHeader: true, syncFlag: false, packetOrder: false, segmentLengthId: 3, fhp: 0 });
    expect(tmFrameLayout(f, 0, hd, withFecf)).toEqual({ secondaryHeaderBytes: 4, dataStart: 10, dataEnd: 18, ocf: true });
  });
  it('refuses a secondary header of version 01 and flags that leave no data field, naming them', () => {
    const f = Buffer.from('1a5312349800' + '43' + '00'.repeat(17), 'hex');
    expect(() => tmFrameLayout(f, 0, readTmHeader(f), withFecf)).toThrow(/HEADER_INVALID: TM frame secondary header version 1/);
    expect(() => tmFrameLayout(new Uint8Array(12), 0, h('1a5312341800'), { frameLengthBytes: 12, fecf: true })).toThrow(/HEADER_INVALID: a 12-octet frame has no room for an OCF and a data field/);
  });
});

describe('TM frames with and without an OCF in one capture', () => {
  const L = 48;
  const packets = [pkt(1, 30), pkt(2, 50), pkt(3, 9), pkt(4, 70), pkt(5, 12)];
  const mixed = capture(packets, [{ ocf: true, sh: 0 }, { ocf: false, sh: 0 }, { ocf: false, sh: 5 }], L);

  it('decode without any flag: every frame as its header says, every packet delivered, no error', () => {
    const { r, frames, packets: got } = decode(mixed.bytes, L);
    expect(frames).toHaveLength(mixed.frames);
    expect(frames.every((f) => !('error' in f))).toBe(true);
    expect(frames.map((f) => f.ocfFlag)).toEqual(Array.from({ length: mixed.frames }, (_, i) => i % 3 === 0));
    expect(frames.map((f) => f.secondaryHeaderFlag)).toEqual(Array.from({ length: mixed.frames }, (_, i) => i % 3 === 2));
    expect(frames[0]).toMatchObject({ syncFlag: false, packetOrderFlag: false, segmentLengthId: 3, fhp: 0, clcw: { vcid: 1 } });
    expect(frames[1]).not.toHaveProperty('clcw');
    expect(got.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(r.invalid).toBe(0);
    expect(r.summary).not.toHaveProperty('ocfFlagOverridden');
    expect(r.notes).toEqual([]);
  });

  it('a flag the headers contradict is counted once, not per frame; the frames still decode', () => {
    const noOcf = decode(mixed.bytes, L, false);
    const withOcf = Math.ceil(mixed.frames / 3);
    expect(noOcf.r.summary).toMatchObject({ ocfFlagOverridden: withOcf });
    expect(noOcf.r.notes).toEqual([`--no-ocf: ${withOcf} of ${mixed.frames} frames say in their header that they carry an OCF; decoded as their headers say`]);
    expect(noOcf.packets.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(noOcf.r.invalid).toBe(0);
    const ocf = decode(mixed.bytes, L, true);
    expect(ocf.r.summary).toMatchObject({ ocfFlagOverridden: mixed.frames - withOcf });
    expect(ocf.r.notes?.[0]).toMatch(/^--ocf: \d+ of \d+ frames say in their header that they carry no OCF/);
  });

  it('a receiver configured for one layout still refuses frames of the other (the mission link is strict)', () => {
    const rx = new TmReceiver({ frameLengthBytes: L, randomized: false, ocf: true, fecf: true });
    const errors: string[] = [];
    rx.push(mixed.bytes, (f) => f.error && errors.push(f.error.code));
    rx.finish(() => {});
    expect(errors).toHaveLength(mixed.frames - Math.ceil(mixed.frames / 3));
    expect(new Set(errors)).toEqual(new Set(['HEADER_INVALID']));
  });

  it('a frame with the sync flag set (VCA data, no packets) is a good frame that delivers none', () => {
    const f = frame({ mcfc: 0, vcfc: 0, fhp: 0x7ff, ocf: true, syncFlag: true, data: pkt(9, 20).subarray(0, dataBytes(L, true)), frameLength: L });
    const { frames, packets: got } = decode(f, L);
    expect(frames).toMatchObject([{ syncFlag: true, fecfOk: true }]);
    expect(frames[0]).not.toHaveProperty('error');
    expect(got).toEqual([]);
  });

  it('through npm run decode: no flag exit 0; --no-ocf prints one note line and the count, exit 0', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tmflags-')), 'mixed.bin');
    writeFileSync(file, mixed.bytes);
    const plain = runScript('decode', ['--format', 'tmframe', '--frame-length', String(L), file]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(jsonLines(plain.stdout).filter((x) => x.kind !== 'tmframe').map((x) => x.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(plain.stderr).not.toMatch(/note:/);
    const told = runScript('decode', ['--format', 'tmframe', '--frame-length', String(L), '--no-ocf', file]);
    expect(told.code, told.stderr).toBe(0);
    expect(told.stderr).toMatch(new RegExp(`"ocfFlagOverridden":${Math.ceil(mixed.frames / 3)}`));
    expect(told.stderr.split('\n').filter((l) => l.startsWith('note:'))).toHaveLength(1);
  });
});

describe('property: any mix of frame layouts decodes every packet in order, without flags', () => {
  it('random packets over frames with random OCF flags and secondary headers', () => {
    const L = 64;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ ocf: fc.boolean(), sh: fc.constantFrom(0, 1, 3, 8) }), { minLength: 1, maxLength: 5 }),
        (sizes, layouts) => {
          const c = capture(sizes.map((n, i) => pkt(i, n)), layouts, L);
          const { r, frames, packets: got } = decode(c.bytes, L);
          expect(frames).toHaveLength(c.frames);
          expect(r.invalid).toBe(0);
          expect(got.map((p) => [p.seq, p.dataBytes])).toEqual(sizes.map((n, i) => [i, n]));
        },
      ),
      { seed: 1502, numRuns: 150 },
    );
  });
});
