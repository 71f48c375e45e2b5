import { compileLayout } from '../../protocols/dictionary/codec.ts';
import { enum8, f32, flag, i16s, u16, u32, uBits } from '../../protocols/dictionary/fields.ts';
import { decodePus, encodePusTm, cucFromSeconds } from '../../protocols/pus.ts';
import { DelimitedSplitter, decodeSerialFrame, encodeSerialFrame } from '../../protocols/serial-frame.ts';
import type { Benchmark, BenchContext } from './types.ts';

/**
 * A typical 64-octet housekeeping packet: 6 primary + 13 PUS-C TM secondary header
 * octets, 43 octets of dictionary-typed fields (SID, enums, bit fields, scaled
 * integers, floats), 2 octets of PEC. Encoding validates every field; decoding checks
 * the header, the secondary header, the PEC and decodes every field by name.
 */
const HK_LAYOUT = compileLayout(
  [
    u16('sid', 'structure id'),
    enum8('mode', ['OFF', 'BOOT', 'STANDBY', 'ACQUISITION', 'FINE_POINTING', 'QKD', 'SAFE'], 'mode'),
    uBits('boardOk', 4, 'board health bits'),
    uBits('bank', 4, 'bank'),
    u32('uptimeS', 'uptime', { unit: 's' }),
    u16('tcAccepted', 'accepted'),
    u16('tcRejected', 'rejected'),
    i16s('laserTempC', 0.01, 'laser temperature', { unit: 'degC' }),
    f32('errMeanUrad', 'mean', { unit: 'urad' }),
    f32('errRmsUrad', 'rms', { unit: 'urad' }),
    f32('errMaxUrad', 'max', { unit: 'urad' }),
    f32('fsmXUrad', 'x', { unit: 'urad' }),
    f32('fsmYUrad', 'y', { unit: 'urad' }),
    flag('fineLock', 'lock'),
    u32('frameNumber', 'frame'),
    u32('detections', 'detections'),
  ],
  'BENCH_HK',
);
const HK_VALUES = {
  sid: 1, mode: 'QKD', boardOk: 15, bank: 1, uptimeS: 86_400, tcAccepted: 120, tcRejected: 2, laserTempC: 25.12,
  errMeanUrad: 1.25, errRmsUrad: 1.75, errMaxUrad: 4.5, fsmXUrad: -12.5, fsmYUrad: 8.25, fineLock: true, frameNumber: 420, detections: 123_456,
};

function encodeHk(seq: number): Uint8Array {
  return encodePusTm({
    apid: 0x65, seq, timeRefStatus: 0, service: 3, subtype: 25, msgTypeCounter: seq, destinationId: 1,
    time: cucFromSeconds(1000 + seq / 10), appData: HK_LAYOUT.encode(HK_VALUES),
  });
}

/** Runs `fn` for about `ms` of wall time after a warm-up; returns operations per second. */
function rate(fn: () => number, ms: number): number {
  const warmEnd = performance.now() + ms / 4;
  while (performance.now() < warmEnd) fn();
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    ops += fn();
    t = performance.now();
  }
  return (ops * 1000) / (t - t0);
}

const bench: Benchmark = async (ctx: BenchContext) => {
  const sample = encodeHk(1);
  if (sample.length !== 64) throw new Error(`bench packet is ${sample.length} octets, expected 64`);
  ctx.progress('encode: validate fields, build headers, PEC');
  let seq = 0;
  const encodeRate = rate(() => {
    for (let i = 0; i < 1000; i++) encodeHk((seq = (seq + 1) & 0x3fff));
    return 1000;
  }, 1500);

  ctx.progress('decode: header, secondary header, PEC check, named fields');
  const packets = Array.from({ length: 1024 }, (_, i) => encodeHk(i));
  let sink = 0;
  const decodeRate = rate(() => {
    for (const p of packets) {
      const { packet } = decodePus(p);
      const f = HK_LAYOUT.decode(packet.appData);
      sink += f.frameNumber as number;
    }
    return packets.length;
  }, 1500);
  if (sink === 0) throw new Error('decode produced nothing');

  // Framing, each direction on its own (a sender only frames, a receiver only splits and
  // checks), and both in series on one thread for reference. 1 KiB payloads.
  const payloads = Array.from({ length: 64 }, (_, k) => Uint8Array.from({ length: 1024 }, (_, i) => (i * 131 + k * 7) & 0xff));
  const payloadBytes = payloads.reduce((n, p) => n + p.length, 0);
  ctx.progress('framing, sender: CRC-32C + COBS + delimiter');
  const encodeMBps = rate(() => {
    for (const p of payloads) encodeSerialFrame(p);
    return payloadBytes;
  }, 1500) / 1e6;
  ctx.progress('framing, receiver: split on 0x00, COBS decode, CRC-32C check');
  const stream = Buffer.concat(payloads.map((p) => encodeSerialFrame(p)));
  const splitter = new DelimitedSplitter();
  const decodeMBps = rate(() => {
    let n = 0;
    for (const chunk of splitter.push(stream)) n += decodeSerialFrame(chunk).length;
    if (n !== payloadBytes) throw new Error('framing round trip lost bytes');
    return n;
  }, 1500) / 1e6;
  ctx.progress('framing, both directions in series on one thread');
  const roundTripMBps = rate(() => {
    let n = 0;
    for (const p of payloads) for (const chunk of splitter.push(encodeSerialFrame(p))) n += decodeSerialFrame(chunk).length;
    return n;
  }, 1500) / 1e6;

  return [
    { key: 'encodePacketsPerS', label: 'encode 64-byte HK packet', value: Math.round(encodeRate), unit: 'packets/s' },
    { key: 'decodePacketsPerS', label: 'decode 64-byte HK packet (header, sec header, PEC, fields)', value: Math.round(decodeRate), unit: 'packets/s', target: '>= 1000000' },
    { key: 'framingEncodeMBPerS', label: 'COBS framing + CRC-32C, sender (frame)', value: Number(encodeMBps.toFixed(1)), unit: 'MB/s' },
    { key: 'framingDecodeMBPerS', label: 'COBS framing + CRC-32C, receiver (split, decode, check)', value: Number(decodeMBps.toFixed(1)), unit: 'MB/s' },
    { key: 'framingMBPerS', label: 'COBS framing + CRC-32C, slower direction', value: Number(Math.min(encodeMBps, decodeMBps).toFixed(1)), unit: 'MB/s', target: '>= 100' },
    { key: 'framingRoundTripMBPerS', label: 'COBS framing + CRC-32C, both directions in series on one thread', value: Number(roundTripMBps.toFixed(1)), unit: 'MB/s' },
  ];
};
export default bench;
