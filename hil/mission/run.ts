import { backgroundProfile } from '../../boards/sim/background.ts';
import { polarisationErrorProfile } from '../../boards/sim/polarisation-frame.ts';
import { channelForStation, type ChannelConfig } from '../../boards/sim/channel.ts';
import { DEFAULT_DETECTOR, type DetectorConfig, type SourceConfig } from '../../boards/sim/detection.ts';
import { SimClock } from '../../boards/clock.ts';
import type { BoardName } from '../../boards/definitions.ts';
import type { BoardEmulator } from '../../boards/emulator/index.ts';
import { stationByName } from '../../boards/sim/stations.ts';
import { AliceDistiller } from '../../firmware/qkd/alice.ts';
import type { Payload } from '../../firmware/payload.ts';
import { intensityUncertaintyRel } from '../../firmware/source.ts';
import type { Params } from '../../firmware/params.ts';
import { housekeepingDef } from '../../protocols/dictionary/index.ts';
import { DEFAULT_DISTILL_CONFIG, type DistillConfig } from '../../qkd/config.ts';
import { KeyPool } from '../../qkd/pool.ts';
import type { Bench } from '../bench/bench.ts';
import type { RequestEngine } from '../request-engine.ts';
import { benchEnvironment, inProcessEnvironment, sharesClock, type BoardEnvironment } from './board-environment.ts';
import { elevationAt, passGeometry } from './geometry.ts';
import { DEFAULT_LINK_ERRORS, DEFAULT_T1_MS, dropoutWindow, LinkSession } from './link-session.ts';
import { driveScript, driveScriptHeld, passPlanArgs, passScript, type HeldScriptClock, type ScriptStep } from './pass-script.ts';
import { preSharedKey } from './physics-pass.ts';
import type { LctPort } from './ports-lct.ts';
import { sourceOutput, type QsrcPort } from './ports-qsrc.ts';
import { createPayloadRig, DEFAULT_LOOP_RATE_HZ, heldTime, hostPayload, missionParams, seedOf, type PayloadRigOptions, type RigTm } from './rig.ts';
import { summarise } from './summary.ts';
import { passTimeline } from './timeline.ts';
import type { LinkErrorInjection, MissionPassOptions, MissionPassResult, MissionProgress, MissionSummary } from './types.ts';
import { MissionWorld, SLICE_MS } from './world.ts';
import { PointAheadProfile } from './pointing.ts';

/** Where the ground beacon really is relative to the ACS's nominal station pointing (its knowledge error). */
const DEFAULT_BEACON_BIAS_URAD = { x: 700, y: -450 };
/** Corner of the payload's vibration isolation: body motion faster than this is filtered out. */
const DEFAULT_ISOLATION_TAU_S = 0.3;
/** The beacon's link budget is this much better than the quantum channel's (a watt-class laser, wider beam). */
const DEFAULT_BEACON_MARGIN_DB = 10;
/** Power-on to the pass start, s (MissionPassOptions.leadS): the mission clock's time of the pass start. */
export const DEFAULT_LEAD_S = 20;
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

/** The housekeeping sources of the pass (QKD_HK, LINK_HK): they read parts built after the payload, so they are filled in then. */
interface PassHk {
  qkd: () => Record<string, unknown>;
  link: () => Record<string, unknown>;
}

/** What a pass is, before the payload is hosted: where, when, with which settings. */
interface PassPlan {
  wall0: number;
  stationName: string;
  station: ReturnType<typeof stationByName>;
  seed: number;
  loopRateHz: number;
  params: Params;
  minElevationDeg: number;
  geo: ReturnType<typeof passGeometry>;
  timeline: ReturnType<typeof passTimeline>;
  hk: PassHk;
  /** How the payload is hosted (the rig's options). */
  rig: PayloadRigOptions;
}

function planPass(options: MissionPassOptions): PassPlan {
  const wall0 = performance.now();
  const stationName = (options.station ?? 'beijing').toLowerCase();
  const station = stationByName(stationName);
  const seed = options.seed ?? 1;
  const loopRateHz = options.loopRateHz ?? DEFAULT_LOOP_RATE_HZ;
  // `disable: ['point-ahead']` flashes POINT_AHEAD_ENABLE 0 (explicit params still win).
  const overrides = { ...(options.disable?.includes('point-ahead') ? { POINT_AHEAD_ENABLE: 0 } : {}), ...options.params };
  const params = missionParams(loopRateHz, overrides);
  const minElevationDeg = Math.max(options.minElevationDeg ?? 15, params.MIN_ELEVATION_DEG);
  const geo = passGeometry(station, { durationS: options.durationS ?? 300, minElevationDeg, tle: options.tle, pass: options.pass });
  const timeline = passTimeline(geo, options.leadS ?? DEFAULT_LEAD_S, options.drainS ?? 60);
  const hk: PassHk = { qkd: () => ({}), link: () => ({}) };
  const rig: PayloadRigOptions = {
    seed,
    params: overrides,
    loopRateHz,
    configGeneration: options.configGeneration ?? 1,
    epochOffsetS: timeline.epochOffsetS,
    elevationFor: (_target, nowMs) => elevationAt(geo, (nowMs - timeline.passStartMs) / 1000),
    hkProviders: new Map<number, () => Record<string, unknown>>([
      [housekeepingDef('QKD_HK').sid, () => hk.qkd()],
      [housekeepingDef('LINK_HK').sid, () => hk.link()],
    ]),
    hkEnabled: [1, 2, 3].map((s) => housekeepingDef(s).sid),
  };
  return { wall0, stationName, station, seed, loopRateHz, params, minElevationDeg, geo, timeline, hk, rig };
}

/** The hosted payload as the pass uses it (the in-process rig and a payload hosted on any simulated-time bench alike). */
interface PassRig {
  clock: SimClock;
  payload: Payload;
  tm: RigTm[];
  ports: { qsrc: QsrcPort; lct: LctPort };
  boards: Record<BoardName, { client: RequestEngine }>;
}

/** A pass put together: its script (to be driven on the clock) and what makes its result once the script ended. */
interface AssembledPass {
  script: Generator<ScriptStep, number, boolean>;
  result(endMs: number): MissionPassResult;
}

/**
 * One pass with everything in the loop (see docs/mission.md), put together around a
 * hosted payload and its distiller (Alice):
 *  - the world (world.ts): attitude and beacon, pointing residual, channel, detections
 *    from the source's real frame schedule, the ground station (Bob), reaching the
 *    boards through `env`;
 *  - the link session (link-session.ts): the optical link with distillation and the
 *    payload's TM on it, drop-outs injected by decorating its channels;
 *  - the script (pass-script.ts): power-on, boot, pass plan upload, end of pass, settle.
 * The same parts for every bench; only how the script's time is run differs.
 */
function assemblePass(plan: PassPlan, options: MissionPassOptions, rig: PassRig, env: BoardEnvironment, qsrcEmulator?: BoardEmulator): AssembledPass {
  const { stationName, station, seed, params, geo, timeline, minElevationDeg, hk } = plan;
  const progress = options.onProgress ?? (() => {});
  const { passStartMs } = timeline;
  const channel: ChannelConfig = channelForStation(station, options.channel);
  const detector: DetectorConfig = { ...DEFAULT_DETECTOR, ...options.detector };
  const linkErrors: LinkErrorInjection = { ...DEFAULT_LINK_ERRORS, ...options.linkErrors };
  const { clock, boards, payload } = rig;
  const { qsrc, lct } = rig.ports;
  const source = sourceOf(params);
  const distill: DistillConfig = { ...DEFAULT_DISTILL_CONFIG, mu: source.mu, p: source.p, pKeyBasis: source.pKeyBasis, muRelUncertainty: intensityUncertaintyRel(params), ...options.distill };
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
  const pointAhead = new PointAheadProfile(geo.tle, station, geo.start, geo.durationS);
  const world = new MissionWorld({
    env,
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
    emittedMu: sourceOutput(qsrc, qsrcEmulator),
    truePointAheadUrad: (tS) => pointAhead.trueUrad(tS),
    backgroundCountsPerS: backgroundProfile(station, geo.start, geo.samples),
    polarisationErrorProb: polarisationErrorProfile(geo.tle, station, geo.start, geo.durationS, !options.disable?.includes('polarisation-compensation')),
    timeTrackingOff: options.disable?.includes('time-sync'),
  });
  const { ground } = world;

  // ---- the payload's distillation (Alice) and its housekeeping ----
  const alice = new AliceDistiller({ config: distill, sourceSeed, channel: session.payloadChannel, pool: pools.payload, sessionId, rngSeed: seedOf(seed, 4), clock: () => world.timeS });
  const blocksOf = (s: 'delivered' | 'aborted') => alice.blocks.filter((b) => b.status === s);
  hk.qkd = () => {
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
  hk.link = () => session.housekeeping();

  // ---- time: the world's steps, the link after each slice ----
  world.attach(clock, (now) => {
    session.advanceTo(now);
    if (now % PROGRESS_MS === 0) {
      progress({ tS: (now - passStartMs) / 1000, mode: payload.mode(), detections: ground.detections, finalKeyBits: Number(hk.qkd().finalKeyBits), blocksDelivered: blocksOf('delivered').length });
    }
  });

  // ---- the script ----
  const script = passScript(() => clock.now(), payload, timeline, passPlanArgs(stationName, station, geo, timeline, minElevationDeg), {
    flushTimeTags: () => world.flushTimeTags(),
    endOfPass: () => alice.endOfPass(),
    settled: () => alice.blocks.every((b) => b.status !== 'in-progress') && ground.bob.blocks.every((b) => b.status !== 'in-progress') && session.idle,
  });

  const result = (endMs: number): MissionPassResult => {
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
      wall0: plan.wall0,
      authKeyConsumedBits: alice.auth.stats.keyConsumedBits,
    });
    return { summary, tm: rig.tm.map(({ tMs, bytes }) => ({ tMs, bytes })), pools, aliceBlocks: alice.blocks, bobBlocks: ground.bob.blocks, diagnostics: payload.diagnostics() };
  };
  return { script, result };
}

/**
 * One pass with everything in the loop, in simulated time on in-process board
 * emulators sharing the bench's clock (createPayloadRig at RIG_BAUD, or `options.baud`),
 * the script run synchronously: the fast path. Deterministic for a seed.
 */
export function runMissionPass(options: MissionPassOptions = {}): MissionPassResult {
  const plan = planPass(options);
  const rig = createPayloadRig({ ...plan.rig, baud: options.baud });
  const pass = assemblePass(plan, options, rig, inProcessEnvironment(rig.boards), rig.boards.qsrc.emu);
  return pass.result(driveScript(rig.clock, pass.script));
}

/**
 * The same pass with the payload hosted on `bench` (hostPayload): any simulated-time
 * bench. On an all-in-process bench sharing its clock with the emulators it is
 * runMissionPass (same result); otherwise (lockstep hosts in-process, emulator
 * processes on ptys or TCP) the world reaches the boards over the board link
 * (boardLinkEnvironment) and the script waits bench time on the held SimClock, each
 * lockstep grant awaited, so every line kind of a seed gives the same pass.
 * `options.seed` defaults to the bench's; `options.baud` does not apply (the bench's lines are as they are).
 */
export async function runMissionPassOnBench(bench: Bench, options: MissionPassOptions = {}): Promise<MissionPassResult> {
  const clock = bench.clock;
  if (!(clock instanceof SimClock)) {
    throw new Error(`the mission pass needs simulated time: bench '${bench.config.name}' runs on the wall clock (its boards cannot be given the pass's orbit, beacon and link loss)`);
  }
  const plan = planPass({ ...options, seed: options.seed ?? bench.seed });
  const time = heldTime(bench);
  // The world's slice, batch and link-environment periods are counted on a grid of
  // bench time from 0; a bench opened by Bench.open stands a few ms in (identity checks).
  const gridMs = Math.ceil(clock.now() / SLICE_MS) * SLICE_MS;
  const shared = sharesClock(bench);
  if (shared) clock.runUntil(gridMs);
  else await time.advanceMs(gridMs - clock.now());
  const hosted = hostPayload(bench, plan.rig);
  const rig = { ...hosted, clock };
  // The world looks into the source only when it is an emulator on its own clock.
  const pass = assemblePass(plan, options, rig, benchEnvironment(bench), shared ? bench.board('qsrc').emulator : undefined);
  if (shared) return pass.result(driveScript(clock, pass.script));
  const held: HeldScriptClock = { now: () => clock.now(), runUntil: (tMs) => time.advanceMs(tMs - clock.now()), runUntilTrue: time.runUntilTrue };
  return pass.result(await driveScriptHeld(held, pass.script));
}

export { DEFAULT_LINK_ERRORS, DEFAULT_LOOP_RATE_HZ, DEFAULT_T1_MS, missionParams };
export type { MissionPassOptions, MissionPassResult, MissionProgress, MissionSummary };
