import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCobsBytes } from '../../hil/decode/cobs.ts';
import { packetRecord } from '../../hil/decode/packet-record.ts';
import { decodeSpacePacketStream } from '../../hil/decode/spacepacket.ts';
import type { DecodeRecord } from '../../hil/decode/types.ts';
import { encodeSerialFrame } from '../../protocols/serial-frame.ts';
import { jsonLines, runScript } from '../cli/run.ts';
import { crc16Bitwise, packBits } from '../link/vectors.ts';

/**
 * Issue 15, "Decoding what others send": PUS-C packets as another implementation
 * writes them, built here from the standards' layouts alone (CCSDS 133.0-B-2 primary
 * header, ECSS-E-ST-70-41C secondary headers, CUC 4+2, PEC by a bit-serial CRC), not by
 * our encoders. Their headers and PEC are right; their data do not fit our dictionary.
 * Every record must still carry the header facts and say which layer refused it.
 */

/** A TM packet: primary header, PUS-C TM secondary header, `data`, PEC. */
function tm(o: { apid: number; seq: number; service: number; subtype: number; data: number[] | Uint8Array; seqFlags?: number; timeS?: number }): Uint8Array {
  const body = [...packBits([[2, 4], [0, 4], [o.service, 8], [o.subtype, 8], [7, 16], [1, 16], [o.timeS ?? 1000, 32], [0x8000, 16]]), ...o.data];
  return packet('TM', o.apid, o.seq, o.seqFlags ?? 3, body);
}

/** A TC packet: primary header, PUS-C TC secondary header (ack 1001, source 1), `data`, PEC. */
function tc(o: { apid: number; seq: number; service: number; subtype: number; data: number[] }): Uint8Array {
  const body = [...packBits([[2, 4], [0b1001, 4], [o.service, 8], [o.subtype, 8], [1, 16]]), ...o.data];
  return packet('TC', o.apid, o.seq, 3, body);
}

function packet(type: 'TM' | 'TC', apid: number, seq: number, seqFlags: number, body: number[]): Uint8Array {
  const head = packBits([[0, 3], [type === 'TC' ? 1 : 0, 1], [1, 1], [apid, 11], [seqFlags, 2], [seq, 14], [body.length + 2 - 1, 16]]);
  const p = Uint8Array.from([...head, ...body, 0, 0]);
  const pec = crc16Bitwise(p.subarray(0, p.length - 2));
  p[p.length - 2] = pec >>> 8;
  p[p.length - 1] = pec & 0xff;
  return p;
}

const u16 = (v: number) => [v >>> 8, v & 0xff];
const u32 = (v: number) => [...u16(v >>> 16), ...u16(v & 0xffff)];
const APID = 0x0c8;

interface Case {
  what: string;
  bytes: Uint8Array;
  /** undefined: decodes (kind 'unknown' when the dictionary does not know it). */
  layer?: 'dictionary' | 'transport';
  code?: string;
  name?: string;
  ids?: DecodeRecord;
}

const CASES: Case[] = [
  // The transport layer for contrast: the header facts are what the bytes say, unverified.
  // First, so the dictionary misfits behind it are found again by the resynchronising scan.
  { what: 'PONG with a bad PEC', bytes: (() => { const p = tm({ apid: APID, seq: 0, service: 17, subtype: 2, data: [] }); p[p.length - 1] ^= 1; return p; })(), layer: 'transport', code: 'CRC_MISMATCH', name: 'PONG' },
  // Wrong data lengths
  { what: 'PAYLOAD_HK (SID 1) with 10 of its 56 data octets', bytes: tm({ apid: APID, seq: 1, service: 3, subtype: 25, data: [...u16(1), ...Array(10).fill(0)] }), layer: 'dictionary', code: 'LENGTH_MISMATCH', name: 'PAYLOAD_HK', ids: { sid: 1 } },
  { what: 'QKD_HK (SID 2) with two octets too many', bytes: tm({ apid: APID, seq: 2, service: 3, subtype: 25, data: [...u16(2), ...Array(30).fill(0)] }), layer: 'dictionary', code: 'LENGTH_MISMATCH', name: 'QKD_HK', ids: { sid: 2 } },
  { what: 'TM(3,25) shorter than its SID', bytes: tm({ apid: APID, seq: 3, service: 3, subtype: 25, data: [7] }), layer: 'dictionary', code: 'LENGTH_MISMATCH' },
  { what: 'PARAM_VALUE with a float32 where the dictionary has a float64', bytes: tm({ apid: APID, seq: 4, service: 20, subtype: 2, data: [...u16(2), 0x3f, 0x4c, 0xcc, 0xcd] }), layer: 'dictionary', code: 'LENGTH_MISMATCH', name: 'PARAM_VALUE' },
  { what: 'PONG with four data octets', bytes: tm({ apid: APID, seq: 5, service: 17, subtype: 2, data: [1, 2, 3, 4] }), layer: 'dictionary', code: 'LENGTH_MISMATCH', name: 'PONG' },
  { what: 'TM(5,1) shorter than its event id', bytes: tm({ apid: APID, seq: 6, service: 5, subtype: 1, data: [100] }), layer: 'dictionary', code: 'LENGTH_MISMATCH' },
  { what: 'SET_PARAM with a float32 value', bytes: tc({ apid: APID, seq: 7, service: 20, subtype: 3, data: [...u16(2), 0x3f, 0x4c, 0xcc, 0xcd] }), layer: 'dictionary', code: 'LENGTH_MISMATCH', name: 'SET_PARAM' },
  { what: 'TC(8,1) shorter than its function id', bytes: tc({ apid: APID, seq: 8, service: 8, subtype: 1, data: [1] }), layer: 'dictionary', code: 'LENGTH_MISMATCH' },
  // Out-of-range enum values and ranges
  { what: 'MODE_CHANGED from state 9 of 7', bytes: tm({ apid: APID, seq: 9, service: 5, subtype: 1, data: [...u16(100), 9, 2] }), layer: 'dictionary', code: 'FIELD_INVALID', name: 'MODE_CHANGED', ids: { eventId: 100 } },
  { what: 'MODE_CHANGED (info) sent as a high-severity TM(5,4)', bytes: tm({ apid: APID, seq: 10, service: 5, subtype: 4, data: [...u16(100), 1, 2] }), layer: 'dictionary', code: 'HEADER_INVALID', name: 'MODE_CHANGED', ids: { eventId: 100 } },
  { what: 'VERIFY_ACCEPT_FAIL with failure code 40 of 15', bytes: tm({ apid: APID, seq: 11, service: 1, subtype: 2, data: [0x18, 0x65, 0xc0, 0x01, ...u16(40), 0] }), layer: 'dictionary', code: 'FIELD_INVALID', name: 'VERIFY_ACCEPT_FAIL' },
  { what: 'MEMORY_DUMP of memory 5 of 2', bytes: tm({ apid: APID, seq: 12, service: 6, subtype: 6, data: [5, ...u32(0), ...u16(1), 0xaa] }), layer: 'dictionary', code: 'FIELD_INVALID', name: 'MEMORY_DUMP' },
  { what: 'SET_MODE to mode 12 of 7', bytes: tc({ apid: APID, seq: 13, service: 8, subtype: 1, data: [...u16(1), 12] }), layer: 'dictionary', code: 'FIELD_INVALID', name: 'SET_MODE', ids: { functionId: 1 } },
  { what: 'SET_HK_INTERVAL of 10 ms (range 100..600000)', bytes: tc({ apid: APID, seq: 14, service: 3, subtype: 31, data: [...u16(1), ...u32(10)] }), layer: 'dictionary', code: 'FIELD_OUT_OF_RANGE', name: 'SET_HK_INTERVAL' },
  { what: 'DUMP_MEMORY of 0 octets (range 1..1024)', bytes: tc({ apid: APID, seq: 15, service: 6, subtype: 5, data: [0, ...u32(0), ...u16(0)] }), layer: 'dictionary', code: 'FIELD_OUT_OF_RANGE', name: 'DUMP_MEMORY' },
  { what: 'SET_PARAM of parameter 999 (no such parameter)', bytes: tc({ apid: APID, seq: 16, service: 20, subtype: 3, data: [...u16(999), 0x3f, 0xe9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a] }), layer: 'dictionary', code: 'FIELD_OUT_OF_RANGE', name: 'SET_PARAM' },
  // Unknown subtypes and ids: not refused, printed as kind 'unknown' with their raw data
  { what: 'TM(17,99): an unknown subtype', bytes: tm({ apid: APID, seq: 17, service: 17, subtype: 99, data: [1, 2] }) },
  { what: 'TM(3,25) with SID 77 (not ours)', bytes: tm({ apid: APID, seq: 18, service: 3, subtype: 25, data: [...u16(77), 1, 2, 3] }), ids: { sid: 77 } },
  { what: 'TM(5,2) with event id 900 (not ours)', bytes: tm({ apid: APID, seq: 19, service: 5, subtype: 2, data: [...u16(900)] }), ids: { eventId: 900 } },
  { what: 'TC(8,1) with function id 99 (not ours)', bytes: tc({ apid: APID, seq: 20, service: 8, subtype: 1, data: [...u16(99), 1] }), ids: { functionId: 99 } },
  { what: 'TC(200,1): an unknown service', bytes: tc({ apid: APID, seq: 21, service: 200, subtype: 1, data: [] }) },
];
/** A last packet cut short: its length field promises more than the capture holds. */
const CUT: Case = { what: 'LINK_HK cut short at the end of the capture', bytes: tm({ apid: APID, seq: 23, service: 3, subtype: 25, data: [...u16(3), ...Array(20).fill(0)] }).subarray(0, 30), layer: 'transport', code: 'LENGTH_MISMATCH', name: 'LINK_HK', ids: { sid: 3 } };

/** The header facts the packet was written with, read back by hand. */
function written(b: Uint8Array): DecodeRecord {
  return { apid: ((b[0] & 7) << 8) | b[1], type: b[0] & 0x10 ? 'TC' : 'TM', seqFlags: b[2] >>> 6, seq: ((b[2] & 0x3f) << 8) | b[3], service: b[7], subtype: b[8] };
}

function expectRecord(r: DecodeRecord, c: Case): void {
  expect(r, c.what).toMatchObject({ ...written(c.bytes), ...(c.ids ?? {}) });
  if (c.layer === undefined) {
    expect(r, c.what).not.toHaveProperty('error');
    expect(r, c.what).toMatchObject({ kind: 'unknown' });
  } else {
    expect(r, c.what).toMatchObject({ layer: c.layer, code: c.code });
    expect(String(r.error), c.what).toMatch(new RegExp(`^${c.code}: `));
  }
  if (c.name !== undefined) expect(r.name, c.what).toBe(c.name);
  else expect(r, c.what).not.toHaveProperty('name');
}

describe('PUS-C packets from another implementation that do not fit our dictionary', () => {
  const all = [...CASES, CUT];

  it('as concatenated space packets: one record per packet, each with its header facts and the layer that refused it', () => {
    const records: DecodeRecord[] = [];
    const r = decodeSpacePacketStream(Buffer.concat(all.map((c) => c.bytes)), (x) => records.push(x));
    expect(records).toHaveLength(all.length);
    let offset = 0;
    all.forEach((c, i) => {
      expectRecord(records[i], c);
      expect(records[i].offset).toBe(offset);
      expect(records[i].length).toBe(c.bytes.length);
      offset += c.bytes.length;
    });
    expect(records[all.length - 1]).toMatchObject({ declaredLength: 6 + 13 + 22 + 2 });
    expect(r.summary).toMatchObject({ packets: all.length, invalid: all.filter((c) => c.layer).length });
  });

  it('as COBS frames, one packet each: the same records', () => {
    const records: DecodeRecord[] = [];
    decodeCobsBytes(Buffer.concat(all.map((c) => encodeSerialFrame(c.bytes))), (x) => records.push(x));
    expect(records).toHaveLength(all.length);
    all.forEach((c, i) => expectRecord(records[i], c));
  });

  it('through npm run decode: exit 1, and every record has apid, type, seq, service and subtype', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'foreign-')), 'foreign.bin');
    writeFileSync(file, Buffer.concat(all.map((c) => c.bytes)));
    const r = runScript('decode', [file]);
    expect(r.code).toBe(1);
    const records = jsonLines(r.stdout);
    expect(records).toHaveLength(all.length);
    for (const x of records) for (const k of ['apid', 'type', 'seq', 'service', 'subtype']) expect(x, JSON.stringify(x)).toHaveProperty(k);
    expect(records.filter((x) => x.layer === 'dictionary')).toHaveLength(CASES.filter((c) => c.layer === 'dictionary').length);
  });

  it("a refused packet still counts in its APID's sequence: misfits open no false gap", () => {
    const stream = Buffer.concat([
      tm({ apid: APID, seq: 1, service: 17, subtype: 99, data: [] }),
      tm({ apid: APID, seq: 2, service: 17, subtype: 2, data: [1] }),
      tm({ apid: APID, seq: 3, service: 5, subtype: 1, data: [...u16(100), 9, 9] }),
      tm({ apid: APID, seq: 4, service: 17, subtype: 99, data: [] }),
    ]);
    const records: DecodeRecord[] = [];
    const r = decodeSpacePacketStream(stream, (x) => records.push(x));
    expect(records.map((x) => x.layer)).toEqual([undefined, 'dictionary', 'dictionary', undefined]);
    expect(records.some((x) => 'seqGap' in x)).toBe(false);
    expect(r.summary.sequenceGaps).toEqual({});
  });

  it('a header that is not a space packet (version 1) has no facts to give, and says so by layer', () => {
    const p = tm({ apid: APID, seq: 1, service: 17, subtype: 2, data: [] });
    p[0] |= 0x20;
    const r = packetRecord(p);
    expect(r).toMatchObject({ code: 'HEADER_INVALID', layer: 'transport', length: p.length });
    expect(r).not.toHaveProperty('apid');
  });
});

describe('property: a well-formed PUS-C TM packet never decodes to a header-less record', () => {
  // Service/subtype pairs and leading ids the dictionary knows, so the data meet its layouts.
  const known: [number, number, number[]][] = [
    [3, 25, [1, 2, 3]],
    [5, 1, [100, 101, 103, 110, 132]],
    [5, 3, [104, 114, 122]],
    [5, 4, [102, 140, 150]],
    [1, 1, []],
    [1, 2, []],
    [6, 6, []],
    [6, 10, []],
    [17, 2, []],
    [20, 2, []],
  ];
  const arbService = fc.oneof(
    fc.constantFrom(...known).chain(([service, subtype, ids]) =>
      (ids.length > 0 ? fc.constantFrom(...ids).map((id) => u16(id)) : fc.constant<number[]>([])).map((prefix) => ({ service, subtype, prefix })),
    ),
    fc.record({ service: fc.integer({ min: 0, max: 255 }), subtype: fc.integer({ min: 0, max: 255 }), prefix: fc.constant<number[]>([]) }),
  );
  const arbPacket = fc
    .record({
      apid: fc.integer({ min: 0, max: 0x7ff }),
      seq: fc.integer({ min: 0, max: 0x3fff }),
      seqFlags: fc.integer({ min: 0, max: 3 }),
      timeS: fc.integer({ min: 0, max: 0xffffffff }),
      s: arbService,
      data: fc.uint8Array({ maxLength: 80 }),
    })
    .map((o) => tm({ apid: o.apid, seq: o.seq, seqFlags: o.seqFlags, timeS: o.timeS, service: o.s.service, subtype: o.s.subtype, data: [...o.s.prefix, ...o.data] }));

  const check = (r: DecodeRecord, p: Uint8Array) => {
    expect(r).toMatchObject({ ...written(p), length: p.length });
    if ('error' in r) expect(r.layer).toBe('dictionary');
    else expect(r.name !== undefined || r.kind === 'unknown').toBe(true);
  };

  it('alone (packetRecord) and in a stream of such packets (one record each)', () => {
    fc.assert(
      fc.property(fc.array(arbPacket, { minLength: 1, maxLength: 6 }), (packets) => {
        for (const p of packets) check(packetRecord(p), p);
        const records: DecodeRecord[] = [];
        decodeSpacePacketStream(Buffer.concat(packets), (x) => records.push(x));
        expect(records).toHaveLength(packets.length);
        packets.forEach((p, i) => check(records[i], p));
      }),
      { seed: 1501, numRuns: 400 },
    );
  });
});
