import { GroundStation } from '../../boards/ground/ground-station.ts';
import { DEFAULT_CHANNEL, channelTransmittance, lossDb, pointingTransmittance, type ChannelConfig } from '../../boards/sim/channel.ts';
import { DEFAULT_DETECTOR, DetectionSampler, type DetectorConfig, type SourceConfig } from '../../boards/sim/detection.ts';
import { preSharedKey } from './physics-pass.ts';
import { stationByName } from '../../boards/sim/stations.ts';
import { AliceDistiller } from '../../firmware/qkd/alice.ts';
import { DEFAULT_DISTILL_CONFIG, type DistillConfig } from '../../qkd/config.ts';
import { KeyPool } from '../../qkd/pool.ts';
import { encodeCommand, housekeepingDef } from '../../protocols/dictionary/index.ts';
import { TC_VC, TM_VC } from '../../protocols/link/mission.ts';
import { OpticalLink } from '../link/optical-link.ts';
import { DistillationLink } from './distillation-link.ts';
import { summarise } from './summary.ts';
import { elevationAt, passGeometry } from './geometry.ts';
import { pulsesBy } from './ports-qsrc.ts';
import { createPayloadRig, DEFAULT_LOOP_RATE_HZ, missionParams, seedOf, type PayloadRig } from './rig.ts';
import type { LinkErrorInjection, MissionPassOptions, MissionPassResult, MissionProgress, MissionSummary, RecordedTm } from './types.ts';

/** Seconds from the PUS epoch (2000-01-01T00:00:00Z in this mission) to a date. */
const PUS_EPOCH_MS = Date.UTC(2000, 0, 1);
/** Where the ground beacon really is relative to the ACS's nominal station pointing (its knowledge error). */
const DEFAULT_BEACON_BIAS_URAD = { x: 700, y: -450 };
/** Corner of the payload's vibration isolation: body motion faster than this is filtered out. */
const DEFAULT_ISOLATION_TAU_S = 0.3;
/** The beacon's link budget is this much better than the quantum channel's (a watt-class laser, wider beam). */
const DEFAULT_BEACON_MARGIN_DB = 10;
/** The nominal link: random bit errors of 1e-8 at zenith, a decade more per extra airmass (about 1e-6 at 15 degrees). */
export const DEFAULT_LINK_ERRORS: LinkErrorInjection = { berZenith: 1e-8, berDecadesPerAirmass: 1 };
/**
 * COP-1 / reliable-downlink timer T1. A unit lost at the tail of a window is recovered
 * only by T1 (nothing after it reveals the gap), and Cascade is a chain of hundreds of
 * round trips, so T1 sets the pace of distillation on a lossy link. 200 ms is well
 * above the link's round trip (a few frames plus the uplink queue).
 */
export const DEFAULT_T1_MS = 200;
const SLICE_MS = 10;
const BATCH_MS = 1000;

/**
 * One pass with everything in the loop, in simulated time on in-process board
 * emulators (see docs/mission.md): the firmware's machines on ports bound to board
 * links, the pass plan uploaded by telecommand, the source's real frame schedule
 * sampled through the channel (with the fine-pointing residual as its jitter term),
 * and distillation between the payload (Alice) and the ground station (Bob) over the
 * multiplexed optical link with its error model. Deterministic for a seed.
 */
export function runMissionPass(options: MissionPassOptions = {}): MissionPassResult {
  const wall0 = performance.now();
  const stationName = (options.station ?? 'beijing').toLowerCase();
  const station = stationByName(stationName);
  const seed = options.seed ?? 1;
  const leadS = options.leadS ?? 20;
  const drainS = options.drainS ?? 60;
  const loopRateHz = options.loopRateHz ?? DEFAULT_LOOP_RATE_HZ;
  const progress = options.onProgress ?? (() => {});
  const params = missionParams(loopRateHz, options.params);
  const minElevationDeg = Math.max(options.minElevationDeg ?? 15, params.MIN_ELEVATION_DEG);
  const geo = passGeometry(station, { durationS: options.durationS ?? 300, minElevationDeg, tle: options.tle });
  const passStartMs = leadS * 1000;
  const passEndMs = passStartMs + geo.durationS * 1000;
  const linkEndMs = passEndMs + drainS * 1000;
  const epochOffsetS = Math.floor((geo.start.getTime() - PUS_EPOCH_MS) / 1000) - leadS;
  const channel: ChannelConfig = { ...DEFAULT_CHANNEL, ...options.channel };
  const detector: DetectorConfig = { ...DEFAULT_DETECTOR, ...options.detector };
  const beaconBias = options.beaconBiasUrad ?? DEFAULT_BEACON_BIAS_URAD;
  const isolationTauS = options.isolationTauS ?? DEFAULT_ISOLATION_TAU_S;
  const beaconMarginDb = options.beaconMarginDb ?? DEFAULT_BEACON_MARGIN_DB;

  // ---- the payload on its boards (emulators, board links, ports, flashed config) ----
  const loopPeriodMs = Math.max(1, Math.round(1000 / params.FINE_LOOP_RATE_HZ));
  // The HK providers read the link and QKD parts created below; they run only once the payload reports.
  let qkdHk: () => Record<string, unknown> = () => ({});
  let linkHk: () => Record<string, unknown> = () => ({});
  const rig: PayloadRig = createPayloadRig({
    seed,
    params: options.params,
    loopRateHz,
    configGeneration: options.configGeneration ?? 1,
    baud: options.baud,
    epochOffsetS,
    elevationFor: (_target, nowMs) => elevationAt(geo, (nowMs - passStartMs) / 1000),
    hkProviders: new Map<number, () => Record<string, unknown>>([
      [housekeepingDef('QKD_HK').sid, () => qkdHk()],
      [housekeepingDef('LINK_HK').sid, () => linkHk()],
    ]),
    hkEnabled: [1, 2, 3].map((s) => housekeepingDef(s).sid),
  });
  const { clock, boards, payload } = rig;
  const { qsrc, lct } = rig.ports;

  // ---- QKD: the payload's distillation (Alice) and the ground station (Bob) ----
  const source: SourceConfig = {
    rateHz: params.SOURCE_REP_RATE_MHZ * 1e6,
    mu: [params.MU_SIGNAL, params.MU_DECOY, params.MU_VACUUM],
    p: [params.P_SIGNAL, params.P_DECOY, params.P_VACUUM],
    pKeyBasis: params.P_KEY_BASIS,
    pulsesPerFrame: params.PULSES_PER_FRAME,
  };
  const distill: DistillConfig = { ...DEFAULT_DISTILL_CONFIG, mu: source.mu, p: source.p, pKeyBasis: source.pKeyBasis, ...options.distill };
  const sourceSeed = seedOf(seed, 1);
  let pools = options.pools;
  if (!pools) {
    const bits = options.preSharedKeyBits ?? 1 << 17;
    const psk = preSharedKey(seedOf(seed, 2), bits);
    pools = { payload: new KeyPool('payload'), ground: new KeyPool(stationName) };
    pools.payload.add(`psk-${stationName}`, psk, bits, 'psk');
    pools.ground.add(`psk-${stationName}`, psk, bits, 'psk');
  }
  const sessionId = options.sessionId ?? `${stationName}-${seed}`;

  // ---- the optical link, with the distillation conversation on its virtual channels ----
  let link: OpticalLink | null = null;
  const dl = new DistillationLink({
    downlink: (p) => void link!.sendDistillation(p),
    uplink: (p) => link!.sendDistillationReply(p),
  });
  const le: LinkErrorInjection = { ...DEFAULT_LINK_ERRORS, ...options.linkErrors };
  // Link time runs from the pass start (the ground station acquires the payload then).
  const linkElevation = (tS: number) => geo.at(Math.min(geo.durationS, tS)).elevationDeg;
  const forcedDropout = (ms: number) => !!le.dropout && ms >= passStartMs + le.dropout.atS * 1000 && ms < passStartMs + (le.dropout.atS + le.dropout.durationS) * 1000;
  let hkOnGround = 0;
  const channelCfg = {
    berZenith: le.berZenith ?? 0,
    berDecadesPerAirmass: le.berDecadesPerAirmass ?? 1,
    burstRatePerS: le.burstRatePerS ?? 0,
    burstMeanBits: le.burstMeanBits ?? 64,
    dropoutRatePerS: le.dropoutRatePerS ?? 0,
    dropoutMeanS: le.dropoutMeanS ?? 0.05,
    minElevationDeg: 5,
  };
  link = new OpticalLink({
    seed: seedOf(seed, 3),
    elevationDeg: linkElevation,
    downlinkBitRate: params.DOWNLINK_RATE_MBPS * 1e6,
    fopT1Ms: options.t1Ms ?? DEFAULT_T1_MS,
    uplinkBitRate: params.UPLINK_RATE_KBPS * 1e3,
    downlink: channelCfg,
    uplink: channelCfg,
    onBoardPacket: (p) => {
      if (p.vcid === TC_VC.distillation) dl.onBoardPacket(p.bytes);
      else if (p.vcid === TC_VC.telecommand) payload.sendTc(p.bytes);
    },
    onGroundPacket: (p) => {
      if (p.vcid === TM_VC.distillation) dl.onGroundPacket(p.bytes);
      else if (p.vcid === TM_VC.housekeeping) hkOnGround++;
    },
  });
  // A commanded drop-out window: nothing crosses either way (the channels' own drop-outs are random).
  for (const ch of [link.downlink, link.uplink]) {
    const transmit = ch.transmit.bind(ch);
    ch.transmit = (bytes: Uint8Array, tS: number) => {
      const out = transmit(bytes, tS);
      return forcedDropout(passStartMs + tS * 1000) ? new Uint8Array(0) : out;
    };
  }
  let simT = 0;
  const alice = new AliceDistiller({ config: distill, sourceSeed, channel: dl.alice, pool: pools.payload, sessionId, rngSeed: seedOf(seed, 4), clock: () => simT });
  const ground = new GroundStation(station.name, { config: distill, channel: dl.bob, pool: pools.ground, sessionId, rngSeed: seedOf(seed, 5), clock: () => simT });
  const sampler = new DetectionSampler(source, detector, sourceSeed, seedOf(seed, 6));

  // ---- the payload firmware ----
  let lossNowDb = 0;
  let beaconLossDb = 60;
  const blocksOf = (s: 'delivered' | 'aborted') => alice.blocks.filter((b) => b.status === s);
  qkdHk = () => {
    const last = alice.blocks.at(-1);
    return {
      detections: Math.min(ground.detections, 0xffffffff),
      siftedBits: alice.blocks.reduce((a, b) => a + b.keyBits, 0),
      qber: last ? last.qberTestSignal : 0,
      lossDb: lossNowDb,
      finalKeyBits: blocksOf('delivered').reduce((a, b) => a + b.lengthBits, 0),
      keyPoolBits: Math.min(pools!.payload.availableBits(), 0xffffffff),
      blocksDelivered: blocksOf('delivered').length,
      blocksAborted: blocksOf('aborted').length,
    };
  };
  linkHk = () => {
    const farm = link!.board.farmState(TC_VC.distillation);
    return {
      linkUp: lct.linkUp(),
      downlinkFrames: link!.scheduler.framesSent,
      uplinkFramesAccepted: link!.board.counters.framesAccepted,
      uplinkFramesRejected: link!.board.counters.framesRejected,
      authFailures: Math.min(0xffff, link!.board.errors.AUTH_FAILED ?? 0),
      farmState: farm ? { OPEN: 1, WAIT: 2, LOCKOUT: 3 }[farm.state] : 0,
      berEstimate: 10 ** boards.lct.client.value('BER_LOG10', -12),
    };
  };
  const tm: RecordedTm[] = rig.tm;
  payload.onTm((p) => {
    // While the laser link is up the payload's TM is multiplexed onto its housekeeping VC too.
    if (clock.now() >= passStartMs && clock.now() < linkEndMs && lct.linkUp()) link!.sendHousekeeping(p);
  });

  // ---- the world: attitude -> beacon on the camera, pointing residual, channel, detections ----
  const acsEmu = boards.acs.emu;
  const aptEmu = boards.apt.emu;
  let jitX = 0;
  let jitY = 0;
  let residSq = 0;
  let residN = 0;
  let residEta = 0;
  /** Mean pointing transmittance over the slice (the beam's offset from the station at each loop sample). */
  let etaPointing = pointingTransmittance(channel, 1);
  let truthSq = 0;
  let truthN = 0;
  const ll = options.lockLoss;
  const llFrom = ll ? passStartMs + ll.atS * 1000 : Infinity;
  const llTo = ll ? llFrom + ll.durationS * 1000 : -Infinity;
  const emitted = qsrc.emitted;
  const worldPeriodMs = loopPeriodMs;
  const isoA = 1 - Math.exp(-worldPeriodMs / 1000 / isolationTauS);
  clock.every(worldPeriodMs, () => {
    const now = clock.now();
    // Body line of sight = commanded target + the ACS's error about it (jitter, slew lag);
    // the payload's isolation mounts filter that error, the commanded offset passes as is.
    const tx = acsEmu.readRegister('TARGET_X_MRAD') * 1000;
    const ty = acsEmu.readRegister('TARGET_Y_MRAD') * 1000;
    jitX += (acsEmu.readRegister('ATT_X_MRAD') * 1000 - tx - jitX) * isoA;
    jitY += (acsEmu.readRegister('ATT_Y_MRAD') * 1000 - ty - jitY) * isoA;
    const bodyX = tx + jitX;
    const bodyY = ty + jitY;
    const inLoss = now >= llFrom && now < llTo;
    const kick = inLoss && ll!.kind === 'kick' ? (ll!.kickUrad ?? 60) : 0;
    const visible = now >= passStartMs && now < passEndMs && !(inLoss && (ll!.kind ?? 'hidden') === 'hidden');
    const bx = beaconBias.x - bodyX + kick;
    const by = beaconBias.y - bodyY;
    aptEmu.applySim({ kind: 'BEACON', xUrad: bx, yUrad: by, visible });
    if (payload.status.emitting) {
      const ex = bx - aptEmu.readRegister('FSM_POS_X_URAD');
      const ey = by - aptEmu.readRegister('FSM_POS_Y_URAD');
      const e2 = ex * ex + ey * ey;
      residSq += e2;
      residEta += pointingTransmittance(channel, Math.sqrt(e2));
      residN++;
    }
  });
  let lossMin = Infinity;
  let lossMax = -Infinity;
  let sampledPulses = 0;
  let firstOpen = 0;
  let lastSampleMs = 0;
  clock.every(SLICE_MS, () => {
    const now = clock.now();
    simT = now / 1000;
    const g = geo.at((now - SLICE_MS / 2 - passStartMs) / 1000);
    if (residN > 0) {
      etaPointing = residEta / residN;
      truthSq += residSq;
      truthN += residN;
    }
    residSq = 0;
    residEta = 0;
    residN = 0;
    const etaAligned = channelTransmittance(channel, g.rangeKm, g.elevationDeg, 0);
    const eta = etaAligned * etaPointing;
    lossNowDb = lossDb(eta * detector.efficiency);
    // The beacon comes up from the ground: its budget does not see the downlink's pointing loss.
    beaconLossDb = lossDb(etaAligned * detector.efficiency) - beaconMarginDb;
    // Detections from exactly the pulses the gate let out in this slice, with their indices.
    let any = false;
    for (let i = firstOpen; i < emitted.length; i++) {
      const f = emitted[i];
      if (f.startMs === Infinity) break;
      const a = pulsesBy(f, lastSampleMs);
      const b = pulsesBy(f, now);
      if (b > a) {
        const base = f.frameNumber * source.pulsesPerFrame;
        sampler.sample(base + a, base + b, eta);
        sampledPulses += b - a;
        any = true;
      }
      if (f.ended && (f.stopMs ?? 0) <= now && i === firstOpen) firstOpen++;
    }
    if (any) {
      if (lossNowDb < lossMin) lossMin = lossNowDb;
      if (lossNowDb > lossMax) lossMax = lossNowDb;
    }
    lastSampleMs = now;
    if (now % BATCH_MS === 0 && sampler.tags.length > 0) ground.receiveTimeTags(sampler.tags.take());
    if (now % 100 === 0) {
      const inView = now >= passStartMs && now < linkEndMs;
      const dropout = !inView || forcedDropout(now);
      boards.lct.emu.applySim({ kind: 'LINK', lossDb: Math.max(20, lossNowDb - 5), dropout });
      aptEmu.env.link.lossDb = inView ? beaconLossDb : 60;
    }
    if (now >= passStartMs && now <= linkEndMs) {
      link!.advanceTo((now - passStartMs) / 1000);
    }
    if (now % 10_000 === 0) {
      progress({ tS: (now - passStartMs) / 1000, mode: payload.mode(), detections: ground.detections, finalKeyBits: Number(qkdHk().finalKeyBits), blocksDelivered: blocksOf('delivered').length });
    }
  });

  // ---- the script of the pass ----
  clock.runUntil(500);
  payload.powerOn();
  if (!clock.runUntilTrue(() => payload.mode() === 'STANDBY', 5000)) throw new Error(`payload did not reach STANDBY after power-on (mode ${payload.mode()})`);
  const nowS = Math.floor(epochOffsetS + clock.now() / 1000);
  const planArgs = {
    station: stationName,
    latDeg: station.latitudeDeg,
    lonDeg: station.longitudeDeg,
    altM: station.heightKm * 1000,
    startS: epochOffsetS + leadS,
    endS: epochOffsetS + leadS + geo.durationS,
    minElevationDeg,
    tleLine1: geo.tle[0],
    tleLine2: geo.tle[1],
  };
  if (planArgs.startS <= nowS) throw new Error(`lead-in of ${leadS} s is too short: the payload booted at mission time ${nowS}`);
  payload.sendTc(encodeCommand('UPLOAD_PASS_PLAN', planArgs, { seq: 1 }));
  clock.runUntil(passEndMs + 2000);
  ground.receiveTimeTags(sampler.tags.take());
  clock.runUntil(passEndMs + 4000);
  alice.endOfPass();
  const settled = () => alice.blocks.every((b) => b.status !== 'in-progress') && ground.bob.blocks.every((b) => b.status !== 'in-progress') && link!.reliableDownlinkIdle && link!.uplinkIdle;
  clock.runUntilTrue(settled, linkEndMs - clock.now(), 100);
  const endMs = clock.now();
  payload.stop();

  const summary = summarise({
    station: station.name,
    seed,
    geo,
    epochOffsetS,
    leadS,
    tm,
    alice: alice.blocks,
    bob: ground.bob.blocks,
    lossMin,
    lossMax,
    truthRms: truthN > 0 ? Math.sqrt(truthSq / truthN) : 0,
    detections: ground.detections,
    pulsesEmitted: qsrc.pulsesEmittedTotal(),
    sampledPulses,
    link: {
      distillation: { down: { ...dl.down }, up: { ...dl.up } },
      reliableRetransmissions: link.reliableTx.counters.retransmissions,
      reliableDownlink: `${link.reliableTx.idle ? "idle" : `busy unacked=${link.reliableTx.outstanding} waitingBytes=${link.reliableTx.waitingBytes}`} alerts=${JSON.stringify(link.reliableTx.counters.alerts)} ground=${JSON.stringify(link.reliableRx.counters)}`,
      downlinkFrames: link.scheduler.framesSent,
      downlinkIdleFrames: link.scheduler.idleFrames,
      groundFramesGood: link.ground.rx.counters.framesGood,
      groundFecfErrors: link.ground.rx.counters.fecfErrors,
      hkPacketsOnGround: hkOnGround,
      uplinkFramesAccepted: link.board.counters.framesAccepted,
      uplinkFramesRejected: link.board.counters.framesRejected,
      fopRetransmissions: [...link.fops.values()].reduce((a, f) => a + f.counters.retransmissions, 0),
      fopStates: [...link.fops.values()].map((f) => {
        const farm = link.board.farmState(f.config.vcid);
        const busy = f.idle ? '' : ` busy unacked=${f.state.sent.length} waiting=${f.state.waitQueue.length}`;
        return `vc${f.config.vcid} ${f.state.state}${busy} FARM ${farm?.state} V(R)=${farm?.vr} alerts=${JSON.stringify(f.counters.alerts)}`;
      }),
      downlinkBitErrors: link.downlink.counters.bitErrors,
      uplinkBitErrors: link.uplink.counters.bitErrors,
      bursts: link.downlink.counters.bursts + link.uplink.counters.bursts,
      dropouts: link.downlink.counters.dropouts + link.uplink.counters.dropouts,
    },
    boardLinks: Object.fromEntries(Object.entries(boards).map(([n, b]) => [n, { requests: b.client.stats.requests, coalesced: b.client.stats.coalesced, timeouts: b.client.stats.timeouts, telemetryFrames: b.client.stats.telemetryFrames, telemetryLost: b.client.stats.telemetryLost }])),
    simS: endMs / 1000,
    wall0,
  });
  return { summary, tm: tm.map(({ tMs, bytes }) => ({ tMs, bytes })), pools, aliceBlocks: alice.blocks, bobBlocks: ground.bob.blocks, diagnostics: payload.diagnostics() };
}

export { DEFAULT_LOOP_RATE_HZ, missionParams };
export type { MissionPassOptions, MissionPassResult, MissionProgress, MissionSummary };
