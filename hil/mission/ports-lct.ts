import type { LinkPort } from '../../firmware/hal.ts';
import type { Clock } from '../../boards/clock.ts';
import type { RequestEngine } from '../request-engine.ts';
import { BoundPort } from './ports-base.ts';

/**
 * LinkPort over the lct board: the terminal is switched on with the mission's rates at
 * start-up; "link up" is uplink and downlink lock from the telemetry stream. Frames
 * align to epoch 0 of the mission clock (the ground and payload share it in simulation).
 */
export class LctPort extends BoundPort implements LinkPort {
  readonly board = 'lct' as const;

  constructor(
    client: RequestEngine,
    clock: Clock,
    streamPeriodMs: number,
    private readonly rates: { uplinkKbps: number; downlinkKbps: number },
  ) {
    super(client, clock, streamPeriodMs);
  }

  protected startUp(): void {
    this.client.write({ LINK_ENABLE: 1, UPLINK_RATE_KBPS: this.rates.uplinkKbps, DOWNLINK_RATE_KBPS: this.rates.downlinkKbps });
  }

  linkUp(): boolean {
    return this.client.value('UPLINK_LOCK') === 1 && this.client.value('DOWNLINK_LOCK') === 1;
  }

  timeSync(): { locked: boolean; epochMs: number } {
    return { locked: this.linkUp(), epochMs: 0 };
  }
}
