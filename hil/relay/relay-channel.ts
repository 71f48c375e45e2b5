import { LINK_APID, TM_VC } from '../../protocols/link/mission.ts';
import { PRIMARY_HEADER_BYTES, readPrimaryHeader, SEQ_FLAGS_UNSEGMENTED, writePrimaryHeader } from '../../protocols/space-packet.ts';
import { OpticalLink } from '../link/optical-link.ts';

/**
 * The relay virtual channel: bytes the satellite passes to a ground station (the
 * published K_A xor K_B, the sealed image) go down as opaque space packets on the
 * relay VC of the optical link, through its error model, and are put back together
 * from what the ground receiver reassembled. The VC is best effort: a lost or damaged
 * packet leaves a gap, which the receiver sees (the Wegman-Carter tag then fails), so
 * nothing altered is ever accepted.
 */
const CHUNK_BYTES = 1000;
const STEP_S = 0.05;

export interface RelayChannelOptions {
  seed: number;
  /** Downlink bit error rate at zenith (default 0: a clean link). */
  berZenith?: number;
  elevationDeg?: number;
}

export interface Carried {
  bytes: Uint8Array;
  /** Packets sent and received on the relay VC. */
  packetsSent: number;
  packetsReceived: number;
  complete: boolean;
}

/** Sends `payload` down the relay VC and returns what the ground reassembled (zero-filled gaps if incomplete). */
export function carryOverRelayVc(payload: Uint8Array, o: RelayChannelOptions): Carried {
  const received = new Map<number, Uint8Array>();
  const link = new OpticalLink({
    seed: o.seed,
    elevationDeg: () => o.elevationDeg ?? 60,
    downlink: { berZenith: o.berZenith ?? 0 },
    onGroundPacket: (p) => {
      if (p.vcid !== TM_VC.relay || p.bytes.length < PRIMARY_HEADER_BYTES) return;
      const h = readPrimaryHeader(p.bytes, 0);
      if (h.apid === LINK_APID.relay) received.set(h.seq, p.bytes.subarray(PRIMARY_HEADER_BYTES));
    },
  });
  // Header chunk first: total length, so the receiver knows when it has everything.
  const total = new Uint8Array(4);
  new DataView(total.buffer).setUint32(0, payload.length);
  const chunks: Uint8Array[] = [total];
  for (let o2 = 0; o2 < payload.length; o2 += CHUNK_BYTES) chunks.push(payload.subarray(o2, o2 + CHUNK_BYTES));
  if (chunks.length > 0x4000) throw new Error(`relay payload of ${payload.length} octets needs more than 16384 packets`);
  let t = 0;
  chunks.forEach((data, seq) => {
    const p = new Uint8Array(PRIMARY_HEADER_BYTES + data.length);
    writePrimaryHeader(p, 0, { type: 'TM', secondaryHeader: false, apid: LINK_APID.relay, sequenceFlags: SEQ_FLAGS_UNSEGMENTED, seq, dataLength: data.length - 1 });
    p.set(data, PRIMARY_HEADER_BYTES);
    while (!link.sendRelay(p)) link.advanceTo((t += STEP_S)); // back-pressure: let the link drain
  });
  // Run until the queue has drained and a little more for the last frames in flight.
  const deadline = t + 5 + (payload.length * 8) / 1e6;
  while (received.size < chunks.length && t < deadline) link.advanceTo((t += STEP_S));
  // Without the length chunk the receiver cannot place anything: it gets nothing.
  const head = received.get(0);
  const out = new Uint8Array(head && head.length >= 4 ? new DataView(head.buffer, head.byteOffset).getUint32(0) : 0);
  for (let seq = 1; seq < chunks.length; seq++) {
    const d = received.get(seq);
    if (d) out.set(d.subarray(0, Math.max(0, Math.min(d.length, out.length - (seq - 1) * CHUNK_BYTES))), (seq - 1) * CHUNK_BYTES);
  }
  return { bytes: out, packetsSent: chunks.length, packetsReceived: received.size, complete: received.size === chunks.length };
}
