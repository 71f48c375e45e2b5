import type { OctetChannel } from '../../boards/link-sim/channel.ts';

/**
 * An eavesdropper on one direction of the optical link (a channel decorator): every
 * octet string put on the air is recorded in `onAir`, then carried by the channel as is.
 * What an attacker in the beam would have to replay, forge or cut.
 */
export function recordingChannel(inner: OctetChannel, onAir: Uint8Array[]): OctetChannel {
  return {
    get counters() {
      return inner.counters;
    },
    durationS: (bytes) => inner.durationS(bytes),
    transmit(bytes, tS) {
      onAir.push(bytes.slice());
      return inner.transmit(bytes, tS);
    },
  };
}
