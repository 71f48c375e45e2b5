import type { LinkChannelCounters, OctetChannel } from '../../boards/link-sim/channel.ts';
import { inWindow, type TimeWindow } from './timeline.ts';

/**
 * A commanded drop-out on one direction of the optical link, as a decorator of its
 * channel: octets sent inside `window` (the channel's own time base, s) never arrive.
 * The wrapped channel still carries them, so its random processes (bit errors, bursts,
 * its own drop-outs) run on in time exactly as without the window; its counters are the
 * decorator's counters, and the octets cut here are counted apart in `cutBytes`.
 */
export class ForcedDropoutChannel implements OctetChannel {
  /** Octets the window cut. */
  cutBytes = 0;

  constructor(
    private readonly inner: OctetChannel,
    readonly window: TimeWindow,
  ) {}

  get counters(): LinkChannelCounters {
    return this.inner.counters;
  }

  durationS(bytes: number): number {
    return this.inner.durationS(bytes);
  }

  transmit(bytes: Uint8Array, tS: number): Uint8Array {
    const out = this.inner.transmit(bytes, tS);
    if (!inWindow(this.window, tS)) return out;
    this.cutBytes += out.length;
    return new Uint8Array(0);
  }
}

/** `channel` with nothing crossing in `window`; `channel` itself when there is no window. */
export function withForcedDropout(channel: OctetChannel, window: TimeWindow | null | undefined): OctetChannel {
  return window ? new ForcedDropoutChannel(channel, window) : channel;
}
