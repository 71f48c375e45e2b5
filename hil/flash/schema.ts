import { parse, YAMLParseError } from 'yaml';
import { type ConfigLayout, loadConfigLayout, type TableLayout } from '../../boards/config/layout.ts';
import { configFlash, type BoardDefinition, loadBoardDefinition } from '../../boards/definitions.ts';
import { DECOY_PARAMS, decoyParamsViolation } from '../../qkd/decoy-conditions.ts';
import { imageLength } from '../../protocols/config-image.ts';
import type { ParameterDef } from '../../protocols/dictionary/index.ts';
import { editDistance } from '../edit-distance.ts';

/**
 * Board config files (YAML or JSON) and their schema. The schema is derived, never
 * written by hand: parameter ids, units, ranges and integer-ness from the dictionary,
 * which parameters and tables a board carries from its config layout, the board id
 * and the bank size (the largest image) from the board definition. Validation
 * collects every problem at once, each naming its key path and what is allowed.
 */

/** A validated configuration, values in engineering units (the unit of each parameter). */
export interface BoardConfig {
  board: string;
  configVersion: number;
  /** Parameters the file sets; the others keep their dictionary default on the board. */
  parameters: Record<string, number>;
  /** Tables the file sets: state names for enumerated tables, numbers otherwise. */
  tables: Record<string, (string | number)[]>;
}

export interface ConfigIssue {
  /** Key path in the file: "parameters.MU_SIGNAL", "tables.pattern[12]", "board". */
  path: string;
  message: string;
}

/** Everything needed to check and encode one board's config. */
export interface ConfigSchema {
  board: string;
  boardId: number;
  configVersion: number;
  layout: ConfigLayout;
  /** Largest image the board's config bank holds. */
  bankBytes: number;
  parameter(name: string): ParameterDef | undefined;
  table(name: string): TableLayout | undefined;
}

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
  }
}

export function configSchema(board: string, def: BoardDefinition = loadBoardDefinition(board), layout: ConfigLayout = loadConfigLayout(board)): ConfigSchema {
  const params = new Map(layout.parameters.map((p) => [p.name, p]));
  const tables = new Map(layout.tables.map((t) => [t.name, t]));
  return {
    board,
    boardId: def.identity.boardId,
    configVersion: layout.configVersion,
    layout,
    bankBytes: configFlash(def).bankSize,
    parameter: (n) => params.get(n),
    table: (n) => tables.get(n),
  };
}

/** "0..1", "1024..4294967295 (integer)", with the unit. */
export function allowedText(p: { range?: readonly [number, number]; integer?: boolean; unit?: string }): string {
  if (!p.range) return 'any number';
  return `${p.range[0]}..${p.range[1]}${p.unit ? ` ${p.unit}` : ''}${p.integer ? ', integer' : ''}`;
}

/**
 * Most copies of one anchored YAML node a config file may hold, the anchor itself
 * included (nested aliases multiply): the yaml library's maxAliasCount. Given here, not
 * left to the library's default, because it is what stops a "billion laughs" file
 * before it expands; real config files use no aliases at all.
 */
export const MAX_YAML_ALIASES = 100;

/**
 * Parses a config file's text (YAML; JSON is valid YAML). Syntax errors come back as
 * issues; more copies of an anchored node than MAX_YAML_ALIASES throw the library's ReferenceError.
 */
export function parseConfigText(text: string): { doc: unknown; issues: ConfigIssue[] } {
  try {
    return { doc: parse(text, { uniqueKeys: true, maxAliasCount: MAX_YAML_ALIASES }), issues: [] };
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const at = e.linePos?.[0];
      return { doc: undefined, issues: [{ path: at ? `(line ${at.line}, column ${at.col})` : '(file)', message: `not valid YAML/JSON: ${e.message.split('\n')[0]}` }] };
    }
    throw e;
  }
}

const ROOT_KEYS = ['board', 'configVersion', 'parameters', 'tables'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
}

/** Closest known name (edit distance <= 3), for "did you mean". */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const k of known) {
    const d = editDistance(name.toUpperCase(), k.toUpperCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

/**
 * A number, or a string "<number> <unit>" whose unit must be the parameter's own.
 * Returns the number or an issue message.
 */
function numberWithUnit(raw: unknown, unit: string | undefined): number | string {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : `${raw} is not a finite number`;
  if (typeof raw === 'string') {
    const m = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*?)?\s*$/.exec(raw);
    if (!m) return `${show(raw)} is not a number${unit ? ` (write a number in ${unit}, or "<number> ${unit}")` : ''}`;
    const given = m[2];
    if (given !== undefined && given !== unit) return unit ? `unit '${given}' where this value is in '${unit}'` : `unit '${given}' given, but this value has no unit`;
    return Number(m[1]);
  }
  return `${show(raw)} is not a number`;
}

function checkParameter(p: ParameterDef, raw: unknown): number | string {
  const v = numberWithUnit(raw, p.unit);
  if (typeof v === 'string') return `${v}; allowed ${allowedText(p)}`;
  if (p.integer && !Number.isInteger(v)) return `${v} is not an integer; allowed ${allowedText(p)}`;
  if (v < p.range[0] || v > p.range[1]) return `${v}${p.unit ? ` ${p.unit}` : ''} outside the allowed range ${allowedText(p)}`;
  return v;
}

function checkTable(t: TableLayout, raw: unknown, path: string, issues: ConfigIssue[]): (string | number)[] | null {
  if (!Array.isArray(raw)) {
    issues.push({ path, message: `expected a list of ${t.states ? `states (${t.states.join(', ')})` : `numbers ${allowedText(t)}`}, got ${show(raw)}` });
    return null;
  }
  const out: (string | number)[] = [];
  let ok = true;
  if (raw.length > t.maxLength) {
    issues.push({ path, message: `${raw.length} entries, at most ${t.maxLength} allowed` });
    ok = false;
  }
  // Many bad entries: report the first few by index and how many in all, not thousands of lines.
  const bad: ConfigIssue[] = [];
  raw.forEach((e, i) => {
    if (t.states) {
      if (typeof e === 'string' && t.states.includes(e)) out.push(e);
      else bad.push({ path: `${path}[${i}]`, message: `${show(e)} is not one of ${t.states.join(', ')}` });
    } else {
      const v = numberWithUnit(e, t.unit);
      if (typeof v === 'string') bad.push({ path: `${path}[${i}]`, message: `${v}; allowed ${allowedText(t)}` });
      else if (t.integer && !Number.isInteger(v)) bad.push({ path: `${path}[${i}]`, message: `${v} is not an integer; allowed ${allowedText(t)}` });
      else if (t.range && (v < t.range[0] || v > t.range[1])) bad.push({ path: `${path}[${i}]`, message: `${v} outside the allowed range ${allowedText(t)}` });
      else out.push(v);
    }
  });
  const SHOWN = 10;
  issues.push(...bad.slice(0, SHOWN));
  if (bad.length > SHOWN) issues.push({ path, message: `${bad.length - SHOWN} more bad entries (${bad.length} in all)` });
  return ok && bad.length === 0 ? out : null;
}

/** Effective value of a parameter: the file's, else the dictionary default. */
export function effectiveParameter(cfg: Pick<BoardConfig, 'parameters'>, p: ParameterDef): number {
  return cfg.parameters[p.name] ?? p.default;
}

/** Number of image records a config makes. */
export function recordCount(cfg: BoardConfig): number {
  return Object.keys(cfg.parameters).length + Object.values(cfg.tables).reduce((n, t) => n + t.length, 0);
}

/**
 * The decoy-state conditions (mu1 > mu2 + mu3, mu2 > mu3 >= 0, p_k > 0, sum p = 1) on
 * the effective source values, for a board that carries them: the key-rate bound is
 * void outside them, so such a config never reaches a board. Skipped where a value is
 * itself bad or a layout check already reported the same group.
 */
function checkDecoyConditions(schema: ConfigSchema, parameters: Record<string, number>, issues: ConfigIssue[]): void {
  const keys = [...DECOY_PARAMS.mu, ...DECOY_PARAMS.p];
  const defs = keys.map((k) => schema.parameter(k));
  if (defs.some((d) => !d)) return;
  const effective = Object.fromEntries(defs.map((d) => [d!.name, effectiveParameter({ parameters }, d!)]));
  const v = decoyParamsViolation(effective);
  if (!v) return;
  const group = v.field === 'mu' ? DECOY_PARAMS.mu : DECOY_PARAMS.p;
  const namesIn = (path: string) => path.replace(/^parameters\./, '').replace(/[{}]/g, '').split(',');
  if (issues.some((i) => namesIn(i.path).some((n) => group.includes(n)))) return;
  const defaults = group.filter((k) => !(k in parameters));
  issues.push({
    path: `parameters.{${group.join(',')}}`,
    message: `decoy-state conditions: ${v.message}${defaults.length ? ` (${defaults.join(', ')} at the dictionary default)` : ''}`,
  });
}

/**
 * Validates a parsed config document for a board. Returns the normalised config
 * (numbers in the parameters' units) or every issue found.
 */
export function validateConfig(doc: unknown, schema: ConfigSchema): { config: BoardConfig | null; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  if (!isRecord(doc)) return { config: null, issues: [{ path: '(root)', message: `expected a mapping with keys ${ROOT_KEYS.join(', ')}, got ${show(doc)}` }] };
  for (const k of Object.keys(doc)) if (!ROOT_KEYS.includes(k)) issues.push({ path: k, message: `unknown key; allowed keys: ${ROOT_KEYS.join(', ')}` });

  if (doc.board === undefined) issues.push({ path: 'board', message: `missing; this schema is for board '${schema.board}'` });
  else if (doc.board !== schema.board) issues.push({ path: 'board', message: `${show(doc.board)} but flashing board '${schema.board}' (id 0x${schema.boardId.toString(16)}): a config for another board is refused` });
  if (doc.configVersion !== undefined && doc.configVersion !== schema.configVersion) {
    issues.push({ path: 'configVersion', message: `${show(doc.configVersion)}; this tool writes ${schema.board} config version ${schema.configVersion}` });
  }

  const parameters: Record<string, number> = {};
  const names = schema.layout.parameters.map((p) => p.name);
  if (doc.parameters !== undefined && !isRecord(doc.parameters)) issues.push({ path: 'parameters', message: `expected a mapping NAME: value, got ${show(doc.parameters)}` });
  else {
    for (const [name, raw] of Object.entries(doc.parameters ?? {})) {
      const path = `parameters.${name}`;
      const p = schema.parameter(name);
      if (!p) {
        const near = closest(name, names);
        issues.push({ path, message: `not a ${schema.board} parameter${near ? ` (did you mean ${near}?)` : ''}; allowed: ${names.join(', ')}` });
        continue;
      }
      const v = checkParameter(p, raw);
      if (typeof v === 'string') issues.push({ path, message: v });
      else parameters[name] = v;
    }
  }

  const tables: Record<string, (string | number)[]> = {};
  const tableNames = schema.layout.tables.map((t) => t.name);
  if (doc.tables !== undefined && !isRecord(doc.tables)) issues.push({ path: 'tables', message: `expected a mapping NAME: [entries], got ${show(doc.tables)}` });
  else {
    for (const [name, raw] of Object.entries(doc.tables ?? {})) {
      const path = `tables.${name}`;
      const t = schema.table(name);
      if (!t) {
        issues.push({ path, message: tableNames.length ? `not a ${schema.board} table; allowed: ${tableNames.join(', ')}` : `board ${schema.board} has no tables` });
        continue;
      }
      const v = checkTable(t, raw, path, issues);
      if (v) tables[name] = v;
    }
  }

  // Cross-parameter checks, on effective values, only where each value is itself valid.
  const badParams = new Set(issues.filter((i) => i.path.startsWith('parameters.')).map((i) => i.path.slice('parameters.'.length)));
  for (const c of schema.layout.checks) {
    if (c.keys.some((k) => badParams.has(k))) continue;
    const vals = c.keys.map((k) => effectiveParameter({ parameters }, schema.parameter(k)!));
    const path = `parameters.{${c.keys.join(',')}}`;
    const shown = c.keys.map((k, i) => `${k}=${vals[i]}${k in parameters ? '' : ' (default)'}`).join(', ');
    if (c.kind === 'sum') {
      const s = vals.reduce((a, b) => a + b, 0);
      if (Math.abs(s - c.equals) > c.tolerance) issues.push({ path, message: `${c.description}: ${shown} add up to ${s}, must be ${c.equals} (±${c.tolerance})` });
    } else if (vals.some((v, i) => i > 0 && !(vals[i - 1] > v))) {
      issues.push({ path, message: `${c.description}: ${shown} must be strictly decreasing` });
    }
  }

  checkDecoyConditions(schema, parameters, issues);

  const config: BoardConfig = { board: schema.board, configVersion: schema.configVersion, parameters, tables };
  const bytes = imageLength(recordCount(config));
  if (bytes > schema.bankBytes) {
    issues.push({
      path: Object.keys(tables).length ? `tables` : 'parameters',
      message: `image of ${bytes} bytes does not fit the ${schema.bankBytes}-byte config bank of ${schema.board} (at most ${Math.floor((schema.bankBytes - imageLength(0)) / 10)} records)`,
    });
  }
  return { config: issues.length ? null : config, issues };
}

/** Parses and validates config text; throws ConfigValidationError listing every issue. */
export function loadConfigText(text: string, source: string, schema: ConfigSchema): BoardConfig {
  const { doc, issues } = parseConfigText(text);
  if (issues.length) throw new ConfigValidationError(source, issues);
  const r = validateConfig(doc, schema);
  if (!r.config) throw new ConfigValidationError(source, r.issues);
  return r.config;
}
