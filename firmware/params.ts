import { decodeConfigImage, selectBootImage } from '../protocols/config-image.ts';
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

const BANKS: readonly BankName[] = ['A', 'B'];

export type ConfigLoadStep = { kind: 'bankFailed'; bank: BankName; reason: string } | { kind: 'loaded'; bank: BankName; generation: number; params: Params } | { kind: 'defaults' };

/**
 * BOOT's configuration policy: the active bank, then the other, then the safe
 * defaults — the one rule of protocols/config-image.ts (`selectBootImage`), with the
 * dictionary's record ids and ranges as this board's acceptance check.
 */
export function loadConfigSteps(store: ConfigStorePort): ConfigLoadStep[] {
  const accepted = new Map<object, Params>();
  const accept = (image: object & { params: ReadonlyMap<number, number> }): string | null => {
    try {
      accepted.set(image, paramsFromRecords(image.params));
      return null;
    } catch (e) {
      if (isProtocolError(e)) return e.message;
      throw e;
    }
  };
  const active = store.activeBank();
  const sel = selectBootImage(store.readBank('A'), store.readBank('B'), BANKS.indexOf(active), { accept });
  const other: BankName = active === 'A' ? 'B' : 'A';
  const steps: ConfigLoadStep[] = [];
  for (const bank of [active, other]) {
    const view = sel.banks[BANKS.indexOf(bank)];
    if (sel.bank !== null && BANKS[sel.bank] === bank) {
      steps.push({ kind: 'loaded', bank, generation: sel.header!.generation, params: accepted.get(sel.image!)! });
      return steps;
    }
    steps.push({ kind: 'bankFailed', bank, reason: view.ok ? 'not selected' : view.reason });
  }
  steps.push({ kind: 'defaults' });
  return steps;
}
