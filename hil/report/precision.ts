/**
 * Numbers printed at the precision they were measured with. Telemetry float32 fields
 * arrive as doubles holding a float32 (0.1f is 0.10000000149011612 as a double); printed
 * with String() they show float32 noise. The shortest decimal that reads back as the
 * same float32 is what the board meant.
 */

/**
 * The shortest decimal string that parses back (Number, then Math.fround) to the same
 * float32 as `x`. `x` is taken as the float32 nearest to it.
 */
export function shortestFloat32(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) return String(f);
  // A float32 needs at most 9 significant digits to round-trip.
  for (let digits = 1; digits <= 9; digits++) {
    const s = f.toPrecision(digits);
    // String(Number(s)) drops trailing zeros and picks plain or exponent form.
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}

/** True when the double `x` holds a float32 value exactly (so it may have come from one). */
export function isFloat32(x: number): boolean {
  return Math.fround(x) === x;
}

/**
 * A telemetry or figure value for the report: integers as they are, non-integers that
 * are exactly a float32 at float32 precision, other doubles at their shortest round-trip.
 */
export function formatValue(v: unknown): string {
  if (typeof v !== 'number') return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  return isFloat32(v) ? shortestFloat32(v) : String(v);
}

/**
 * A computed figure (pass duration, QBER, pointing RMS, ...) for a table people read:
 * float32 values and integers as formatValue, other doubles to 6 significant digits.
 */
export function formatFigure(v: unknown): string {
  if (typeof v !== 'number' || Number.isInteger(v) || !Number.isFinite(v) || isFloat32(v)) return formatValue(v);
  return String(Number(v.toPrecision(6)));
}

/** Event or command fields as "name=value, ..." with each number at its precision. */
export function formatFields(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${v !== null && typeof v === 'object' ? JSON.stringify(v, (_, x) => (typeof x === 'number' ? Number(formatValue(x)) : x)) : formatValue(v)}`)
    .join(', ');
}
