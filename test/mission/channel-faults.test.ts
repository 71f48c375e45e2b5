import { describe, expect, it } from 'vitest';
import { LinkChannel, type OctetChannel } from '../../boards/link-sim/channel.ts';
import { OpticalLink } from '../../hil/link/optical-link.ts';
import { ForcedDropoutChannel, withForcedDropout } from '../../hil/mission/channel-faults.ts';

/** A noisy channel: random bit errors and bursts, so its random stream shows in its output. */
const noisy = () => new LinkChannel({ bitRate: 1e6, berZenith: 1e-3, burstRatePerS: 20, burstMeanBits: 40 }, () => 90, 7);
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('withForcedDropout (a channel decorator)', () => {
  it('cuts everything sent from fromS up to (not including) untilS, and passes the rest as the channel gives it', () => {
    const plain = noisy();
    const cut = withForcedDropout(noisy(), { fromS: 0.01, untilS: 0.02 });
    const sends: Array<[number, number]> = [
      [0, 0x55],
      [0.009, 0xaa],
      [0.01, 0x0f],
      [0.015, 0xf0],
      [0.02, 0x33],
      [0.05, 0xcc],
    ];
    const got = sends.map(([t, fill]) => ({ t, plain: plain.transmit(bytes(100, fill), t), cut: cut.transmit(bytes(100, fill), t) }));
    for (const g of got) {
      if (g.t >= 0.01 && g.t < 0.02) expect(g.cut.length, `t=${g.t}`).toBe(0);
      // Outside the window: byte for byte what the undecorated twin gives, errors included,
      // so the wrapped channel's random stream ran on through the window.
      else expect(g.cut, `t=${g.t}`).toEqual(g.plain);
    }
    expect((cut as ForcedDropoutChannel).cutBytes).toBe(200);
    // The channel's own counters, as if there were no window (the cut is not a channel drop-out).
    expect(cut.counters).toEqual(plain.counters);
    expect(plain.counters.bitErrors).toBeGreaterThan(0);
  });

  it('is the channel itself when there is no window', () => {
    const ch = noisy();
    expect(withForcedDropout(ch, null)).toBe(ch);
    expect(withForcedDropout(ch, undefined)).toBe(ch);
  });

  it('keeps the wire time of the channel', () => {
    const ch = noisy();
    expect(withForcedDropout(ch, { fromS: 0, untilS: 1 }).durationS(125)).toBe(ch.durationS(125));
  });

  it('is what the optical link carries when given as its channel decoration, both directions', () => {
    const seen: string[] = [];
    const link = new OpticalLink({
      seed: 3,
      elevationDeg: () => 60,
      decorateChannel: (ch: OctetChannel, direction) => {
        seen.push(direction);
        return withForcedDropout(ch, { fromS: 0, untilS: 10 });
      },
    });
    expect(seen).toEqual(['downlink', 'uplink']);
    expect(link.downlink).toBeInstanceOf(ForcedDropoutChannel);
    expect(link.uplink).toBeInstanceOf(ForcedDropoutChannel);
    link.sendTelecommand(Uint8Array.of(0x18, 0x01, 0xc0, 0x00, 0x00, 0x00, 0x00));
    link.advanceTo(0.5);
    // Nothing crossed: the ground got no frame, the board accepted no uplink frame.
    expect(link.ground.rx.counters.framesGood).toBe(0);
    expect(link.board.counters.framesAccepted).toBe(0);
    expect(link.scheduler.framesSent).toBeGreaterThan(0);
  });
});
