import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseTle, TleError, type Tle } from '../boards/sim/tle.ts';
import { applyPortOverrides, type BenchConfig, BenchConfigError, loadBenchConfig } from '../hil/bench/config.ts';
import { type ConsoleBench, openConsoleBench } from '../hil/console/operations.ts';

/**
 * Shared argument handling for the thin CLIs: --help prints the usage and exits 0;
 * a usage error prints the reason and the usage to stderr and exits 2.
 */
export function parseCli<T extends NonNullable<ParseArgsConfig['options']>>(options: T, usage: string, allowPositionals = true) {
  try {
    const parsed = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    if ((parsed.values as Record<string, unknown>).help) {
      console.log(usage);
      process.exit(0);
    }
    return parsed;
  } catch (e) {
    usageError((e as Error).message, usage);
  }
}

export function usageError(message: string, usage: string): never {
  console.error(`error: ${message}\n\n${usage}`);
  process.exit(2);
}

/** An argument as a shell would need it quoted (run.json's command is pasted back into a shell). */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** One line on stderr and exit `code` (1 bad data, 2 usage): a user error needs no stack trace. */
export function fail(message: string, code: 1 | 2): never {
  console.error(`error: ${message}`);
  process.exit(code);
}

// A decimal number as people type it: 0.001, 1e-3, -2, 5. (Number() would also take
// '', ' ', '0x10', 'Infinity', turning an empty value into 0 and hex into another number.)
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const decimal = (raw: string) => (DECIMAL.test(raw.trim()) ? Number(raw) : NaN);

/** Parses a whole-number option, or exits 2 naming the option. */
export function intOption(name: string, raw: string | undefined, usage: string, min = -Infinity, max = Infinity): number | undefined {
  if (raw === undefined) return undefined;
  const v = decimal(raw);
  if (!Number.isInteger(v) || v < min || v > max) usageError(`--${name} must be a whole number in ${min}..${max}, got '${raw}'`, usage);
  return v;
}

/**
 * Parses a real-number option within min..max (above min when `minExclusive`), or exits 2
 * naming the option and the value: empty, blank, hex, NaN and non-finite values are refused.
 */
export function numberOption(name: string, raw: string | undefined, usage: string, min = -Infinity, max = Infinity, minExclusive = false): number | undefined {
  if (raw === undefined) return undefined;
  const v = decimal(raw);
  if (!Number.isFinite(v) || v < min || (minExclusive && v === min) || v > max) {
    const range = minExclusive ? `(${min}, ${max}]` : `${min}..${max}`;
    usageError(`--${name} must be a number in ${range}, got '${raw}'`, usage);
  }
  return v;
}

/** Largest seed the simulations tell apart: they mix seeds as 32-bit words. */
export const MAX_SEED = 0xffffffff;

/**
 * Parses --seed: decimal digits only (no sign, exponent, hex or empty string, which
 * Number() would turn into another seed), 0..max. Exits 2 naming the option.
 */
export function seedOption(raw: string | undefined, usage: string, max = MAX_SEED): number | undefined {
  if (raw === undefined) return undefined;
  const v = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(v) || v > max) usageError(`--seed must be a whole number in 0..${max}, got '${raw}'`, usage);
  return v;
}

/**
 * An output file named by an option (--out FILE of any CLI): creates its folder, as people
 * expect of `--out out/x.json` on a fresh clone, and returns the path. A path that is a
 * directory, or whose folder cannot be made (a file in the way, no permission), exits 2
 * in one line naming the option and the path.
 */
export function outputPath(flag: string, path: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) fail(`--${flag} ${path} is a directory`, 2);
  const folder = dirname(resolve(path));
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOTDIR' || code === 'EEXIST' ? 'is not a directory (a file is in the way)' : code === 'EACCES' || code === 'EPERM' ? 'cannot be created (permission denied)' : `cannot be created (${code ?? (e as Error).message})`;
    fail(`--${flag} ${path} cannot be written: its folder ${folder} ${why}`, 2);
  }
  return path;
}

/** A UTC date or date-time option in ISO 8601 form; refuses dates that do not exist (2026-02-30) and local times (exit 2 naming the option). */
export function utcDateOption(name: string, raw: string, usage: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?Z)?$/.exec(raw);
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m ? m.slice(1).map((x) => x ?? undefined) : [];
  const t = m ? new Date(Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s)) : undefined;
  const exists = t && t.getUTCFullYear() === +y! && t.getUTCMonth() === +mo! - 1 && t.getUTCDate() === +d! && t.getUTCHours() === +h && t.getUTCMinutes() === +mi && t.getUTCSeconds() === +s;
  if (!exists) usageError(`--${name} must be a UTC date YYYY-MM-DD or date-time YYYY-MM-DDTHH:MM[:SS]Z, got '${raw}'`, usage);
  return t;
}

/** A --tle FILE option: missing or a directory is usage (2), text that is not a two-line element set is bad data (1). */
export function tleFileOption(path: string): Tle {
  let text: string;
  try {
    if (!statSync(path).isFile()) fail(`--tle: not a file: ${path}`, 2);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(code === 'ENOENT' ? `--tle: no such file: ${path}` : `--tle ${path}: cannot be read (${code ?? (e as Error).message})`, 2);
  }
  try {
    return parseTle(text);
  } catch (e) {
    if (e instanceof TleError) fail(`--tle ${path}: not a two-line element set: ${e.message}`, 1);
    throw e;
  }
}

// A reader that stops early (`| head`) is not an error of ours: end quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

/** The bench of `--bench FILE` (default `defaultPath`) with `--port BOARD=PATH` overrides; a bad file or port spec exits 2 naming it. */
export function benchConfigOption(bench: string | undefined, ports: readonly string[] | undefined, defaultPath: string): BenchConfig {
  try {
    return applyPortOverrides(loadBenchConfig(bench ? resolve(bench) : defaultPath), ports?.join(','));
  } catch (e) {
    if (e instanceof BenchConfigError) fail(e.message, 2);
    throw e;
  }
}

/** The console's bench (npm run cmd, tlm, console): `--bench`/`--port` as benchConfigOption, opened with the payload hosted; a bench that does not open exits 1 naming it. */
export async function consoleBenchOption(o: {
  bench?: string;
  port?: readonly string[];
  seed: number;
  root: string;
  /** Where the board lines' captures go, once the config is known (the console's run folder). */
  captureDir?: (config: BenchConfig) => string;
}): Promise<{ session: ConsoleBench; config: BenchConfig }> {
  const loaded = benchConfigOption(o.bench, o.port, resolve(o.root, 'hil/benches/emulated.json'));
  const config = o.captureDir ? { ...loaded, captureDir: o.captureDir(loaded) } : loaded;
  try {
    return { session: await openConsoleBench(config, { seed: o.seed, root: o.root }), config };
  } catch (e) {
    fail(`bench ${config.name}: ${(e as Error).message}`, 1);
  }
}
