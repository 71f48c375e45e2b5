import { crc32c } from '../protocols/crc.ts';
import {
  APID_PAYLOAD,
  DICTIONARY,
  identifyCommand,
  MEMORY_IDS,
  parameterDef,
  type CommandArgs,
  type CommandName,
  type FailureCode,
  type FieldValues,
  type PayloadMode,
} from '../protocols/dictionary/index.ts';
import { isProtocolError, ProtocolError } from '../protocols/errors.ts';
import { decodePus, type PusTc } from '../protocols/pus.ts';
import { packetLength, PRIMARY_HEADER_BYTES, readPrimaryHeader } from '../protocols/space-packet.ts';
import { portOf, type BankName, type PayloadPorts } from './hal.ts';
import { explainRefusal, modeOf, faultNames, type ModeEvent, type ModeSnapshot, type PassPlan } from './modes.ts';
import { checkBank, type Params } from './params.ts';
import { DECOY_PARAMS, decoyParamsViolation } from '../qkd/decoy-conditions.ts';
import type { HousekeepingService, TmWriter } from './telemetry.ts';

/**
 * PUS telecommand handling with ST01 verification. Every TC gets an acceptance
 * report (success when its ack flag asks, failure always), then start and completion
 * reports. A TC that fails acceptance or start changes nothing.
 */

export interface TcTarget {
  snapshot(): ModeSnapshot;
  send(e: ModeEvent): void;
  tm: TmWriter;
  hk: HousekeepingService;
  ports: PayloadPorts;
  params(): Params;
  /** Whether the source is emitting or calibrating (parameters of the source are then frozen). */
  sourceBusy(): boolean;
}

export class Refusal extends Error {
  constructor(
    readonly code: FailureCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

const refuse = (code: FailureCode, detail: string): never => {
  throw new Refusal(code, detail);
};

type RequestId = {
  tcVersion: number;
  tcType: number;
  tcSecHeader: number;
  tcApid: number;
  tcSeqFlags: number;
  tcSeq: number;
};

const NO_REQUEST: RequestId = { tcVersion: 0, tcType: 1, tcSecHeader: 1, tcApid: 0, tcSeqFlags: 3, tcSeq: 0 };

/** Parameters that define the pulse schedule: frozen while the source runs, since distillation depends on exact pulse indices. */
const SOURCE_PARAMS = new Set(['SOURCE_REP_RATE_MHZ', 'MU_SIGNAL', 'MU_DECOY', 'MU_VACUUM', 'P_SIGNAL', 'P_DECOY', 'P_VACUUM', 'P_KEY_BASIS', 'PULSES_PER_FRAME']);

const DECOY_KEYS = new Set([...DECOY_PARAMS.mu, ...DECOY_PARAMS.p]);

type MemoryId = (typeof MEMORY_IDS)[number];
const MEMORY_BANK: Record<MemoryId, BankName> = { CONFIG_A: 'A', CONFIG_B: 'B' };

function failureFor(e: unknown): { code: FailureCode; detail: string } {
  if (e instanceof Refusal) return { code: e.code, detail: e.detail };
  if (isProtocolError(e)) {
    const field = (e.details as { field?: string }).field;
    const code: FailureCode =
      e.code === 'CRC_MISMATCH'
        ? 'BAD_CHECKSUM'
        : e.code === 'UNKNOWN_PACKET'
          ? 'UNKNOWN_COMMAND'
          : e.code === 'FIELD_OUT_OF_RANGE'
            ? field === 'paramId'
              ? 'UNKNOWN_PARAMETER'
              : 'FIELD_OUT_OF_RANGE'
            : 'MALFORMED';
    return { code, detail: e.message };
  }
  return { code: 'EXECUTION_FAILED', detail: e instanceof Error ? e.message : String(e) };
}

export class TcHandler {
  accepted = 0;
  rejected = 0;

  constructor(private readonly t: TcTarget) {}

  /** Handles a stream of concatenated TC packets; a packet that cannot be delimited ends the stream. */
  handleStream(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      if (bytes.length - off < PRIMARY_HEADER_BYTES) {
        this.acceptFail(NO_REQUEST, 'MALFORMED', `${bytes.length - off} trailing octets, shorter than a packet header`);
        return;
      }
      let len: number;
      try {
        len = packetLength(readPrimaryHeader(bytes, off));
      } catch (e) {
        const f = failureFor(e);
        this.acceptFail(NO_REQUEST, 'MALFORMED', f.detail);
        return;
      }
      this.handlePacket(bytes.subarray(off, Math.min(bytes.length, off + len)));
      off += len;
    }
  }

  private rid(bytes: Uint8Array): RequestId {
    try {
      const h = readPrimaryHeader(bytes, 0);
      return { tcVersion: h.version, tcType: h.type === 'TC' ? 1 : 0, tcSecHeader: h.secondaryHeader ? 1 : 0, tcApid: h.apid, tcSeqFlags: h.sequenceFlags, tcSeq: h.seq };
    } catch {
      return NO_REQUEST;
    }
  }

  private acceptFail(rid: RequestId, code: FailureCode, detail: string): void {
    this.rejected++;
    this.t.tm.report('VERIFY_ACCEPT_FAIL', { ...rid, failureCode: code, detail: detail.slice(0, 160) });
  }

  handlePacket(bytes: Uint8Array): void {
    const rid = this.rid(bytes);
    let tc: PusTc;
    let name: string;
    let args: FieldValues;
    try {
      const { packet } = decodePus(bytes, 0);
      if (packet.type !== 'TC') refuse('MALFORMED', 'packet type is TM, expected TC');
      tc = packet as PusTc;
      if (tc.apid !== APID_PAYLOAD) refuse('MALFORMED', `APID 0x${tc.apid.toString(16)} is not the payload's 0x${APID_PAYLOAD.toString(16)}`);
      const id = identifyCommand(tc);
      name = id.def.name;
      args = id.args;
    } catch (e) {
      const f = failureFor(e);
      this.acceptFail(rid, f.code, f.detail);
      return;
    }
    this.accepted++;
    if (tc.ack.acceptance) this.t.tm.report('VERIFY_ACCEPT_OK', rid);
    let exec: () => void;
    try {
      exec = this.prepare(name, args);
    } catch (e) {
      const f = failureFor(e);
      this.t.tm.report('VERIFY_START_FAIL', { ...rid, failureCode: f.code, detail: f.detail.slice(0, 160) });
      return;
    }
    if (tc.ack.start) this.t.tm.report('VERIFY_START_OK', rid);
    try {
      exec();
    } catch (e) {
      const f = failureFor(e);
      this.t.tm.report('VERIFY_COMPLETE_FAIL', { ...rid, failureCode: f.code, detail: f.detail.slice(0, 160) });
      return;
    }
    if (tc.ack.completion) this.t.tm.report('VERIFY_COMPLETE_OK', rid);
  }

  /** Checks that a command may start now (throws Refusal) and returns its execution. */
  private prepare(name: string, args: FieldValues): () => void {
    if (!isCommandName(name)) throw new ProtocolError('UNKNOWN_PACKET', `no handler for ${name}`);
    const snap = this.t.snapshot();
    // The dictionary decoded and validated the arguments against this command's fields.
    return (TC_HANDLERS[name] as Handler<CommandName>)(args as CommandArgs<CommandName>, { t: this.t, snap, mode: modeOf(snap) });
  }
}

/** What a handler sees: the payload, and the mode machine's snapshot when the TC arrived. */
export interface HandlerContext {
  t: TcTarget;
  snap: ModeSnapshot;
  mode: PayloadMode;
}

/**
 * A telecommand handler: checks that the command may start now (throws Refusal) and
 * returns its execution. Arguments are typed from the command's dictionary fields.
 */
export type Handler<K extends CommandName> = (args: CommandArgs<K>, cx: HandlerContext) => () => void;

/** One handler per dictionary command: a command without a handler does not compile. */
export type TcHandlerTable = { [K in CommandName]: Handler<K> };

const COMMAND_NAMES: ReadonlySet<string> = new Set(DICTIONARY.commands.map((c) => c.name));
const isCommandName = (name: string): name is CommandName => COMMAND_NAMES.has(name);

/** Execution of a machine event the snapshot can take now, else a refusal. */
function needEvent(cx: HandlerContext, e: ModeEvent, code: FailureCode, why: string): () => void {
  if (!cx.snap.can(e)) refuse(code, why);
  return () => cx.t.send(e);
}

/** ST03: refuses an unknown SID, and one without a data source where the command needs one. */
function checkSid(t: TcTarget, sid: number, needsProvider: boolean): void {
  if (!DICTIONARY.housekeeping.some((h) => h.sid === sid)) refuse('UNKNOWN_SID', `no housekeeping structure with SID ${sid}`);
  if (needsProvider && !t.hk.hasProvider(sid)) refuse('EXECUTION_FAILED', `SID ${sid} has no data source bound in this payload`);
}

function eventHandler(enabled: boolean): Handler<'ENABLE_EVENT' | 'DISABLE_EVENT'> {
  return ({ eventId }, { t }) => {
    if (!DICTIONARY.events.some((e) => e.id === eventId)) refuse('UNKNOWN_EVENT', `no event with id ${eventId}`);
    return () => t.tm.setEventEnabled(eventId, enabled);
  };
}

/** ST06: the bank a memory id names and a range check against the bank size. */
function memoryRange(t: TcTarget, memoryId: MemoryId, offset: number, length: number): BankName {
  const size = t.ports.config.bankSizeBytes();
  if (offset + length > size) refuse('MEMORY_ERROR', `${memoryId} range ${offset}+${length} exceeds the bank's ${size} octets`);
  return MEMORY_BANK[memoryId];
}

export const TC_HANDLERS: TcHandlerTable = {
  SET_MODE: ({ mode: to }, { t, snap, mode }) => {
    const e: ModeEvent = { type: 'SET_MODE', mode: to };
    if (to === mode || !snap.can(e)) {
      const { code, detail } = explainRefusal(snap, to);
      refuse(code, detail);
    }
    return () => t.send(e);
  },
  UPLOAD_PASS_PLAN: (plan: PassPlan, cx) => {
    if (plan.endS <= plan.startS) refuse('FIELD_OUT_OF_RANGE', `field 'endS': ${plan.endS} s is not after startS ${plan.startS} s`);
    const { station, latDeg, lonDeg, altM, startS, endS, minElevationDeg, tleLine1, tleLine2 } = plan;
    const copy: PassPlan = { station, latDeg, lonDeg, altM, startS, endS, minElevationDeg, tleLine1, tleLine2 };
    return needEvent(cx, { type: 'PLAN_UPLOADED', plan: copy }, 'MODE_NOT_ALLOWED', `pass plans are accepted in STANDBY or SAFE, not ${cx.mode}`);
  },
  ABORT_PASS: (_, cx) => needEvent(cx, { type: 'ABORT_PASS' }, 'MODE_NOT_ALLOWED', `no pass in progress (mode ${cx.mode})`),
  CLEAR_FAULTS: (_, { t, mode }) => {
    if (mode === 'OFF') refuse('MODE_NOT_ALLOWED', 'payload is OFF');
    return () => {
      t.send({ type: 'CLEAR_FAULTS' });
      const left = t.snapshot().context.faultsLatched;
      if (left !== 0) refuse('FAULT_ACTIVE', `cause still present: ${faultNames(left).join(',')}`);
    };
  },
  SELECT_CONFIG_BANK: ({ bank }, { t }) => {
    const c = checkBank(t.ports.config, bank);
    if (!c.ok) refuse('MEMORY_ERROR', `bank ${bank} holds no valid image: ${c.reason}`);
    return () => t.ports.config.selectBank(bank);
  },
  RESET_BOARD: ({ board }, { t, mode }) => {
    if (mode === 'OFF') refuse('MODE_NOT_ALLOWED', 'boards are unpowered in OFF');
    return () => portOf(t.ports, board).reset();
  },
  CALIBRATE_SOURCE: (_, cx) => needEvent(cx, { type: 'RECALIBRATE' }, 'MODE_NOT_ALLOWED', `calibration runs in QKD with the source running, not in ${cx.mode}`),
  ENABLE_HK: ({ sid }, { t }) => {
    checkSid(t, sid, true);
    return () => t.hk.setEnabled(sid, true);
  },
  DISABLE_HK: ({ sid }, { t }) => {
    checkSid(t, sid, false);
    return () => t.hk.setEnabled(sid, false);
  },
  HK_ONE_SHOT: ({ sid }, { t }) => {
    checkSid(t, sid, true);
    return () => t.hk.oneShot(sid);
  },
  SET_HK_INTERVAL: ({ sid, intervalMs }, { t }) => {
    checkSid(t, sid, true);
    return () => t.hk.setInterval(sid, intervalMs);
  },
  ENABLE_EVENT: eventHandler(true),
  DISABLE_EVENT: eventHandler(false),
  LOAD_MEMORY: ({ memoryId, offset, data }, { t }) => {
    const bank = memoryRange(t, memoryId, offset, data.length);
    // A/B discipline: write the inactive bank, check it, then SELECT_CONFIG_BANK.
    if (bank === t.ports.config.activeBank()) refuse('MEMORY_ERROR', `bank ${bank} is the active bank: load the inactive bank, check it, then SELECT_CONFIG_BANK`);
    return () => t.ports.config.writeBank(bank, offset, data);
  },
  DUMP_MEMORY: ({ memoryId, offset, length }, { t }) => {
    const bank = memoryRange(t, memoryId, offset, length);
    return () => t.tm.report('MEMORY_DUMP', { memoryId, offset, data: t.ports.config.readBank(bank).slice(offset, offset + length) });
  },
  CHECK_MEMORY: ({ memoryId, offset, length }, { t }) => {
    const bank = memoryRange(t, memoryId, offset, length);
    return () => t.tm.report('MEMORY_CHECK', { memoryId, offset, length, crc32c: crc32c(t.ports.config.readBank(bank), offset, offset + length) });
  },
  PING: (_, { t }) => () => t.tm.report('PONG', {}),
  GET_PARAM: ({ paramId }, { t }) => {
    const p = parameterDef(paramId);
    return () => t.tm.report('PARAM_VALUE', { paramId: p.id, value: t.params()[p.name] });
  },
  SET_PARAM: ({ paramId, value }, { t }) => {
    const p = parameterDef(paramId);
    if (SOURCE_PARAMS.has(p.name) && t.sourceBusy()) refuse('MODE_NOT_ALLOWED', `${p.name} is frozen while the source runs (pulse accounting)`);
    const next = { ...t.params(), [p.name]: value };
    // The key-rate bound is void outside the decoy-state conditions: the active set never leaves them.
    const decoy = DECOY_KEYS.has(p.name) ? decoyParamsViolation(next) : null;
    if (decoy) refuse('FIELD_OUT_OF_RANGE', `${p.name}=${value} breaks decoy conditions: ${decoy.message}`);
    return () => t.send({ type: 'PARAMS_CHANGED', params: next });
  },
};
