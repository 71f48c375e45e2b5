import { DICTIONARY, encodeEvent, encodeHousekeeping, encodeReport, eventDef, housekeepingDef, SEVERITY_SUBTYPE, type TmOptions } from '../protocols/dictionary/index.ts';
import { isProtocolError } from '../protocols/errors.ts';
import { SequenceCounter } from '../protocols/space-packet.ts';
import { APID_PAYLOAD } from '../protocols/dictionary/index.ts';
import type { PayloadClock } from './hal.ts';

/**
 * The payload's TM source: one packet sequence counter for APID_PAYLOAD, PUS-C
 * message-type counters per (service, subtype), ST05 event enable flags, and the
 * ST03 periodic reporting of each housekeeping structure on the payload clock.
 */
export class TmWriter {
  private readonly seq = new SequenceCounter();
  private readonly typeCounters = new Map<string, number>();
  private readonly disabledEvents = new Set<number>();
  private readonly listeners = new Set<(packet: Uint8Array) => void>();
  packetsSent = 0;
  /** TM the dictionary refused to encode (a firmware bug, never silent: tests assert zero). */
  encodeErrors: Array<{ name: string; message: string }> = [];

  constructor(
    private readonly clock: PayloadClock,
    private readonly epochOffsetS: number,
  ) {}

  onTm(listener: (packet: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  missionTimeS(): number {
    return this.epochOffsetS + this.clock.now() / 1000;
  }

  private opts(service: number, subtype: number): TmOptions {
    const key = `${service}:${subtype}`;
    const n = this.typeCounters.get(key) ?? 0;
    this.typeCounters.set(key, (n + 1) & 0xffff);
    return { seq: this.seq.take(APID_PAYLOAD), timeS: this.missionTimeS(), msgTypeCounter: n };
  }

  private send(packet: Uint8Array): void {
    this.packetsSent++;
    for (const l of this.listeners) l(packet);
  }

  report(name: string, fields: Record<string, unknown>): void {
    const def = DICTIONARY.reports.find((r) => r.name === name)!;
    this.send(encodeReport(name, fields, this.opts(def.service, def.subtype)));
  }

  hk(name: string, fields: Record<string, unknown>): void {
    this.send(encodeHousekeeping(name, fields, this.opts(3, 25)));
  }

  isEventEnabled(id: number): boolean {
    return !this.disabledEvents.has(id);
  }

  setEventEnabled(id: number, enabled: boolean): void {
    eventDef(id); // throws UNKNOWN_PACKET for an unknown id
    if (enabled) this.disabledEvents.delete(id);
    else this.disabledEvents.add(id);
  }

  /** Emits an event unless it is disabled; returns whether it went out. */
  event(name: string, fields: Record<string, unknown> = {}): boolean {
    const def = eventDef(name);
    if (this.disabledEvents.has(def.id)) return false;
    let packet: Uint8Array;
    try {
      // Encode before taking a sequence count, so a refused packet leaves no gap.
      encodeEvent(name, fields, { seq: 0, timeS: 0 });
      packet = encodeEvent(name, fields, this.opts(5, SEVERITY_SUBTYPE[def.severity]));
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.encodeErrors.push({ name, message: e.message });
      return false;
    }
    this.send(packet);
    return true;
  }
}

export type HkProvider = () => Record<string, unknown>;

interface HkSlot {
  sid: number;
  name: string;
  enabled: boolean;
  intervalMs: number;
  cancel: (() => void) | null;
}

/** ST03: periodic housekeeping per SID, each on its own interval on the payload clock. */
export class HousekeepingService {
  private readonly slots = new Map<number, HkSlot>();

  constructor(
    private readonly clock: PayloadClock,
    private readonly tm: TmWriter,
    private readonly providers: ReadonlyMap<number, HkProvider>,
    enabledAtStart: readonly number[],
  ) {
    for (const h of DICTIONARY.housekeeping) {
      this.slots.set(h.sid, { sid: h.sid, name: h.name, enabled: false, intervalMs: h.intervalMs, cancel: null });
    }
    for (const sid of enabledAtStart) if (providers.has(sid)) this.setEnabled(sid, true);
  }

  /** Throws UNKNOWN_PACKET for an unknown SID. */
  slot(sid: number): HkSlot {
    housekeepingDef(sid);
    return this.slots.get(sid)!;
  }

  hasProvider(sid: number): boolean {
    return this.providers.has(sid);
  }

  private schedule(s: HkSlot): void {
    s.cancel?.();
    let handle: unknown = null;
    const tick = () => {
      this.oneShot(s.sid);
      handle = this.clock.setTimeout(tick, s.intervalMs);
    };
    handle = this.clock.setTimeout(tick, s.intervalMs);
    s.cancel = () => this.clock.clearTimeout(handle);
  }

  setEnabled(sid: number, enabled: boolean): void {
    const s = this.slot(sid);
    s.enabled = enabled;
    if (enabled) this.schedule(s);
    else {
      s.cancel?.();
      s.cancel = null;
    }
  }

  setInterval(sid: number, intervalMs: number): void {
    const s = this.slot(sid);
    s.intervalMs = intervalMs;
    if (s.enabled) this.schedule(s);
  }

  oneShot(sid: number): void {
    const s = this.slot(sid);
    const p = this.providers.get(sid);
    if (p) this.tm.hk(s.name, p());
  }

  stop(): void {
    for (const s of this.slots.values()) s.cancel?.();
  }
}
