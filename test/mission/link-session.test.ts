import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../protocols/dictionary/index.ts';
import { channelConfig, DEFAULT_LINK_ERRORS, dropoutWindow, LinkSession } from '../../hil/mission/link-session.ts';
import type { PassTimeline } from '../../hil/mission/timeline.ts';

const TIMELINE: PassTimeline = { leadS: 1, passStartMs: 1000, passEndMs: 3000, linkEndMs: 4000, epochOffsetS: 0 };

function session(linkUp: () => boolean, toPayload: (tc: Uint8Array) => void = () => {}) {
  return new LinkSession({
    seed: 5,
    timeline: TIMELINE,
    geo: { durationS: 2, at: () => ({ elevationDeg: 70, rangeKm: 600 }) },
    downlinkBitRate: 2e6,
    uplinkBitRate: 5e6,
    t1Ms: 200,
    linkErrors: { berZenith: 0 },
    toPayload,
    linkUp,
    berLog10: () => -9,
  });
}

describe('the link session', () => {
  it('turns an injection into the channel model and the drop-out window', () => {
    expect(channelConfig(DEFAULT_LINK_ERRORS)).toEqual({ berZenith: 1e-8, berDecadesPerAirmass: 1, burstRatePerS: 0, burstMeanBits: 64, dropoutRatePerS: 0, dropoutMeanS: 0.05, minElevationDeg: 5 });
    expect(dropoutWindow({ dropout: { atS: 20, durationS: 1.5 } })).toEqual({ fromS: 20, untilS: 21.5 });
    expect(dropoutWindow({})).toBeNull();
  });

  it('runs the link only in its window, link time from the pass start', () => {
    const s = session(() => true);
    s.advanceTo(900);
    expect(s.link.nowS).toBe(0);
    s.advanceTo(2000);
    expect(s.link.nowS).toBeGreaterThan(0.99);
    expect(s.link.nowS).toBeLessThanOrEqual(1);
    s.advanceTo(4000);
    const atEnd = s.link.nowS;
    s.advanceTo(4100);
    expect(s.link.nowS).toBe(atEnd);
  });

  it('multiplexes the payload TM on the housekeeping VC only in view with the terminal locked', () => {
    let up = false;
    const s = session(() => up);
    const tm = Uint8Array.of(0x08, 0x01, 0xc0, 0x00, 0x00, 0x03, 1, 2, 3, 4);
    s.onPayloadTm(tm, 1500); // terminal not locked
    up = true;
    s.onPayloadTm(tm, 500); // before the pass
    s.onPayloadTm(tm, 4000); // after the link window
    s.advanceTo(1500);
    expect(s.hkOnGround).toBe(0);
    s.onPayloadTm(tm, 1500);
    s.advanceTo(1700);
    expect(s.hkOnGround).toBe(1);
    expect(s.counters().hkPacketsOnGround).toBe(1);
    expect(s.housekeeping()).toMatchObject({ linkUp: true, berEstimate: 1e-9 });
  });

  it('carries a telecommand up to the payload and the distillation conversation both ways', () => {
    const tcs: Uint8Array[] = [];
    const s = session(() => true, (tc) => tcs.push(tc));
    const atGround: Uint8Array[] = [];
    const atPayload: Uint8Array[] = [];
    s.groundChannel.onReceive((f) => atGround.push(f));
    s.payloadChannel.onReceive((f) => atPayload.push(f));
    s.advanceTo(1000);
    const ping = encodeCommand('PING', {}, { seq: 9 });
    s.link.sendTelecommand(ping);
    s.payloadChannel.send(new Uint8Array(5000).fill(7));
    s.groundChannel.send(Uint8Array.of(1, 2, 3));
    expect(s.idle).toBe(false);
    s.advanceTo(2000);
    expect(tcs).toEqual([ping]);
    expect(atGround).toEqual([new Uint8Array(5000).fill(7)]);
    expect(atPayload).toEqual([Uint8Array.of(1, 2, 3)]);
    expect(s.idle).toBe(true);
    const c = s.counters();
    expect(c.distillation.down).toMatchObject({ messages: 1, delivered: 1, segments: 2 });
    expect(c.distillation.up).toMatchObject({ messages: 1, delivered: 1 });
  });
});
