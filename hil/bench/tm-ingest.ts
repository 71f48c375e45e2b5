import { checkLimits, decodePacket, DICTIONARY } from '../../protocols/dictionary/index.ts';
import type { LimitMonitor } from './limits.ts';
import type { TelemetryStore } from './store.ts';

/**
 * One payload TM packet into a telemetry store at bench time `t`: housekeeping fields
 * become items (`PAYLOAD_HK.mode`), each field with limits is evaluated on arrival
 * (violation or back to green), events and reports become event records. Used by the
 * bench for live TM and by suites that replay TM recorded elsewhere (mission passes).
 */
export function ingestPayloadTm(store: TelemetryStore, limits: LimitMonitor, t: number, packet: Uint8Array): void {
  let d;
  try {
    d = decodePacket(packet);
  } catch (e) {
    store.addEvent({ t, name: 'bench:tm-rejected', fields: { error: (e as Error).message } });
    return;
  }
  if (d.kind === 'housekeeping' && d.name && d.fields) {
    for (const [k, v] of Object.entries(d.fields)) if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') store.add(`${d.name}.${k}`, t, v);
    const violations = checkLimits(d.name, d.fields);
    const def = DICTIONARY.housekeeping.find((h) => h.name === d.name);
    for (const f of def?.fields ?? []) {
      const v = d.fields[f.name];
      if (!f.limits || typeof v !== 'number') continue;
      const bad = violations.find((x) => x.field === f.name);
      if (bad) limits.record(`${d.name}.${f.name}`, t, v, bad.level, `${bad.level} ${bad.bound} ${bad.limit}`);
      else limits.record(`${d.name}.${f.name}`, t, v, 'green', 'normal');
    }
  } else if ((d.kind === 'event' || d.kind === 'report') && d.name) {
    store.addEvent({ t, name: d.name, severity: d.kind === 'event' ? DICTIONARY.events.find((e) => e.name === d.name)?.severity : undefined, fields: { ...(d.fields ?? {}) } });
  } else {
    store.addEvent({ t, name: 'bench:tm-unknown', fields: { service: d.pus.service, subtype: d.pus.subtype } });
  }
}
