import { isProtocolError } from '../../protocols/errors.ts';
import { LINK_APID, TM_VC } from '../../protocols/link/mission.ts';
import { decodeOpaquePacket, encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { joinRelayPacketData, relayPacketData } from '../../protocols/relay-message.ts';
import { OpticalLink } from '../link/optical-link.ts';

/**
 * The relay virtual channel: bytes the satellite passes to a ground station (the
 * published K_A xor K_B, the sealed image) go down as opaque space packets on the
 * relay VC of the optical link, through its error model, and are put back together
 * from what the ground receiver reassembled (the packet layout is
 * protocols/relay-message.ts). The VC is best effort: a lost or damaged packet leaves
 * a gap, which the receiver sees (the Wegman-Carter tag then fails), so nothing
 * altered is ever accepted.
 */
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
      if (p.vcid !== TM_VC.relay) return;
      try {
        const packet = decodeOpaquePacket(p.bytes);
        if (packet.apid === LINK_APID.relay) received.set(packet.seq, packet.data);
      } catch (e) {
        if (!isProtocolError(e)) throw e; // a broken packet is a gap like a lost one
      }
    },
  });
  const chunks = relayPacketData(payload);
  let t = 0;
  chunks.forEach((data, seq) => {
    const p = encodeOpaquePacket('TM', LINK_APID.relay, seq, data);
    while (!link.sendRelay(p)) link.advanceTo((t += STEP_S)); // back-pressure: let the link drain
  });
  // Run until the queue has drained and a little more for the last frames in flight.
  const deadline = t + 5 + (payload.length * 8) / 1e6;
  while (received.size < chunks.length && t < deadline) link.advanceTo((t += STEP_S));
  return { bytes: joinRelayPacketData(received), packetsSent: chunks.length, packetsReceived: received.size, complete: received.size === chunks.length };
}
