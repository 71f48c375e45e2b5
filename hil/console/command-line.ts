import { commandDef, DICTIONARY, encodeCommandAppData, type CommandDef, type FieldDef, type HousekeepingDef } from '../../protocols/dictionary/index.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { editDistance } from '../edit-distance.ts';

/**
 * What an operator types, read against the dictionary: a telecommand line
 * `NAME field=value ...` and a telemetry item `PACKET.field`. Pure (no bench, no I/O):
 * the console's forms and `npm run cmd` / `npm run tlm` share it. Every refusal is a
 * CommandLineError naming the command, the field and the value; nothing else is thrown.
 *
 * Values are engineering values: numbers in decimal (`1e-3`, `-2.5`; integers also
 * `0x1F`), enums by state name, booleans `true`/`false`/`1`/`0`, strings as typed
 * (quote them in a line: `tleLine1="1 25544U ..."`), byte strings in hex (`data=0a0bff`).
 * Ranges, enums, lengths and the parameter a SET_PARAM names are checked by the
 * dictionary's own validation, before anything is sent.
 */

export type CommandLineErrorCode =
  | 'EMPTY'
  | 'SYNTAX'
  | 'UNKNOWN_COMMAND'
  | 'UNKNOWN_FIELD'
  | 'DUPLICATE_FIELD'
  | 'MISSING_FIELD'
  | 'BAD_VALUE'
  | 'OUT_OF_RANGE'
  | 'UNKNOWN_PACKET';

export class CommandLineError extends Error {
  override readonly name = 'CommandLineError';
  constructor(
    readonly code: CommandLineErrorCode,
    message: string,
    readonly details: { command?: string; field?: string; value?: string; suggestions?: string[] } = {},
  ) {
    super(message);
  }
}

export interface ParsedCommand {
  name: string;
  def: CommandDef;
  /** Engineering values by field name, as encodeCommand takes them (validated). */
  args: Record<string, unknown>;
  hazardous: boolean;
}

/** Splits a typed line into words, shell-like: blanks separate, "..." (with \" and \\) and '...' quote. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else if (c === '"' || c === "'") {
      inWord = true;
      const end = c;
      let j = i + 1;
      for (; j < line.length && line[j] !== end; j++) {
        if (end === '"' && line[j] === '\\' && (line[j + 1] === '"' || line[j + 1] === '\\')) j++;
        cur += line[j];
      }
      if (j >= line.length) throw new CommandLineError('SYNTAX', `unterminated ${end === '"' ? 'double' : 'single'} quote at column ${i + 1}`);
      i = j;
    } else {
      inWord = true;
      cur += c;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** A value as a line would carry it (the inverse of tokenize for one word). */
export function quoteWord(s: string): string {
  return s !== '' && /^[^\s"'\\]+$/.test(s) ? s : `"${s.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}

/** The names closest to `wanted` (case-insensitive; substrings first), at most `max`. */
export function closeNames(wanted: string, names: readonly string[], max = 5): string[] {
  const w = wanted.toLowerCase();
  const scored = names.map((n) => {
    const l = n.toLowerCase();
    const score = l.includes(w) || (w.length > 0 && w.includes(l)) ? 0 : editDistance(w, l);
    return { n, score };
  });
  const limit = Math.max(2, Math.floor(w.length / 2));
  return scored
    .filter((s) => s.score <= limit)
    .sort((a, b) => a.score - b.score || a.n.localeCompare(b.n))
    .slice(0, max)
    .map((s) => s.n);
}

const COMMAND_NAMES = DICTIONARY.commands.map((c) => c.name);

function findCommand(word: string): CommandDef {
  const exact = DICTIONARY.commands.find((c) => c.name === word) ?? DICTIONARY.commands.find((c) => c.name.toLowerCase() === word.toLowerCase());
  if (exact) return commandDef(exact.name);
  const close = closeNames(word, COMMAND_NAMES);
  throw new CommandLineError('UNKNOWN_COMMAND', `unknown command '${word}'${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; commands: ${COMMAND_NAMES.join(', ')}`, {
    command: word,
    suggestions: close,
  });
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const HEX_INT = /^0x[0-9a-f]+$/i;

function bad(cmd: string, f: FieldDef, raw: string, why: string): never {
  throw new CommandLineError('BAD_VALUE', `${cmd}: field '${f.name}': ${why}, got ${JSON.stringify(raw)}`, { command: cmd, field: f.name, value: raw });
}

/** One typed value into the engineering value the dictionary encodes (types only; ranges are the dictionary's). */
function convert(cmd: string, f: FieldDef, raw: string): unknown {
  const t = f.type;
  switch (t.kind) {
    case 'uint':
    case 'int':
    case 'float': {
      if (t.kind !== 'float' && HEX_INT.test(raw)) return Number.parseInt(raw.slice(2), 16);
      if (!DECIMAL.test(raw)) bad(cmd, f, raw, `expected a number${f.unit ? ` in ${f.unit}` : ''}`);
      const v = Number(raw);
      if (!Number.isFinite(v)) bad(cmd, f, raw, 'expected a finite number');
      return v;
    }
    case 'bool': {
      const l = raw.toLowerCase();
      if (l === 'true' || l === '1') return true;
      if (l === 'false' || l === '0') return false;
      return bad(cmd, f, raw, 'expected true or false');
    }
    case 'enum': {
      const state = t.states.find((s) => s === raw) ?? t.states.find((s) => s.toLowerCase() === raw.toLowerCase());
      if (state === undefined) {
        throw new CommandLineError('OUT_OF_RANGE', `${cmd}: field '${f.name}': ${JSON.stringify(raw)} is not one of ${t.states.join(', ')}`, { command: cmd, field: f.name, value: raw, suggestions: [...t.states] });
      }
      return state;
    }
    case 'string':
      return raw;
    case 'bytes': {
      const hex = raw.replace(/^0x/i, '');
      if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) bad(cmd, f, raw, 'expected bytes in hex (an even number of digits, e.g. 0a0bff)');
      return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
    }
  }
}

/** A command from its words (as the shell passed them to a CLI, or tokenize gave them). */
export function parseCommandWords(words: readonly string[]): ParsedCommand {
  if (words.length === 0 || words[0] === '') throw new CommandLineError('EMPTY', 'no command given (NAME field=value ...)');
  const def = findCommand(words[0]);
  const args: Record<string, unknown> = {};
  const fieldNames = def.fields.map((f) => f.name);
  for (const word of words.slice(1)) {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      throw new CommandLineError('SYNTAX', `${def.name}: '${word}' is not field=value${fieldNames.length ? ` (fields: ${fieldNames.join(', ')})` : ' (it takes no fields)'}`, { command: def.name, value: word });
    }
    const key = word.slice(0, eq);
    const raw = word.slice(eq + 1);
    const f = def.fields.find((x) => x.name === key) ?? def.fields.find((x) => x.name.toLowerCase() === key.toLowerCase());
    if (!f) {
      const close = closeNames(key, fieldNames);
      throw new CommandLineError(
        'UNKNOWN_FIELD',
        `${def.name}: unknown field '${key}'${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; ${fieldNames.length ? `fields: ${fieldNames.join(', ')}` : 'it takes no fields'}`,
        { command: def.name, field: key, suggestions: close },
      );
    }
    if (Object.hasOwn(args, f.name)) throw new CommandLineError('DUPLICATE_FIELD', `${def.name}: field '${f.name}' given twice`, { command: def.name, field: f.name });
    args[f.name] = convert(def.name, f, raw);
  }
  const missing = def.fields.filter((f) => !Object.hasOwn(args, f.name)).map((f) => f.name);
  if (missing.length > 0) throw new CommandLineError('MISSING_FIELD', `${def.name}: missing field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, { command: def.name, field: missing[0] });
  try {
    encodeCommandAppData(def.name, args);
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    let field = typeof e.details.field === 'string' ? e.details.field : undefined;
    let message = e.message.replace(/^[A-Z_]+: /, '');
    // SET_PARAM's value is checked against the parameter it names: say which field that is.
    if (field !== undefined && !fieldNames.includes(field) && def.name === 'SET_PARAM') {
      field = 'value';
      message = `field 'value': ${message}`;
    }
    throw new CommandLineError(e.code === 'FIELD_OUT_OF_RANGE' ? 'OUT_OF_RANGE' : 'BAD_VALUE', `${def.name}: ${message}`, { command: def.name, field, value: field && field in args ? String(args[field]) : undefined });
  }
  return { name: def.name, def, args, hazardous: def.hazardous ?? false };
}

/** A typed command line `NAME field=value ...` (quotes as tokenize reads them). */
export function parseCommandLine(line: string): ParsedCommand {
  return parseCommandWords(tokenize(line));
}

/** The line that parses to `name` with `args` (engineering values): what a form would send. */
export function formatCommandLine(name: string, args: Record<string, unknown>): string {
  const def = commandDef(name);
  const words = def.fields.map((f) => {
    const v = args[f.name];
    const text =
      v instanceof Uint8Array
        ? Buffer.from(v).toString('hex')
        : typeof v === 'number'
          ? Object.is(v, -0)
            ? '-0'
            : String(v)
          : String(v);
    return `${f.name}=${quoteWord(text)}`;
  });
  return [def.name, ...words].join(' ');
}

// ------------------------------------------------------------------ telemetry items

export interface TelemetryItem {
  /** `PACKET.field`, as the bench's histories name it. */
  item: string;
  packet: HousekeepingDef;
  field: FieldDef;
}

/** Every `PACKET.field` of the dictionary's housekeeping. */
export const TELEMETRY_ITEMS: readonly string[] = DICTIONARY.housekeeping.flatMap((h) => h.fields.map((f) => `${h.name}.${f.name}`));

/** A telemetry item `PACKET.field` of the dictionary; an unknown packet or field is refused naming it, with close names. */
export function parseTelemetryItem(text: string): TelemetryItem {
  const dot = text.indexOf('.');
  const packetName = dot < 0 ? text : text.slice(0, dot);
  const fieldName = dot < 0 ? '' : text.slice(dot + 1);
  const packet = DICTIONARY.housekeeping.find((h) => h.name === packetName) ?? DICTIONARY.housekeeping.find((h) => h.name.toLowerCase() === packetName.toLowerCase());
  if (!packet) {
    const packets = DICTIONARY.housekeeping.map((h) => h.name);
    const close = [...new Set([...closeNames(packetName, packets), ...closeNames(text, TELEMETRY_ITEMS)])].slice(0, 5);
    throw new CommandLineError('UNKNOWN_PACKET', `unknown telemetry packet '${packetName}'${close.length ? ` (close: ${close.join(', ')})` : ''}; packets: ${packets.join(', ')}`, {
      value: text,
      suggestions: close,
    });
  }
  if (dot < 0 || fieldName === '') {
    const all = packet.fields.map((f) => f.name);
    throw new CommandLineError('SYNTAX', `'${text}': name a field as ${packet.name}.FIELD (fields: ${all.join(', ')})`, { value: text, suggestions: all.map((f) => `${packet.name}.${f}`) });
  }
  const field = packet.fields.find((f) => f.name === fieldName) ?? packet.fields.find((f) => f.name.toLowerCase() === fieldName.toLowerCase());
  if (!field) {
    const close = closeNames(fieldName, packet.fields.map((f) => f.name)).map((f) => `${packet.name}.${f}`);
    throw new CommandLineError('UNKNOWN_FIELD', `${packet.name} has no field '${fieldName}'${close.length ? ` (close: ${close.join(', ')})` : ''}; fields: ${packet.fields.map((f) => f.name).join(', ')}`, {
      field: fieldName,
      value: text,
      suggestions: close,
    });
  }
  return { item: `${packet.name}.${field.name}`, packet, field };
}
