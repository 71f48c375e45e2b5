/**
 * The shape of the command/telemetry dictionary: one typed definition per command,
 * housekeeping structure, event, report and parameter. Encoders, binary-parser
 * decoders, validation, the JSON export and the docs are all derived from these.
 */

/** Linear calibration: engineering value = raw * factor + offset. */
export interface Scale {
  factor: number;
  offset?: number;
}

export type FieldType =
  /** Unsigned integer of 1..32 bits. Sub-byte fields must pack into whole octets. */
  | { kind: 'uint'; bits: number; scale?: Scale }
  | { kind: 'int'; bits: 8 | 16 | 32; scale?: Scale }
  | { kind: 'float'; bits: 32 | 64 }
  /** One bit on the wire when packed among bit fields, else 8 bits. */
  | { kind: 'bool'; bits: 1 | 8 }
  /** Named states on an unsigned integer; states[i] has raw value i. */
  | { kind: 'enum'; bits: number; states: readonly string[] }
  /** Length-prefixed octet string. */
  | { kind: 'bytes'; lengthBits: 8 | 16; maxLength?: number }
  /** Length-prefixed ASCII string. */
  | { kind: 'string'; lengthBits: 8; maxLength?: number };

/** Limit bands for a telemetry item, COSMOS/Yamcs style: yellow = warning, red = critical. */
export interface Limits {
  yellow?: { low?: number; high?: number };
  red?: { low?: number; high?: number };
}

/** `N` and `T` keep a field's literal name and type where the constructors of fields.ts build it, so argument types can be derived. */
export interface FieldDef<N extends string = string, T extends FieldType = FieldType> {
  name: N;
  type: T;
  /** Engineering unit, e.g. 'urad', 'degC', 'ms'. */
  unit?: string;
  /** Allowed engineering range, inclusive; commands outside it are refused. */
  range?: readonly [number, number];
  limits?: Limits;
  description: string;
}

export type Severity = 'info' | 'low' | 'medium' | 'high';

/** PUS TM(5,x) subtype for each event severity. */
export const SEVERITY_SUBTYPE: Record<Severity, number> = { info: 1, low: 2, medium: 3, high: 4 };

export interface CommandDef {
  name: string;
  service: number;
  subtype: number;
  /** ST08 perform-function commands are told apart by a 16-bit function id in front of the arguments. */
  functionId?: number;
  fields: readonly FieldDef[];
  description: string;
  /**
   * A command whose effect an operator must confirm before it is sent (COSMOS's hazardous
   * commands, XTCE's significance): it switches what the payload boots from or cuts a
   * board's power. Senders (the console, `npm run cmd`) ask for confirmation; the exports carry it.
   */
  hazardous?: boolean;
}

/** A TM packet whose (service, subtype) alone names it (verification, pong, dump reports, ...). */
export interface ReportDef {
  name: string;
  service: number;
  subtype: number;
  fields: readonly FieldDef[];
  description: string;
}

/** An ST03 housekeeping structure, reported as TM(3,25) with its 16-bit SID first. */
export interface HousekeepingDef {
  name: string;
  sid: number;
  /** Default reporting interval. */
  intervalMs: number;
  fields: readonly FieldDef[];
  description: string;
}

/** An ST05 event, reported as TM(5, severity) with its 16-bit event id first. */
export interface EventDef {
  name: string;
  id: number;
  severity: Severity;
  fields: readonly FieldDef[];
  description: string;
}

/** An on-board parameter, read and written by ST20 as a float64 engineering value. */
export interface ParameterDef {
  name: string;
  id: number;
  unit?: string;
  range: readonly [number, number];
  /** Integer-valued parameters refuse fractions. */
  integer?: boolean;
  default: number;
  description: string;
}

/** One subsystem's share of the dictionary; the index merges them and checks uniqueness. */
export interface DictionaryPart {
  commands?: readonly CommandDef[];
  reports?: readonly ReportDef[];
  housekeeping?: readonly HousekeepingDef[];
  events?: readonly EventDef[];
  parameters?: readonly ParameterDef[];
}

/** Decoded field values by name: numbers, enum state names, booleans, byte strings, strings. */
export type FieldValues = Record<string, number | string | boolean | Uint8Array>;

/** The engineering value type of one field type (an enum's value is its state name). */
export type ValueOf<T extends FieldType> = T extends { kind: 'uint' | 'int' | 'float' }
  ? number
  : T extends { kind: 'bool' }
    ? boolean
    : T extends { kind: 'enum'; states: readonly (infer S)[] }
      ? S
      : T extends { kind: 'bytes' }
        ? Uint8Array
        : string;

/** Decoded values of a list of fields, by field name, typed from their definitions. */
export type ValuesOf<F extends readonly FieldDef[]> = { [D in F[number] as D['name']]: ValueOf<D['type']> };
