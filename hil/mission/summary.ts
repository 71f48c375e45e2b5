import { createHash } from 'node:crypto';
import type { BlockRecord } from '../../qkd/records.ts';
import { decodePacket, type DecodedPacket, type PacketKind } from '../../protocols/dictionary/index.ts';
import type { PassGeometry } from './geometry.ts';
import type { MissionSummary, RecordedTm } from './types.ts';

/**
 * The summary of a mission pass from what the bench recorded: the payload's TM (modes,
 * frame accounting, housekeeping, ST01 reports), both ends' block records, and the
 * counters the run collected.
 */

export interface SummaryInput {
  station: string;
  seed: number;
  geo: PassGeometry;
  epochOffsetS: number;
  leadS: number;
  tm: RecordedTm[];
  alice: BlockRecord[];
  bob: BlockRecord[];
  lossMin: number;
  lossMax: number;
  truthRms: number;
  detections: number;
  pulsesEmitted: number;
  sampledPulses: number;
  link: MissionSummary['link'];
  boardLinks: MissionSummary['boardLinks'];
  authKeyConsumedBits: number;
  simS: number;
  wall0: number;
}

function tmTimeS(d: DecodedPacket): number {
  const t = (d.pus as { time?: { coarse: number; fine: number } }).time;
  return t ? t.coarse + t.fine / 65536 : 0;
}

export function summarise(x: SummaryInput): MissionSummary {
  const decoded = x.tm.map((t) => decodePacket(t.bytes));
  const tmByKind: Partial<Record<PacketKind, number>> = {};
  const tmByName: Record<string, number> = {};
  for (const d of decoded) {
    tmByKind[d.kind] = (tmByKind[d.kind] ?? 0) + 1;
    const n = d.name ?? 'unknown';
    tmByName[n] = (tmByName[n] ?? 0) + 1;
  }
  const passT = (d: DecodedPacket) => Math.round((tmTimeS(d) - x.epochOffsetS - x.leadS) * 1000) / 1000;
  const events = decoded.filter((d) => d.kind === 'event');
  const modeTimeline = events.filter((e) => e.name === 'MODE_CHANGED').map((e) => ({ tS: passT(e), from: String(e.fields!.from), to: String(e.fields!.to) }));
  const frames = events.filter((e) => e.name === 'SOURCE_FRAME').map((e) => e.fields as { frameNumber: number; pulseCount: number; reason: string });
  const byReason: Record<string, number> = {};
  for (const f of frames) byReason[f.reason] = (byReason[f.reason] ?? 0) + 1;
  const pulsesAccounted = frames.reduce((a, f) => a + f.pulseCount, 0);
  const contiguous = frames.every((f, i) => f.frameNumber === i);
  const hk = decoded.filter((d) => d.name === 'PAYLOAD_HK' && d.fields!.mode === 'QKD' && d.fields!.fineLock === true);
  // Median over the housekeeping intervals: the interval in which lock was acquired still holds acquisition errors.
  const hkRms = hk.map((h) => h.fields!.pointingErrorRmsUrad as number).sort((a, b) => a - b);
  const measuredRms = hkRms.length > 0 ? hkRms[Math.floor(hkRms.length / 2)] : 0;
  const reports = decoded.filter((d) => d.kind === 'report').map((d) => d.name ?? 'unknown');

  // Key: Bob's view of the blocks (he knows the true error counts), compared with Alice's.
  let keyN = 0;
  let keyE = 0;
  let sifted = 0;
  let finalKeyBits = 0;
  let keysEqual = true;
  const abortReasons: Record<string, number> = {};
  const hash = createHash('sha256');
  for (const b of x.bob) {
    sifted += b.keyBits;
    if (b.keyErrors) {
      keyN += b.keyN[0];
      keyE += b.keyErrors[0];
    }
    if (b.status === 'delivered') {
      finalKeyBits += b.lengthBits;
      const a = x.alice.find((r) => r.blockId === b.blockId);
      if (!a || a.status !== 'delivered' || !a.key || !b.key || a.key.length !== b.key.length || a.key.some((w, i) => w !== b.key![i])) keysEqual = false;
      hash.update(new Uint8Array(b.key!.buffer, b.key!.byteOffset, b.key!.byteLength));
    } else abortReasons[b.reason] = (abortReasons[b.reason] ?? 0) + 1;
  }
  const lockLosses = events.filter((e) => e.name === 'FINE_LOCK_LOST').length;
  return {
    station: x.station,
    seed: x.seed,
    passStartUtc: x.geo.start.toISOString(),
    passEndUtc: x.geo.end.toISOString(),
    durationS: x.geo.durationS,
    maxElevationDeg: x.geo.maxElevationDeg,
    lossDbMin: Number.isFinite(x.lossMin) ? x.lossMin : 0,
    lossDbMax: Number.isFinite(x.lossMax) ? x.lossMax : 0,
    qber: keyN > 0 ? keyE / keyN : 0,
    detections: x.detections,
    siftedBits: sifted,
    finalKeyBits,
    keySha256: hash.digest('hex'),
    keysEqual,
    pointingRmsUrad: x.truthRms,
    pointingRmsMeasuredUrad: measuredRms,
    modeTimeline,
    tm: { total: decoded.length, byKind: tmByKind, byName: tmByName, verification: reports.filter((r) => r.startsWith('VERIFY_')) },
    frames: {
      count: frames.length,
      contiguous,
      byReason,
      pulsesAccounted,
      pulsesEmitted: x.pulsesEmitted,
      pulsesSampled: x.sampledPulses,
      allAccounted: contiguous && pulsesAccounted === x.pulsesEmitted && x.sampledPulses === x.pulsesEmitted,
    },
    lockLosses,
    blocks: { delivered: x.bob.filter((b) => b.status === 'delivered').length, aborted: x.bob.filter((b) => b.status === 'aborted').length, pending: x.bob.filter((b) => b.status === 'in-progress').length, abortReasons },
    link: x.link,
    boardLinks: x.boardLinks,
    authKeyConsumedBits: x.authKeyConsumedBits,
    simS: x.simS,
    wallS: (performance.now() - x.wall0) / 1000,
  };
}
