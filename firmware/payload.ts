import { createActor, type Actor } from 'xstate';
import { housekeepingDef, type PayloadMode } from '../protocols/dictionary/index.ts';
import { beaconSearchActor, slewActor } from './acquisition.ts';
import type { ActorDeps, SourceFrameRecord } from './actor-kit.ts';
import { bootActor, passEndActor, passStartActor, safingActor } from './boot.ts';
import { fdirActor } from './fdir.ts';
import { fineLoopActor } from './fine-pointing.ts';
import type { PayloadClock, PayloadPorts } from './hal.ts';
import { createModeMachine, modeOf, type ModeEvent, type ModeMachine, type ModeSnapshot } from './modes.ts';
import { defaultParams, type Params } from './params.ts';
import { calibrationActor, frameSchedulerActor, tempControlActor } from './source.ts';
import { createReadings, statusOf, TrackingStats, type PayloadStatus } from './status.ts';
import { TcHandler } from './tc-handler.ts';
import { HousekeepingService, TmWriter, type HkProvider } from './telemetry.ts';

/**
 * The payload controller: the mode manager actor with its hardware actors bound to
 * the HAL ports, the TC handler, and the TM source. PUS TC bytes in, PUS TM packets
 * out; time only from the clock it is given.
 */

export interface PayloadOptions {
  ports: PayloadPorts;
  /** The host's clock: the bench's SimClock (simulated time, the one event queue) or the wall clock. */
  clock: PayloadClock;
  /** Seeds what the firmware varies deterministically (acquisition scan phase). */
  seed?: number;
  /** Mission time (s since the PUS epoch) at payload-clock 0. */
  epochOffsetS?: number;
  /** Extra housekeeping sources by SID (QKD_HK, LINK_HK are bound by the QKD/link parts). */
  hkProviders?: ReadonlyMap<number, HkProvider>;
  /** SIDs reported periodically from the start (default: PAYLOAD_HK). */
  hkEnabled?: readonly number[];
}

export interface Payload {
  readonly clock: PayloadClock;
  /** The mode machine's facts (derived from its snapshot, read now) and the actors' readings. */
  readonly status: Readonly<PayloadStatus>;
  /** Power-on of the controller: OFF -> BOOT. */
  powerOn(): void;
  /** One or more concatenated PUS TC packets. */
  sendTc(bytes: Uint8Array): void;
  /** Every TM packet the payload emits, in order. Returns the unsubscribe function. */
  onTm(listener: (packet: Uint8Array) => void): () => void;
  /** Every accounted source frame, in order (the same content as the SOURCE_FRAME events, plus start time). */
  onSourceFrame(listener: (frame: SourceFrameRecord) => void): () => void;
  mode(): PayloadMode;
  snapshot(): ModeSnapshot;
  params(): Params;
  /** Firmware self-checks: TM the dictionary refused to encode (should stay empty). */
  diagnostics(): { tmEncodeErrors: ReadonlyArray<{ name: string; message: string }>; tmPackets: number };
  stop(): void;
}

/** The mode machine with every hardware actor bound to the ports. */
export function bindModeMachine(deps: ActorDeps): ModeMachine {
  return createModeMachine().provide({
    actors: {
      boot: bootActor(deps),
      passStartTimer: passStartActor(deps),
      passEndTimer: passEndActor(deps),
      slew: slewActor(deps),
      beaconSearch: beaconSearchActor(deps),
      fineLoop: fineLoopActor(deps),
      tempControl: tempControlActor(deps),
      calibration: calibrationActor(deps),
      frameScheduler: frameSchedulerActor(deps),
      safing: safingActor(deps),
      fdir: fdirActor(deps),
    },
  }) as ModeMachine;
}

export function createPayload(opts: PayloadOptions): Payload {
  const { clock } = opts;
  const tm = new TmWriter(clock, opts.epochOffsetS ?? 0);
  const readings = createReadings();
  const tracking = new TrackingStats();
  const { ports } = opts;
  let actor: Actor<ModeMachine> | null = null;
  const params = (): Params => actor?.getSnapshot().context.params ?? defaultParams();
  const frameListeners = new Set<(f: SourceFrameRecord) => void>();
  const deps: ActorDeps = {
    ports,
    clock,
    status: () => statusOf(actor!.getSnapshot()),
    readings,
    tracking,
    event: (name, fields) => void tm.event(name, fields ?? {}),
    missionTimeS: () => tm.missionTimeS(),
    seed: opts.seed ?? 0,
    params,
    frameAccounted: (f) => {
      for (const l of frameListeners) l(f);
    },
  };
  const machine = bindModeMachine(deps);
  actor = createActor(machine, { clock, input: {} });
  actor.on('tm.event', (e) => void tm.event(e.name, e.fields));

  let tcHandler: TcHandler | null = null;
  const payloadHk: HkProvider = () => {
    const s = actor!.getSnapshot();
    const c = s.context;
    const st = statusOf(s);
    const stats = tracking.take();
    return {
      mode: st.mode,
      activeBank: ports.config.activeBank(),
      configGeneration: c.configGeneration,
      uptimeS: st.mode === 'OFF' ? 0 : Math.floor((clock.now() - readings.bootMs) / 1000),
      tcAccepted: Math.min(tcHandler?.accepted ?? 0, 0xffff),
      tcRejected: Math.min(tcHandler?.rejected ?? 0, 0xffff),
      faultsActive: c.faultsLatched,
      laserTempC: Math.max(-327, Math.min(327, ports.source.laserTempC())),
      pointingErrorMeanUrad: stats.meanUrad,
      pointingErrorRmsUrad: stats.rmsUrad,
      pointingErrorMaxUrad: stats.maxUrad,
      fsmXUrad: readings.fsmXUrad,
      fsmYUrad: readings.fsmYUrad,
      fineLock: st.fineLock,
      emitting: st.emitting,
      frameNumber: Math.max(0, readings.frameNumber - 1),
      pulsesSent: readings.pulsesSent,
      elevationDeg: readings.elevationDeg,
    };
  };
  const providers = new Map<number, HkProvider>([[housekeepingDef('PAYLOAD_HK').sid, payloadHk], ...(opts.hkProviders ?? [])]);
  const hk = new HousekeepingService(clock, tm, providers, opts.hkEnabled ?? [housekeepingDef('PAYLOAD_HK').sid]);
  tcHandler = new TcHandler({
    snapshot: () => actor!.getSnapshot(),
    send: (e: ModeEvent) => actor!.send(e),
    tm,
    hk,
    ports,
    params,
    sourceBusy: () => {
      const s = actor!.getSnapshot();
      return s.matches({ ON: { PASS: { ENGAGED: 'QKD' } } }) && !s.matches({ ON: { PASS: { ENGAGED: { QKD: { source: 'stabilising' } } } } });
    },
  });
  actor.start();

  return {
    clock,
    get status(): PayloadStatus {
      return { ...statusOf(actor!.getSnapshot()), ...readings };
    },
    powerOn: () => actor!.send({ type: 'POWER_ON' }),
    sendTc: (bytes) => tcHandler!.handleStream(bytes),
    onTm: (l) => tm.onTm(l),
    onSourceFrame: (l) => {
      frameListeners.add(l);
      return () => frameListeners.delete(l);
    },
    mode: () => modeOf(actor!.getSnapshot()),
    snapshot: () => actor!.getSnapshot(),
    params,
    diagnostics: () => ({ tmEncodeErrors: tm.encodeErrors, tmPackets: tm.packetsSent }),
    stop: () => {
      hk.stop();
      actor!.stop();
    },
  };
}
