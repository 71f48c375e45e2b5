import { crc32c } from '../protocols/crc.ts';
import { DICTIONARY, identifyCommand, parameterDef, APID_PAYLOAD, type FailureCode, type FieldValues, type PayloadMode, type BoardName } from '../protocols/dictionary/index.ts';
import { isProtocolError, ProtocolError } from '../protocols/errors.ts';
import { decodePus, type PusTc } from '../protocols/pus.ts';
import { packetLength, PRIMARY_HEADER_BYTES, readPrimaryHeader } from '../protocols/space-packet.ts';
import { portOf, type BankName, type PayloadPorts } from './hal.ts';
import { explainRefusal, modeOf, faultNames, type ModeEvent, type ModeSnapshot, type PassPlan } from './modes.ts';
import { checkBank, type Params } from './params.ts';
import { DECOY_PARAMS, decoyParamsViolation } from './qkd/decoy-conditions.ts';
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

const MEMORY_BANK: Record<string, BankName> = { CONFIG_A: 'A', CONFIG_B: 'B' };

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
  private prepare(name: string, a: FieldValues): () => void {
    const t = this.t;
    const snap = t.snapshot();
    const mode = modeOf(snap);
    const needEvent = (e: ModeEvent, code: FailureCode, why: string) => {
      if (!snap.can(e)) refuse(code, why);
      return () => t.send(e);
    };
    switch (name) {
      case 'SET_MODE': {
        const to = a.mode as PayloadMode;
        const e: ModeEvent = { type: 'SET_MODE', mode: to };
        if (to === mode || !snap.can(e)) {
          const { code, detail } = explainRefusal(snap, to);
          refuse(code, detail);
        }
        return () => t.send(e);
      }
      case 'UPLOAD_PASS_PLAN': {
        const plan: PassPlan = {
          station: a.station as string,
          latDeg: a.latDeg as number,
          lonDeg: a.lonDeg as number,
          altM: a.altM as number,
          startS: a.startS as number,
          endS: a.endS as number,
          minElevationDeg: a.minElevationDeg as number,
          tleLine1: a.tleLine1 as string,
          tleLine2: a.tleLine2 as string,
        };
        if (plan.endS <= plan.startS) refuse('FIELD_OUT_OF_RANGE', `field 'endS': ${plan.endS} s is not after startS ${plan.startS} s`);
        return needEvent({ type: 'PLAN_UPLOADED', plan }, 'MODE_NOT_ALLOWED', `pass plans are accepted in STANDBY or SAFE, not ${mode}`);
      }
      case 'ABORT_PASS':
        return needEvent({ type: 'ABORT_PASS' }, 'MODE_NOT_ALLOWED', `no pass in progress (mode ${mode})`);
      case 'CLEAR_FAULTS':
        if (mode === 'OFF') refuse('MODE_NOT_ALLOWED', 'payload is OFF');
        return () => {
          t.send({ type: 'CLEAR_FAULTS' });
          const left = t.snapshot().context.faultsLatched;
          if (left !== 0) refuse('FAULT_ACTIVE', `cause still present: ${faultNames(left).join(',')}`);
        };
      case 'SELECT_CONFIG_BANK': {
        const bank = a.bank as BankName;
        const c = checkBank(t.ports.config, bank);
        if (!c.ok) refuse('MEMORY_ERROR', `bank ${bank} holds no valid image: ${c.reason}`);
        return () => t.ports.config.selectBank(bank);
      }
      case 'RESET_BOARD':
        if (mode === 'OFF') refuse('MODE_NOT_ALLOWED', 'boards are unpowered in OFF');
        return () => portOf(t.ports, a.board as BoardName).reset();
      case 'CALIBRATE_SOURCE':
        return needEvent({ type: 'RECALIBRATE' }, 'MODE_NOT_ALLOWED', `calibration runs in QKD with the source running, not in ${mode}`);
      case 'ENABLE_HK':
      case 'DISABLE_HK':
      case 'HK_ONE_SHOT':
      case 'SET_HK_INTERVAL': {
        const sid = a.sid as number;
        if (!DICTIONARY.housekeeping.some((h) => h.sid === sid)) refuse('UNKNOWN_SID', `no housekeeping structure with SID ${sid}`);
        if (name !== 'DISABLE_HK' && !t.hk.hasProvider(sid)) refuse('EXECUTION_FAILED', `SID ${sid} has no data source bound in this payload`);
        if (name === 'ENABLE_HK') return () => t.hk.setEnabled(sid, true);
        if (name === 'DISABLE_HK') return () => t.hk.setEnabled(sid, false);
        if (name === 'HK_ONE_SHOT') return () => t.hk.oneShot(sid);
        return () => t.hk.setInterval(sid, a.intervalMs as number);
      }
      case 'ENABLE_EVENT':
      case 'DISABLE_EVENT': {
        const id = a.eventId as number;
        if (!DICTIONARY.events.some((e) => e.id === id)) refuse('UNKNOWN_EVENT', `no event with id ${id}`);
        return () => t.tm.setEventEnabled(id, name === 'ENABLE_EVENT');
      }
      case 'LOAD_MEMORY':
      case 'DUMP_MEMORY':
      case 'CHECK_MEMORY': {
        const bank = MEMORY_BANK[a.memoryId as string];
        const offset = a.offset as number;
        const length = name === 'LOAD_MEMORY' ? (a.data as Uint8Array).length : (a.length as number);
        const size = t.ports.config.bankSizeBytes();
        if (offset + length > size) refuse('MEMORY_ERROR', `${a.memoryId} range ${offset}+${length} exceeds the bank's ${size} octets`);
        if (name === 'LOAD_MEMORY') {
          // A/B discipline: write the inactive bank, check it, then SELECT_CONFIG_BANK.
          if (bank === t.ports.config.activeBank()) {
            refuse('MEMORY_ERROR', `bank ${bank} is the active bank: load the inactive bank, check it, then SELECT_CONFIG_BANK`);
          }
          return () => t.ports.config.writeBank(bank, offset, a.data as Uint8Array);
        }
        if (name === 'DUMP_MEMORY') {
          return () => t.tm.report('MEMORY_DUMP', { memoryId: a.memoryId, offset, data: t.ports.config.readBank(bank).slice(offset, offset + length) });
        }
        return () => {
          const crc = crc32c(t.ports.config.readBank(bank), offset, offset + length);
          t.tm.report('MEMORY_CHECK', { memoryId: a.memoryId, offset, length, crc32c: crc });
        };
      }
      case 'PING':
        return () => t.tm.report('PONG', {});
      case 'GET_PARAM': {
        const p = parameterDef(a.paramId as number);
        return () => t.tm.report('PARAM_VALUE', { paramId: p.id, value: t.params()[p.name] });
      }
      case 'SET_PARAM': {
        const p = parameterDef(a.paramId as number);
        if (SOURCE_PARAMS.has(p.name) && t.sourceBusy()) refuse('MODE_NOT_ALLOWED', `${p.name} is frozen while the source runs (pulse accounting)`);
        const next = { ...t.params(), [p.name]: a.value as number };
        // The key-rate bound is void outside the decoy-state conditions: the active set never leaves them.
        const decoy = DECOY_KEYS.has(p.name) ? decoyParamsViolation(next) : null;
        if (decoy) refuse('FIELD_OUT_OF_RANGE', `${p.name}=${a.value as number} breaks decoy conditions: ${decoy.message}`);
        return () => t.send({ type: 'PARAMS_CHANGED', params: next });
      }
      default:
        throw new ProtocolError('UNKNOWN_PACKET', `no handler for ${name}`);
    }
  }
}
