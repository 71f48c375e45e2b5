import { describe, expect, it } from 'vitest';
import { berAtElevation, LinkChannel, symmetricPass } from '../../boards/link-sim/channel.ts';
import { DownlinkScheduler } from '../../firmware/link/downlink-scheduler.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { PRIMARY_HEADER_BYTES } from '../../protocols/space-packet.ts';

function packet(apid: number, bytes: number): Uint8Array {
  return encodeOpaquePacket('TM', apid, 0, new Uint8Array(bytes - PRIMARY_HEADER_BYTES));
}

function scheduler() {
  return new DownlinkScheduler({
    frame: { scid: 1, frameLengthBytes: 256, ocf: true, fecf: true, randomized: true },
    channels: [
      { vcid: 0, name: 'housekeeping', priority: 2, weight: 1 },
      { vcid: 1, name: 'distillation', priority: 2, weight: 3 },
      { vcid: 2, name: 'relay', priority: 1, weight: 1, maxQueuedBytes: 100_000 },
    ],
    idleVcid: 7,
  });
}

describe('downlink virtual channel scheduler', () => {
  it('distillation is never starved by a relay backlog', () => {
    const s = scheduler();
    const buf = new Uint8Array(s.channelFrameBytes);
    while (s.enqueue(2, packet(0x0e0, 4000)));
    expect(s.counters()[2].packetsRefused).toBe(1); // the bounded relay queue pushes back
    const picks: number[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 4 === 0) s.enqueue(1, packet(0x0d0, 100)); // a distillation message every 4 frames
      picks.push(s.nextFrame(buf, 0));
    }
    // Each distillation message goes out in the very next frame.
    for (let i = 0; i < 200; i += 4) expect(picks[i]).toBe(1);
    expect(picks.filter((v) => v === 2).length).toBe(150);
  });

  it('shares frames by weight within a priority level while both have data', () => {
    const s = scheduler();
    const buf = new Uint8Array(s.channelFrameBytes);
    for (let i = 0; i < 200; i++) {
      s.enqueue(0, packet(0x065, 1000));
      s.enqueue(1, packet(0x0d0, 1000));
    }
    const picks: number[] = [];
    for (let i = 0; i < 400; i++) picks.push(s.nextFrame(buf, 0));
    const hk = picks.filter((v) => v === 0).length;
    const dist = picks.filter((v) => v === 1).length;
    expect(dist / hk).toBeGreaterThan(2.8);
    expect(dist / hk).toBeLessThan(3.2);
  });

  it('sends idle frames (VC 7) when nothing waits', () => {
    const s = scheduler();
    const buf = new Uint8Array(s.channelFrameBytes);
    expect(s.nextFrame(buf, 0)).toBe(7);
    expect(s.idleFrames).toBe(1);
  });
});

describe('link model', () => {
  it('has a worse BER at low elevation', () => {
    const cfg = { berZenith: 1e-6, berDecadesPerAirmass: 0.5 };
    expect(berAtElevation(90, cfg)).toBeCloseTo(1e-6, 12);
    expect(berAtElevation(30, cfg)).toBeGreaterThan(berAtElevation(60, cfg));
    expect(berAtElevation(10, cfg)).toBeGreaterThan(berAtElevation(30, cfg));
    expect(berAtElevation(1, { berZenith: 0.01 })).toBe(0.5);
  });

  it('produces the expected error count, more errors low in the pass, and is seeded', () => {
    const frame = new Uint8Array(10_000);
    const run = (seed: number, elevation: number) => {
      const ch = new LinkChannel({ bitRate: 1e9, berZenith: 1e-4, berDecadesPerAirmass: 0.5 }, () => elevation, seed);
      for (let t = 0; t < 100; t++) ch.transmit(frame, t * 1e-4);
      return ch.counters.bitErrors;
    };
    const bits = 100 * frame.length * 8;
    const zenith = run(1, 90);
    expect(Math.abs(zenith - bits * 1e-4)).toBeLessThan(5 * Math.sqrt(bits * 1e-4)); // within 5 sigma
    expect(run(1, 20)).toBeGreaterThan(2 * zenith);
    expect(run(1, 90)).toBe(zenith);
    expect(run(2, 90)).not.toBe(zenith);
  });

  it('bursts flip bits in clusters and drop-outs remove octets', () => {
    const ch = new LinkChannel({ bitRate: 1e6, berZenith: 0, burstRatePerS: 50, burstMeanBits: 200, dropoutRatePerS: 5, dropoutMeanS: 0.01 }, symmetricPass(10, 60), 9);
    const frame = new Uint8Array(1000);
    let received = 0;
    for (let i = 0; i < 1000; i++) received += ch.transmit(frame, i * 0.008).length;
    expect(ch.counters.bursts).toBeGreaterThan(100);
    expect(ch.counters.bitErrors).toBeGreaterThan(ch.counters.bursts * 20);
    expect(ch.counters.dropouts).toBeGreaterThan(10);
    expect(received).toBe(1000 * 1000 - ch.counters.bytesDropped);
    expect(ch.counters.bytesDropped).toBeGreaterThan(0);
  });
});
