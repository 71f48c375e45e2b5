import { decodeConfigImage } from '../protocols/config-image.ts';
import { DICTIONARY, parameterDef, validateParameterValue } from '../protocols/dictionary/index.ts';
import { isProtocolError } from '../protocols/errors.ts';
import type { BankName, ConfigStorePort } from './hal.ts';

/** On-board parameter values by dictionary name (engineering units). */
export type Params = Readonly<Record<string, number>>;

/** The safe defaults: every dictionary parameter at its default. */
export function defaultParams(): Params {
  return Object.fromEntries(DICTIONARY.parameters.map((p) => [p.name, p.default]));
}

/**
 * Applies an image's parameter records over the defaults. Records for ids the
 * dictionary does not know, or values out of range, are refused (the whole image is
 * then unusable: a half-applied configuration is worse than the other bank).
 */
export function paramsFromRecords(records: ReadonlyMap<number, number>): Params {
  const out: Record<string, number> = { ...defaultParams() };
  for (const [id, value] of records) {
    const def = parameterDef(id);
    validateParameterValue(def, value);
    out[def.name] = value;
  }
  return out;
}

export type BankCheck = { ok: true; generation: number; params: Params } | { ok: false; reason: string };

/** Decodes and checks one bank (magic, version, length, CRC-32C, record ids and ranges). */
export function checkBank(store: ConfigStorePort, bank: BankName): BankCheck {
  try {
    const img = decodeConfigImage(store.readBank(bank));
    return { ok: true, generation: img.generation, params: paramsFromRecords(img.params) };
  } catch (e) {
    if (isProtocolError(e)) return { ok: false, reason: e.message };
    throw e;
  }
}

export type ConfigLoadStep = { kind: 'bankFailed'; bank: BankName; reason: string } | { kind: 'loaded'; bank: BankName; generation: number; params: Params } | { kind: 'defaults' };

/** BOOT's configuration policy: the active bank, then the other, then the safe defaults. */
export function loadConfigSteps(store: ConfigStorePort): ConfigLoadStep[] {
  const first = store.activeBank();
  const order: BankName[] = [first, first === 'A' ? 'B' : 'A'];
  const steps: ConfigLoadStep[] = [];
  for (const bank of order) {
    const c = checkBank(store, bank);
    if (c.ok) {
      steps.push({ kind: 'loaded', bank, generation: c.generation, params: c.params });
      return steps;
    }
    steps.push({ kind: 'bankFailed', bank, reason: c.reason });
  }
  steps.push({ kind: 'defaults' });
  return steps;
}
