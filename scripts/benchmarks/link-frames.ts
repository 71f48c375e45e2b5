/**
 * npm run bench -- link-frames
 * Downlink frame throughput on one core at the mission's default frame length:
 * - build: packets -> TM frames (FHP, header, OCF) -> randomise -> FECF -> ASM
 * - parse: byte stream -> sync -> derandomise -> FECF check -> per-VC reassembly
 * Mbit/s counts link bits (marker + frame). Efficiency = useful packet bits / link bits
 * with the channels kept full of 1000-octet packets.
 */
import { DEFAULT_TM_FRAME_BYTES, MISSION_SCID } from '../../protocols/link/mission.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { TmFramer } from '../../protocols/link/tm-framer.ts';
import { TmReceiver } from '../../protocols/link/tm-receiver.ts';
import { VcPacketSender } from '../../protocols/link/vc-packet-sender.ts';
import { PRIMARY_HEADER_BYTES } from '../../protocols/space-packet.ts';
import type { Benchmark } from './types.ts';

const FRAMES = 40_000;
const PACKET_BYTES = 1000;
const CHUNK = 1 << 16;

function makePacket(seq: number): Uint8Array {
  const data = new Uint8Array(PACKET_BYTES - PRIMARY_HEADER_BYTES);
  for (let i = 0; i < data.length; i++) data[i] = ((i + PRIMARY_HEADER_BYTES) * 29 + seq) & 0xff;
  return encodeOpaquePacket('TM', 0x0d0, seq, data);
}

const bench: Benchmark = async (ctx) => {
  const L = DEFAULT_TM_FRAME_BYTES;
  const framer = new TmFramer({ scid: MISSION_SCID, frameLengthBytes: L, ocf: true, fecf: true, randomized: true });
  const senders = [0, 1, 2].map((v) => new VcPacketSender(v, framer.dataFieldBytes));
  const pool = Array.from({ length: 64 }, (_, i) => makePacket(i));
  const step = framer.channelFrameBytes;
  const stream = new Uint8Array(FRAMES * step);
  let queued = 0;
  const build = (from: number, to: number): void => {
    for (let k = from; k < to; k++) {
      const s = senders[k % 3];
      while (s.pendingDataBytes < framer.dataFieldBytes) s.enqueue(pool[queued++ & 63]);
      framer.build(stream, k * step, s.vcid, s, 0x01000000);
    }
  };
  build(0, 2000); // warm-up
  ctx.progress(`building ${FRAMES} frames of ${L} octets`);
  const t0 = process.hrtime.bigint();
  build(0, FRAMES);
  const buildS = Number(process.hrtime.bigint() - t0) / 1e9;

  const parseOnce = (): { s: number; packetBytes: number; packets: number } => {
    const rx = new TmReceiver({ frameLengthBytes: L, randomized: true, ocf: true, fecf: true, expectedScid: MISSION_SCID });
    let packetBytes = 0;
    let packets = 0;
    const t = process.hrtime.bigint();
    for (let off = 0; off < stream.length; off += CHUNK) {
      rx.push(stream.subarray(off, Math.min(stream.length, off + CHUNK)), (f) => {
        for (const p of f.packets) {
          packetBytes += p.bytes.length;
          packets++;
        }
      });
    }
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (rx.counters.fecfErrors > 0 || rx.counters.framesGood < FRAMES - 1) throw new Error(`parse check failed: ${JSON.stringify(rx.counters)}`);
    return { s, packetBytes, packets };
  };
  parseOnce(); // warm-up
  ctx.progress('parsing the stream back');
  const p = parseOnce();
  const linkBits = stream.length * 8;
  return [
    { key: 'buildFramesPerS', label: 'build + randomise + FECF', value: Math.round(FRAMES / buildS), unit: 'frames/s' },
    { key: 'buildMbitPerS', label: 'build + randomise + FECF', value: linkBits / buildS / 1e6, unit: 'Mbit/s', target: '>= 200' },
    { key: 'parseFramesPerS', label: 'sync + derandomise + check + reassembly', value: Math.round(FRAMES / p.s), unit: 'frames/s' },
    { key: 'parseMbitPerS', label: 'sync + derandomise + check + reassembly', value: linkBits / p.s / 1e6, unit: 'Mbit/s', target: '>= 200' },
    { key: 'efficiency', label: `useful packet bits / link bits at ${L}-octet frames`, value: (p.packetBytes * 8) / linkBits, unit: '' },
  ];
};

export default bench;
