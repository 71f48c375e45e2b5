import { DEFAULT_CHANNEL, type ChannelConfig } from '../../boards/sim/channel.ts';
import { DEFAULT_DETECTOR, type DetectorConfig, type SourceConfig } from '../../boards/sim/detection.ts';
import { stationByName } from '../../boards/sim/stations.ts';
import { AliceDistiller } from '../../firmware/qkd/alice.ts';
import type { Params } from '../../firmware/params.ts';
import { housekeepingDef } from '../../protocols/dictionary/index.ts';
import { DEFAULT_DISTILL_CONFIG, type DistillConfig } from '../../qkd/config.ts';
import { KeyPool } from '../../qkd/pool.ts';
import { inProcessEnvironment } from './board-environment.ts';
import { elevationAt, passGeometry } from './geometry.ts';
import { DEFAULT_LINK_ERRORS, DEFAULT_T1_MS, dropoutWindow, LinkSession } from './link-session.ts';
import { passPlanArgs, runPassScript } from './pass-script.ts';
import { preSharedKey } from './physics-pass.ts';
import { createPayloadRig, DEFAULT_LOOP_RATE_HZ, missionParams, seedOf, type PayloadRig } from './rig.ts';
import { summarise } from './summary.ts';
import { passTimeline } from './timeline.ts';
import type { LinkErrorInjection, MissionPassOptions, MissionPassResult, MissionProgress, MissionSummary } from './types.ts';
import { MissionWorld } from './world.ts';

/** Where the ground beacon really is relative to the ACS's nominal station pointing (its knowledge error). */
const DEFAULT_BEACON_BIAS_URAD = { x: 700, y: -450 };
/** Corner of the payload's vibration isolation: body motion faster than this is filtered out. */
const DEFAULT_ISOLATION_TAU_S = 0.3;
/** The beacon's link budget is this much better than the quantum channel's (a watt-class laser, wider beam). */
const DEFAULT_BEACON_MARGIN_DB = 10;
/** Progress is reported this often, mission-clock ms. */
const PROGRESS_MS = 10_000;

/** The source as the flashed configuration sets it (the detections' and distillation's view). */
function sourceOf(params: Params): SourceConfig {
  return {
    rateHz: params.SOURCE_REP_RATE_MHZ * 1e6,
    mu: [params.MU_SIGNAL, params.MU_DECOY, params.MU_VACUUM],
    p: [params.P_SIGNAL, params.P_DECOY, params.P_VACUUM],
    pKeyBasis: params.P_KEY_BASIS,
    pulsesPerFrame: params.PULSES_PER_FRAME,
  };
}

/** Fresh key pools at both ends holding the same pre-shared key (for authentication). */
function freshPools(stationName: string, seed: number, bits: number): { payload: KeyPool; ground: KeyPool } {
  const psk = preSharedKey(seedOf(seed, 2), bits);
  const pools = { payload: new KeyPool('payload'), ground: new KeyPool(stationName) };
  pools.payload.add(`psk-${stationName}`, psk, bits, 'psk');
  pools.ground.add(`psk-${stationName}`, psk, bits, 'psk');
  return pools;
}

/**
 * One pass with everything in the loop, in simulated time on in-process board
 * emulators (see docs/mission.md), composed of:
 *  - the payload on its boards (rig.ts: emulators, board links, HAL ports, firmware)
 *    and its distiller (Alice);
 *  - the world (world.ts): attitude and beacon, pointing residual, channel, detections
 *    from the source's real frame schedule, the ground station (Bob);
 *  - the link session (link-session.ts): the optical link with distillation and the
 *    payload's TM on it, drop-outs injected by decorating its channels;
 *  - the script (pass-script.ts): power-on, boot, pass plan upload, end of pass, settle.
 * Deterministic for a seed.
 */
export function runMissionPass(options: MissionPassOptions = {}): MissionPassResult {
  const wall0 = performance.now();
  const stationName = (options.station ?? 'beijing').toLowerCase();
  const station = stationByName(stationName);
  const seed = options.seed ?? 1;
  const loopRateHz = options.loopRateHz ?? DEFAULT_LOOP_RATE_HZ;
  const progress = options.onProgress ?? (() => {});
  const params = missionParams(loopRateHz, options.params);
  const minElevationDeg = Math.max(options.minElevationDeg ?? 15, params.MIN_ELEVATION_DEG);
  const geo = passGeometry(station, { durationS: options.durationS ?? 300, minElevationDeg, tle: options.tle });
  const timeline = passTimeline(geo, options.leadS ?? 20, options.drainS ?? 60);
  const { passStartMs } = timeline;
  const channel: ChannelConfig = { ...DEFAULT_CHANNEL, ...options.channel };
  const detector: DetectorConfig = { ...DEFAULT_DETECTOR, ...options.detector };
  const linkErrors: LinkErrorInjection = { ...DEFAULT_LINK_ERRORS, ...options.linkErrors };

  // ---- the payload on its boards; the HK providers read parts created below, only once the payload reports ----
  let qkdHk: () => Record<string, unknown> = () => ({});
  let linkHk: () => Record<string, unknown> = () => ({});
  const rig: PayloadRig = createPayloadRig({
    seed,
    params: options.params,
    loopRateHz,
    configGeneration: options.configGeneration ?? 1,
    baud: options.baud,
    epochOffsetS: timeline.epochOffsetS,
    elevationFor: (_target, nowMs) => elevationAt(geo, (nowMs - passStartMs) / 1000),
    hkProviders: new Map<number, () => Record<string, unknown>>([
      [housekeepingDef('QKD_HK').sid, () => qkdHk()],
      [housekeepingDef('LINK_HK').sid, () => linkHk()],
    ]),
    hkEnabled: [1, 2, 3].map((s) => housekeepingDef(s).sid),
  });
  const { clock, boards, payload } = rig;
  const { qsrc, lct } = rig.ports;
  const source = sourceOf(params);
  const distill: DistillConfig = { ...DEFAULT_DISTILL_CONFIG, mu: source.mu, p: source.p, pKeyBasis: source.pKeyBasis, ...options.distill };
  const sourceSeed = seedOf(seed, 1);
  const pools = options.pools ?? freshPools(stationName, seed, options.preSharedKeyBits ?? 1 << 17);
  const sessionId = options.sessionId ?? `${stationName}-${seed}`;

  // ---- the link session ----
  const session = new LinkSession({
    seed: seedOf(seed, 3),
    timeline,
    geo,
    downlinkBitRate: params.DOWNLINK_RATE_MBPS * 1e6,
    uplinkBitRate: params.UPLINK_RATE_KBPS * 1e3,
    t1Ms: options.t1Ms ?? DEFAULT_T1_MS,
    linkErrors,
    toPayload: (tc) => payload.sendTc(tc),
    linkUp: () => lct.linkUp(),
    berLog10: () => boards.lct.client.value('BER_LOG10', -12),
  });
  payload.onTm((p) => session.onPayloadTm(p, clock.now()));

  // ---- the world, the ground station in it ----
  const world = new MissionWorld({
    env: inProcessEnvironment(boards),
    timeline,
    geo,
    loopPeriodMs: Math.max(1, Math.round(1000 / params.FINE_LOOP_RATE_HZ)),
    channel,
    detector,
    source,
    sourceSeed,
    detectionSeed: seedOf(seed, 6),
    ground: { name: station.name, config: distill, channel: session.groundChannel, pool: pools.ground, sessionId, rngSeed: seedOf(seed, 5) },
    beaconBiasUrad: options.beaconBiasUrad ?? DEFAULT_BEACON_BIAS_URAD,
    isolationTauS: options.isolationTauS ?? DEFAULT_ISOLATION_TAU_S,
    beaconMarginDb: options.beaconMarginDb ?? DEFAULT_BEACON_MARGIN_DB,
    lockLoss: options.lockLoss,
    linkDropout: dropoutWindow(linkErrors),
    emitting: () => payload.status.emitting,
    emitted: qsrc.emitted,
  });
  const { ground } = world;

  // ---- the payload's distillation (Alice) and its housekeeping ----
  const alice = new AliceDistiller({ config: distill, sourceSeed, channel: session.payloadChannel, pool: pools.payload, sessionId, rngSeed: seedOf(seed, 4), clock: () => world.timeS });
  const blocksOf = (s: 'delivered' | 'aborted') => alice.blocks.filter((b) => b.status === s);
  qkdHk = () => {
    const last = alice.blocks.at(-1);
    return {
      detections: Math.min(ground.detections, 0xffffffff),
      siftedBits: alice.blocks.reduce((a, b) => a + b.keyBits, 0),
      qber: last ? last.qberTestSignal : 0,
      lossDb: world.lossNowDb,
      finalKeyBits: blocksOf('delivered').reduce((a, b) => a + b.lengthBits, 0),
      keyPoolBits: Math.min(pools.payload.availableBits(), 0xffffffff),
      blocksDelivered: blocksOf('delivered').length,
      blocksAborted: blocksOf('aborted').length,
    };
  };
  linkHk = () => session.housekeeping();

  // ---- time: the world's steps, the link after each slice ----
  world.attach(clock, (now) => {
    session.advanceTo(now);
    if (now % PROGRESS_MS === 0) {
      progress({ tS: (now - passStartMs) / 1000, mode: payload.mode(), detections: ground.detections, finalKeyBits: Number(qkdHk().finalKeyBits), blocksDelivered: blocksOf('delivered').length });
    }
  });

  // ---- the script ----
  const endMs = runPassScript(clock, payload, timeline, passPlanArgs(stationName, station, geo, timeline, minElevationDeg), {
    flushTimeTags: () => world.flushTimeTags(),
    endOfPass: () => alice.endOfPass(),
    settled: () => alice.blocks.every((b) => b.status !== 'in-progress') && ground.bob.blocks.every((b) => b.status !== 'in-progress') && session.idle,
  });

  const summary = summarise({
    station: station.name,
    seed,
    geo,
    epochOffsetS: timeline.epochOffsetS,
    leadS: timeline.leadS,
    tm: rig.tm,
    alice: alice.blocks,
    bob: ground.bob.blocks,
    lossMin: world.lossMinDb,
    lossMax: world.lossMaxDb,
    truthRms: world.pointingRmsUrad,
    detections: ground.detections,
    pulsesEmitted: qsrc.pulsesEmittedTotal(),
    sampledPulses: world.pulses.sampled,
    link: session.counters(),
    boardLinks: Object.fromEntries(Object.entries(boards).map(([n, b]) => [n, { requests: b.client.stats.requests, coalesced: b.client.stats.coalesced, timeouts: b.client.stats.timeouts, telemetryFrames: b.client.stats.telemetryFrames, telemetryLost: b.client.stats.telemetryLost }])),
    simS: endMs / 1000,
    wall0,
  });
  return { summary, tm: rig.tm.map(({ tMs, bytes }) => ({ tMs, bytes })), pools, aliceBlocks: alice.blocks, bobBlocks: ground.bob.blocks, diagnostics: payload.diagnostics() };
}

export { DEFAULT_LINK_ERRORS, DEFAULT_LOOP_RATE_HZ, DEFAULT_T1_MS, missionParams };
export type { MissionPassOptions, MissionPassResult, MissionProgress, MissionSummary };
