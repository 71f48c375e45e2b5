/**
 * Two-line element sets as published (CelesTrak, Space-Track): two 69-column lines,
 * optionally after a name line. Checked here before SGP4 sees them (satellite.js takes
 * any text and answers a garbled line with a wrong orbit, not an error).
 */

export interface Tle {
  /** The name line of a three-line set ("0 " prefix dropped), if there was one. */
  name?: string;
  lines: [string, string];
  /** Element epoch (UTC), from line 1 columns 19-32. */
  epoch: Date;
}

/** A TLE text that is not one: `line` is the 1-based line of the text that is wrong. */
export class TleError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'TleError';
  }
}

const TLE_LINE_LENGTH = 69;

/** The TLE checksum of columns 1-68: digits summed, each '-' counts 1, modulo 10. */
export function tleChecksum(line: string): number {
  let sum = 0;
  for (const c of line.slice(0, TLE_LINE_LENGTH - 1)) {
    if (c >= '0' && c <= '9') sum += c.charCodeAt(0) - 48;
    else if (c === '-') sum += 1;
  }
  return sum % 10;
}

/** Parses one element set: blank lines and trailing spaces ignored, name line optional. */
export function parseTle(text: string): Tle {
  const numbered = text
    .split(/\r?\n/)
    .map((l, i) => ({ text: l.trimEnd(), no: i + 1 }))
    .filter((l) => l.text !== '');
  if (numbered.length === 0) throw new TleError(1, 'empty: expected two element lines (1 ... and 2 ...)');
  // A name line comes first in a three-line set; two lines are the element lines.
  const named = numbered.length > 2 && !numbered[0].text.startsWith('1 ');
  const nameLine = named ? numbered[0] : undefined;
  const [l1, l2, extra] = named ? numbered.slice(1) : numbered;
  if (extra) throw new TleError(extra.no, 'more than one element set: give one satellite');
  checkLine(l1, '1');
  if (!l2) throw new TleError(l1.no + 1, "missing line 2 (starts '2 ')");
  checkLine(l2, '2');
  const cat1 = l1.text.slice(2, 7);
  const cat2 = l2.text.slice(2, 7);
  if (cat1 !== cat2) throw new TleError(l2.no, `catalogue number '${cat2.trim()}' differs from line 1's '${cat1.trim()}'`);
  const epoch = epochOf(l1);
  const name = nameLine?.text.replace(/^0 /, '').trim();
  return { ...(name ? { name } : {}), lines: [l1.text, l2.text], epoch };
}

function checkLine(l: { text: string; no: number }, n: '1' | '2'): void {
  if (!l.text.startsWith(`${n} `)) throw new TleError(l.no, `expected element line ${n} (starts '${n} '), got '${l.text.slice(0, 20)}'`);
  if (l.text.length !== TLE_LINE_LENGTH) throw new TleError(l.no, `element line ${n} has ${l.text.length} columns, a TLE line has ${TLE_LINE_LENGTH}`);
  const given = l.text[TLE_LINE_LENGTH - 1];
  const want = tleChecksum(l.text);
  if (given !== String(want)) throw new TleError(l.no, `checksum '${given}' in column 69, the line sums to ${want}`);
}

/** Columns 19-20 two-digit year (57-99: 19xx, as NORAD has it), 21-32 day of year with fraction. */
function epochOf(l1: { text: string; no: number }): Date {
  const yy = l1.text.slice(18, 20);
  const ddd = l1.text.slice(20, 32).trim();
  if (!/^\d\d$/.test(yy) || !/^\d{1,3}(\.\d+)?$/.test(ddd)) throw new TleError(l1.no, `epoch '${l1.text.slice(18, 32)}' (columns 19-32) is not YYDDD.DDDDDDDD`);
  const year = Number(yy) < 57 ? 2000 + Number(yy) : 1900 + Number(yy);
  const day = Number(ddd);
  const daysInYear = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 366 : 365;
  if (day < 1 || day >= daysInYear + 1) throw new TleError(l1.no, `epoch day ${ddd} is not a day of ${year}`);
  return new Date(Date.UTC(year, 0, 1) + Math.round((day - 1) * 86_400_000));
}
