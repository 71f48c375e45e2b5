import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { DICTIONARY, type ParameterDef } from '../../protocols/dictionary/index.ts';
import { isBoardName, BOARD_NAMES } from '../definitions.ts';

/**
 * Config layout of a board (boards/config/layouts/<board>.yaml): which dictionary
 * parameters its configuration image carries, which bulk tables, and which
 * cross-parameter checks apply. Ids, units, ranges and integer-ness are not repeated
 * here: they come from the dictionary, so there is one source of truth.
 */
const upper = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'parameter names are UPPER_SNAKE_CASE');

const tableSchema = z
  .object({
    name: z.string().regex(/^[a-z][A-Za-z0-9]*$/, 'table names are lowerCamelCase'),
    /** Record id of entry 0; entry i is idBase + i. */
    idBase: z.number().int().min(0x100).max(0xffff),
    maxLength: z.number().int().positive(),
    /** Enumerated entries: state i is stored as the value i. */
    states: z.array(z.string().min(1)).min(2).optional(),
    /** Numeric entries instead: range and integer-ness. */
    range: z.tuple([z.number(), z.number()]).optional(),
    integer: z.boolean().optional(),
    unit: z.string().optional(),
    description: z.string().min(1),
  })
  .strict()
  .refine((t) => (t.states === undefined) !== (t.range === undefined), 'a table has either states or a range');

const checkSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sum'), keys: z.array(upper).min(2), equals: z.number(), tolerance: z.number().nonnegative(), description: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('decreasing'), keys: z.array(upper).min(2), description: z.string().min(1) }).strict(),
]);

const layoutSchema = z
  .object({
    board: z.string(),
    configVersion: z.number().int().min(0).max(0xffff),
    parameters: z.array(upper).min(1),
    tables: z.array(tableSchema),
    checks: z.array(checkSchema),
  })
  .strict();

export type TableLayout = z.infer<typeof tableSchema>;
export type ConfigCheck = z.infer<typeof checkSchema>;

export interface ConfigLayout {
  board: string;
  configVersion: number;
  parameters: ParameterDef[];
  tables: TableLayout[];
  checks: ConfigCheck[];
}

export class ConfigLayoutError extends Error {
  override readonly name = 'ConfigLayoutError';
}

const dir = join(dirname(fileURLToPath(import.meta.url)), 'layouts');
const cache = new Map<string, ConfigLayout>();

/** Parses and checks a layout document against the dictionary (names known, ids unique). */
export function parseConfigLayout(text: string, source: string): ConfigLayout {
  const r = layoutSchema.safeParse(parse(text));
  if (!r.success) throw new ConfigLayoutError(`${source}: invalid config layout:\n${r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  const doc = r.data;
  if (!isBoardName(doc.board)) throw new ConfigLayoutError(`${source}: unknown board '${doc.board}' (known: ${BOARD_NAMES.join(', ')})`);
  const byName = new Map(DICTIONARY.parameters.map((p) => [p.name, p]));
  const problems: string[] = [];
  const parameters: ParameterDef[] = [];
  for (const n of doc.parameters) {
    const p = byName.get(n);
    if (!p) problems.push(`parameter ${n} is not in the dictionary`);
    else if (parameters.includes(p)) problems.push(`parameter ${n} listed twice`);
    else parameters.push(p);
  }
  // Record ids of parameters and table entries must never collide.
  const spans: [string, number, number][] = parameters.map((p) => [`parameter ${p.name}`, p.id, p.id]);
  for (const t of doc.tables) {
    if (t.idBase + t.maxLength - 1 > 0xffff) problems.push(`table ${t.name}: ids ${t.idBase}..${t.idBase + t.maxLength - 1} exceed 65535`);
    spans.push([`table ${t.name}`, t.idBase, t.idBase + t.maxLength - 1]);
  }
  spans.sort((a, b) => a[1] - b[1]);
  for (let i = 1; i < spans.length; i++) if (spans[i][1] <= spans[i - 1][2]) problems.push(`${spans[i - 1][0]} and ${spans[i][0]} share record ids`);
  for (const c of doc.checks) for (const k of c.keys) if (!doc.parameters.includes(k)) problems.push(`check '${c.description}' names ${k}, not a parameter of this layout`);
  if (problems.length) throw new ConfigLayoutError(`${source}: ${problems.join('; ')}`);
  return { board: doc.board, configVersion: doc.configVersion, parameters, tables: doc.tables, checks: doc.checks };
}

export function loadConfigLayout(board: string): ConfigLayout {
  if (!isBoardName(board)) throw new ConfigLayoutError(`unknown board '${board}' (known: ${BOARD_NAMES.join(', ')})`);
  let l = cache.get(board);
  if (!l) {
    const file = join(dir, `${board}.yaml`);
    l = parseConfigLayout(readFileSync(file, 'utf8'), file);
    if (l.board !== board) throw new ConfigLayoutError(`${file}: says board '${l.board}'`);
    cache.set(board, l);
  }
  return l;
}
