import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpticalLink } from '../../hil/link/optical-link.ts';
import { withSequenceCount } from '../../protocols/link/arq.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { PRIMARY_HEADER_BYTES } from '../../protocols/space-packet.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function packet(type: 'TM' | 'TC', apid: number, seq: number, dataBytes: number): Uint8Array {
  const data = Uint8Array.from({ length: dataBytes }, (_, j) => (seq * 131 + (PRIMARY_HEADER_BYTES + j) * 7) & 0xff);
  return encodeOpaquePacket(type, apid, seq & 0x3fff, data);
}

type Route = 'tc' | 'reply' | 'hk' | 'dist' | 'relay';
const ROUTES: Route[] = ['tc', 'reply', 'hk', 'dist', 'relay'];
const TM_VC_OF: Record<string, number> = { hk: 0, dist: 1, relay: 2 };

interface Scenario {
  packets: { route: Route; size: number; atMs: number }[];
  seed: number;
  berZenith: number;
  bursts: boolean;
  dropouts: boolean;
  frameLengthBytes: number;
  randomized: boolean;
}

/** Runs a scenario; returns what each end sent and received, per channel. */
function run(sc: Scenario) {
  const board = { tc: [] as string[], reply: [] as string[] };
  const ground: Record<number, string[]> = { 0: [], 1: [], 2: [] };
  const link = new OpticalLink({
    seed: sc.seed,
    frameLengthBytes: sc.frameLengthBytes,
    randomized: sc.randomized,
    downlinkBitRate: 2e6,
    uplinkBitRate: 256e3,
    elevationDeg: () => 40,
    fopT1Ms: 300,
    downlink: { berZenith: sc.berZenith, burstRatePerS: sc.bursts ? 3 : 0, burstMeanBits: 100, dropoutRatePerS: sc.dropouts ? 1 : 0, dropoutMeanS: 0.05 },
    uplink: { berZenith: sc.berZenith, burstRatePerS: sc.bursts ? 3 : 0, burstMeanBits: 100, dropoutRatePerS: sc.dropouts ? 1 : 0, dropoutMeanS: 0.05 },
    onBoardPacket: (p) => (p.vcid === 0 ? board.tc : board.reply).push(hex(p.bytes)),
    onGroundPacket: (p) => ground[p.vcid].push(hex(p.bytes)),
  });
  const sent: Record<Route, string[]> = { tc: [], reply: [], hk: [], dist: [], relay: [] };
  const byTime = [...sc.packets].sort((a, b) => a.atMs - b.atMs);
  let seq = 0;
  for (const p of byTime) {
    link.advanceTo(p.atMs / 1000);
    const apid = 0x40 + ROUTES.indexOf(p.route);
    const pkt = packet(p.route === 'tc' || p.route === 'reply' ? 'TC' : 'TM', apid, seq++, p.size);
    // The reliable distillation channel numbers its packets itself.
    sent[p.route].push(hex(p.route === 'dist' ? withSequenceCount(pkt, sent.dist.length) : pkt));
    if (p.route === 'tc') link.sendTelecommand(pkt);
    else if (p.route === 'reply') link.sendDistillationReply(pkt);
    else if (p.route === 'hk') expect(link.sendHousekeeping(pkt)).toBe(true);
    else if (p.route === 'dist') expect(link.sendDistillation(pkt)).toBe(true);
    else expect(link.sendRelay(pkt)).toBe(true);
  }
  // Run until the uplink has delivered everything (COP-1) and the downlink queues are empty.
  let t = link.nowS;
  const limitS = t + 120;
  while ((!link.uplinkIdle || !link.reliableDownlinkIdle || [0, 1, 2].some((v) => link.scheduler.pendingBytes(v) > 0)) && t < limitS) {
    t += 0.05;
    link.advanceTo(t);
  }
  link.advanceTo(t + 0.05);
  return { sent, board, ground, link };
}

/** `got` must be `sent` with some items left out, never reordered, duplicated or altered. */
function expectOrderedSubsequence(got: string[], sent: string[]): void {
  let i = 0;
  for (const g of got) {
    while (i < sent.length && sent[i] !== g) i++;
    expect(i, 'a delivered packet that was never sent (or out of order)').toBeLessThan(sent.length);
    i++;
  }
}

const arbScenario = (noisy: boolean) =>
  fc.record({
    packets: fc.array(
      fc.record({ route: fc.constantFrom(...ROUTES), size: fc.integer({ min: 1, max: 2500 }), atMs: fc.integer({ min: 0, max: 400 }) }),
      { minLength: 1, maxLength: 40 },
    ),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
    berZenith: noisy ? fc.constantFrom(1e-6, 1e-5, 3e-5) : fc.constant(0),
    bursts: fc.constant(noisy),
    dropouts: noisy ? fc.boolean() : fc.constant(false),
    frameLengthBytes: fc.constantFrom(223, 1115, 1784),
    randomized: fc.boolean(),
  });

describe('optical link end to end (framing, randomisation, noisy channel, COP-1)', () => {
  it('on a clean link every packet on every channel arrives once, in order', () => {
    fc.assert(
      fc.property(arbScenario(false), (sc) => {
        const { sent, board, ground } = run(sc);
        expect(board.tc).toEqual(sent.tc);
        expect(board.reply).toEqual(sent.reply);
        for (const r of ['hk', 'dist', 'relay'] as const) expect(ground[TM_VC_OF[r]]).toEqual(sent[r]);
      }),
      { numRuns: 10 },
    );
  });

  it('with bit errors, bursts and drop-outs: reliable channels (uplink, distillation downlink) complete, in order, exactly once; nothing corrupted accepted anywhere', () => {
    let fecfErrors = 0;
    let retransmissions = 0;
    let uplinkRejected = 0;
    fc.assert(
      fc.property(arbScenario(true), (sc) => {
        const { sent, board, ground, link } = run(sc);
        fecfErrors += link.ground.rx.counters.fecfErrors;
        retransmissions += link.reliableTx.counters.retransmissions + [...link.fops.values()].reduce((n, f) => n + f.counters.retransmissions, 0);
        uplinkRejected += link.board.counters.framesRejected;
        expect(board.tc).toEqual(sent.tc);
        expect(board.reply).toEqual(sent.reply);
        expect(ground[TM_VC_OF.dist]).toEqual(sent.dist); // reliable downlink channel
        for (const r of ['hk', 'relay'] as const) expectOrderedSubsequence(ground[TM_VC_OF[r]], sent[r]);
        // The channel really did corrupt things and the FECF caught them.
        if (link.downlink.counters.bitErrors > 50) expect(link.ground.rx.counters.fecfErrors).toBeGreaterThan(0);
      }),
      { numRuns: 12 },
    );
    // The runs really exercised the error paths.
    expect(fecfErrors).toBeGreaterThan(0);
    expect(retransmissions).toBeGreaterThan(0);
    expect(uplinkRejected).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same bytes on the wire', () => {
    const sc: Scenario = { packets: [{ route: 'dist', size: 3000, atMs: 0 }, { route: 'tc', size: 900, atMs: 5 }], seed: 42, berZenith: 1e-5, bursts: true, dropouts: true, frameLengthBytes: 1115, randomized: true };
    const a = run(sc);
    const b = run(sc);
    expect(a.link.downlink.counters).toEqual(b.link.downlink.counters);
    expect(a.link.ground.rx.counters).toEqual(b.link.ground.rx.counters);
    expect(a.link.board.counters).toEqual(b.link.board.counters);
  });

  it('reports the distillation backlog (VC queue plus the reliable window) for flow control', () => {
    const link = new OpticalLink({ seed: 3, elevationDeg: () => 50, downlinkBitRate: 2e6 });
    for (let i = 0; i < 100; i++) link.sendDistillation(packet('TM', 0x0d0, i, 1000));
    expect(link.reliableTx.outstanding).toBe(32); // the window
    expect(link.distillationBacklogBytes()).toBe(100 * 1006);
    link.advanceTo(2);
    expect(link.distillationBacklogBytes()).toBe(0);
    expect(link.reliableDownlinkIdle).toBe(true);
  });
});
