import { SeededRandom } from '../../boards/link-sim/prng.ts';
import { symmetricPass } from '../../boards/link-sim/channel.ts';
import { encodeEvent, encodeHousekeeping } from '../../protocols/dictionary/index.ts';
import { DEFAULT_TM_FRAME_BYTES, LINK_APID, TM_VC } from '../../protocols/link/mission.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { readPrimaryHeader, SequenceCounter } from '../../protocols/space-packet.ts';
import { OpticalLink } from './optical-link.ts';

/**
 * A simulated pass's downlink for `npm run downlink`: housekeeping and events (PUS, from
 * the dictionary) on VC 0, key-distillation messages as opaque packets on VC 1, relay
 * data on VC 2 (kept queued, so it takes whatever rate is left), idle frames on VC 7,
 * through the link model. Returns the received byte stream and what was sent per VC.
 */
export interface DownlinkPassOptions {
  seed: number;
  durationS: number;
  frameLengthBytes?: number;
  randomized?: boolean;
  /** BER at zenith; 0 = clean link (no bursts or drop-outs either). */
  berZenith?: number;
  bitRate?: number;
  maxElevationDeg?: number;
  distillationIntervalS?: number;
  progress?: (message: string) => void;
}

export interface ApidTally {
  packets: number;
  firstSeq: number;
  lastSeq: number;
}

export interface VcTally {
  name: string;
  packets: number;
  bytes: number;
  apids: Record<string, ApidTally>;
}

export interface DownlinkPassSummary {
  seed: number;
  durationS: number;
  frameLengthBytes: number;
  randomized: boolean;
  berZenith: number;
  bitRate: number;
  frames: { total: number; idle: number; perVc: Record<string, number> };
  /** Packets handed to the link per VC (distillation counted once, however often it was repeated). */
  sent: Record<string, VcTally>;
  /** Packets the ground reassembled from the received stream (what the decoder shows). */
  received: Record<string, VcTally>;
  /** Packets delivered to consumers: received minus repeats dropped by the reliable channel. */
  delivered: Record<string, VcTally>;
  /** Reliable distillation channel: transmissions, retransmissions, acknowledgements. */
  reliable: Record<string, unknown>;
  link: Record<string, number>;
  receiver: Record<string, unknown>;
}

const VC_NAMES: Record<number, string> = { [TM_VC.housekeeping]: 'housekeeping', [TM_VC.distillation]: 'distillation', [TM_VC.relay]: 'relay' };

function tally(into: Record<string, VcTally>, vcid: number, packet: Uint8Array): void {
  const t = (into[vcid] ??= { name: VC_NAMES[vcid] ?? `vc${vcid}`, packets: 0, bytes: 0, apids: {} });
  t.packets++;
  t.bytes += packet.length;
  const { apid, seq } = readPrimaryHeader(packet);
  const a = (t.apids[apid] ??= { packets: 0, firstSeq: seq, lastSeq: seq });
  a.packets++;
  a.lastSeq = seq;
}

/** An opaque packet of `dataBytes` seeded random octets (each u32 drawn little-endian). */
function opaquePacket(apid: number, seq: number, dataBytes: number, rng: SeededRandom): Uint8Array {
  const data = new Uint8Array(dataBytes);
  for (let i = 0; i < data.length; i += 4) {
    const r = rng.nextU32();
    data[i] = r;
    if (i + 1 < data.length) data[i + 1] = r >>> 8;
    if (i + 2 < data.length) data[i + 2] = r >>> 16;
    if (i + 3 < data.length) data[i + 3] = r >>> 24;
  }
  return encodeOpaquePacket('TM', apid, seq, data);
}

export function simulateDownlinkPass(o: DownlinkPassOptions): { chunks: Uint8Array[]; summary: DownlinkPassSummary } {
  const frameLengthBytes = o.frameLengthBytes ?? DEFAULT_TM_FRAME_BYTES;
  const randomized = o.randomized ?? true;
  const berZenith = o.berZenith ?? 0;
  const bitRate = o.bitRate ?? 2e6;
  const noisy = berZenith > 0;
  const rng = new SeededRandom(o.seed);
  const sent: Record<string, VcTally> = {};
  const received: Record<string, VcTally> = {};
  const delivered: Record<string, VcTally> = {};
  const chunks: Uint8Array[] = [];
  const link = new OpticalLink({
    seed: o.seed,
    frameLengthBytes,
    randomized,
    downlinkBitRate: bitRate,
    elevationDeg: symmetricPass(o.durationS, o.maxElevationDeg ?? 60, 10),
    downlink: noisy ? { berZenith, berDecadesPerAirmass: 0.5, burstRatePerS: 0.5, burstMeanBits: 200, dropoutRatePerS: 0.05, dropoutMeanS: 0.02 } : { berZenith: 0 },
    onDownlinkPacket: (p) => tally(received, p.vcid, p.bytes),
    onGroundPacket: (p) => tally(delivered, p.vcid, p.bytes),
    onDownlinkBytes: (b) => chunks.push(b),
  });
  const seq = new SequenceCounter();
  const put = (vcid: number, packet: Uint8Array): boolean => {
    const ok = vcid === TM_VC.housekeeping ? link.sendHousekeeping(packet) : vcid === TM_VC.distillation ? link.sendDistillation(packet) : link.sendRelay(packet);
    if (ok) tally(sent, vcid, packet);
    return ok;
  };
  const hkApidSeq = (apid: number) => seq.take(apid);
  let nextHkS = 0;
  let nextEventS = 2.5;
  let nextDistS = 0.5;
  const distEvery = o.distillationIntervalS ?? 0.05;
  const relayTargetBytes = 256 * 1024;
  let relayPending: Uint8Array | null = null;
  let lastProgress = -1;
  const step = link.frameTimeS;
  for (let t = 0; t < o.durationS; t += step) {
    while (nextHkS <= t) {
      const c = link.board.counters;
      put(
        TM_VC.housekeeping,
        encodeHousekeeping(
          'LINK_HK',
          {
            linkUp: true,
            downlinkFrames: link.scheduler.framesSent,
            uplinkFramesAccepted: c.framesAccepted,
            uplinkFramesRejected: c.framesRejected,
            authFailures: link.board.sdls.counters.rejected,
            farmState: 1,
            berEstimate: berZenith,
          },
          { seq: hkApidSeq(0x065), timeS: nextHkS },
        ),
      );
      nextHkS += 1;
    }
    while (nextEventS <= t) {
      put(TM_VC.housekeeping, encodeEvent('FINE_LOCK_ACQUIRED', { errorUrad: 1.5 }, { seq: hkApidSeq(0x065), timeS: nextEventS }));
      nextEventS += 5;
    }
    while (nextDistS <= t) {
      const size = 32 + (rng.nextU32() % 1500);
      put(TM_VC.distillation, opaquePacket(LINK_APID.distillation, seq.take(LINK_APID.distillation), size, rng));
      nextDistS += distEvery;
    }
    // Relay: keep a backlog so it soaks up the spare rate (back-pressure when the queue is full).
    while (link.scheduler.pendingBytes(TM_VC.relay) < relayTargetBytes) {
      relayPending ??= opaquePacket(LINK_APID.relay, seq.take(LINK_APID.relay), 4000, rng);
      if (!put(TM_VC.relay, relayPending)) break;
      relayPending = null;
    }
    link.advanceTo(t + step);
    const pct = Math.floor((100 * t) / o.durationS / 10);
    if (pct !== lastProgress) {
      lastProgress = pct;
      o.progress?.(`downlink: ${Math.round((100 * t) / o.durationS)}% of ${o.durationS} s simulated`);
    }
  }
  // Drain what is queued (bounded: at the end of a pass a noisy link may never confirm
  // the last reliable packets), then a few idle frames so the last frame is followed by a marker.
  let t = o.durationS;
  const vcs = [TM_VC.housekeeping, TM_VC.distillation, TM_VC.relay];
  while ((vcs.some((v) => link.scheduler.pendingBytes(v) > 0) || !link.reliableDownlinkIdle) && t < o.durationS + 5) {
    t += step;
    link.advanceTo(t);
  }
  link.advanceTo(t + 4 * step);
  const perVc: Record<string, number> = {};
  for (const c of link.scheduler.counters()) perVc[c.vcid] = c.framesSent;
  perVc[TM_VC.idle] = link.scheduler.idleFrames;
  const summary: DownlinkPassSummary = {
    seed: o.seed,
    durationS: o.durationS,
    frameLengthBytes,
    randomized,
    berZenith,
    bitRate,
    frames: { total: link.scheduler.framesSent, idle: link.scheduler.idleFrames, perVc },
    sent,
    received,
    delivered,
    reliable: { sender: { ...link.reliableTx.counters }, receiver: { ...link.reliableRx.counters } },
    link: { ...link.downlink.counters },
    receiver: { ...link.ground.rx.counters, sync: { ...link.ground.rx.syncCounters }, virtualChannels: link.ground.rx.vcCounters() },
  };
  return { chunks, summary };
}
