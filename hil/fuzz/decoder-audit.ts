import fc from 'fast-check';
import { decodeCobsBytes } from '../decode/cobs.ts';
import { decodeSpacePacketStream } from '../decode/spacepacket.ts';
import { decodeTmFrameCapture } from '../decode/tmframe.ts';
import type { DecodeRecord, DecodeResult, Emit } from '../decode/types.ts';
import { TmFramer } from '../../protocols/link/tm-framer.ts';
import { VcPacketSender } from '../../protocols/link/vc-packet-sender.ts';
import { encodeSerialFrame } from '../../protocols/serial-frame.ts';
import { dictionaryPacketArb } from './dictionary-arbitraries.ts';

/**
 * The decoder audit behind issue 11 item 6, shared by the property test and
 * `npm run fuzz`: streams of dictionary packets (as concatenated space packets, as
 * COBS frames, as TM transfer frames) with a few bits flipped, run through the very
 * decoders `npm run decode` uses. A unit (packet or frame) is intact when none of its
 * bytes changed; it is lost when no valid record starts at its offset; a fake is a
 * valid record that is not one of the units put in (wrong offset or length).
 */
export interface FuzzCase {
  packets: Uint8Array[];
  /** Bits to flip: anywhere in the stream, or in the first octets of one unit (where a length or marker lives). */
  flips: Flip[];
  /** TM frames only: the link's frame length and randomisation. */
  frameLengthBytes: number;
  randomized: boolean;
}

export const PACKETS_PER_STREAM = 10;
/** Octets at the start of a unit that a head flip hits: a space packet's primary header. */
const HEAD_BYTES = 6;

export interface Flip {
  /** Any bit of the stream (modulo its length), or with `head` the unit (modulo their count) and bit in its head. */
  at: number;
  head: boolean;
}

export const fuzzCaseArb: fc.Arbitrary<FuzzCase> = fc.record({
  packets: fc.array(dictionaryPacketArb(), { minLength: PACKETS_PER_STREAM, maxLength: PACKETS_PER_STREAM }),
  // Half the flips land in a unit's head: that is where a decoder is led astray.
  flips: fc.array(fc.record({ at: fc.nat(), head: fc.boolean() }), { minLength: 1, maxLength: 3 }),
  frameLengthBytes: fc.integer({ min: 32, max: 256 }),
  randomized: fc.boolean(),
});

export interface FuzzTally {
  streams: number;
  units: number;
  intact: number;
  lost: number;
  fake: number;
}

export const emptyTally = (): FuzzTally => ({ streams: 0, units: 0, intact: 0, lost: 0, fake: 0 });

export function addTally(into: FuzzTally, t: FuzzTally): void {
  for (const k of Object.keys(into) as (keyof FuzzTally)[]) into[k] += t[k];
}

interface Unit {
  offset: number;
  length: number;
}

/** Concatenates units, flips the case's bits, runs `decode` and scores its valid records against the units. */
function score(units: Uint8Array[], flips: Flip[], decode: (bytes: Uint8Array, emit: Emit) => DecodeResult, isValid: (r: DecodeRecord) => boolean): FuzzTally {
  const clean = Buffer.concat(units);
  const bytes = Uint8Array.from(clean);
  const spans: Unit[] = [];
  let o = 0;
  for (const u of units) {
    spans.push({ offset: o, length: u.length });
    o += u.length;
  }
  for (const f of flips) {
    const bit = f.head ? spans[f.at % spans.length].offset * 8 + ((f.at >>> 4) % (HEAD_BYTES * 8)) : f.at % (bytes.length * 8);
    bytes[bit >> 3] ^= 0x80 >> (bit & 7);
  }
  const records: DecodeRecord[] = [];
  decode(bytes, (r) => records.push(r));
  const validAt = new Map<number, number>();
  for (const r of records) if (isValid(r)) validAt.set(r.offset as number, (validAt.get(r.offset as number) ?? 0) + 1);
  const t: FuzzTally = { streams: 1, units: units.length, intact: 0, lost: 0, fake: 0 };
  for (const s of spans) {
    const intact = clean.subarray(s.offset, s.offset + s.length).equals(bytes.subarray(s.offset, s.offset + s.length));
    const found = validAt.get(s.offset) ?? 0;
    if (found > 0) validAt.set(s.offset, found - 1);
    if (intact) {
      t.intact++;
      if (found === 0) t.lost++;
    }
  }
  for (const n of validAt.values()) t.fake += n;
  return t;
}

/** Each packet's record carries its offset; a valid one has no error. */
export function fuzzSpacePackets(c: FuzzCase): FuzzTally {
  return score(c.packets, c.flips, decodeSpacePacketStream, (r) => !('error' in r));
}

/** One COBS frame (its trailing 0x00 included) per packet. */
export function fuzzCobsFrames(c: FuzzCase): FuzzTally {
  return score(
    c.packets.map((p) => encodeSerialFrame(p)),
    c.flips,
    (b, emit) => decodeCobsBytes(b, emit),
    (r) => !('error' in r),
  );
}

const TM_SCID = 0x1a5;
const TM_VCID = 1;

/** The packets on one virtual channel of a TM link, each frame with its marker. */
function tmFrames(c: FuzzCase): Uint8Array[] {
  const framer = new TmFramer({ scid: TM_SCID, frameLengthBytes: c.frameLengthBytes, ocf: true, fecf: true, randomized: c.randomized });
  const sender = new VcPacketSender(TM_VCID, framer.dataFieldBytes);
  for (const p of c.packets) sender.enqueue(p);
  const frames: Uint8Array[] = [];
  while (sender.pendingDataBytes > 0) {
    const f = new Uint8Array(framer.channelFrameBytes);
    framer.build(f, 0, TM_VCID, sender, 0x01000000 | (frames.length & 0xff));
    frames.push(f);
  }
  return frames;
}

/** Frame records (kind tmframe) carry their marker's offset; a valid one has no error. */
export function fuzzTmFrames(c: FuzzCase): FuzzTally {
  return score(
    tmFrames(c),
    c.flips,
    (b, emit) => decodeTmFrameCapture(b, { frameLengthBytes: c.frameLengthBytes, randomized: c.randomized }, emit),
    (r) => r.kind === 'tmframe' && !('error' in r),
  );
}

export const FUZZ_FORMATS = {
  'space packets': fuzzSpacePackets,
  'COBS frames': fuzzCobsFrames,
  'TM frames': fuzzTmFrames,
} as const;
