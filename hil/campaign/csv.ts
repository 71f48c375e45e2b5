/**
 * campaign.csv: one row per pass, the five columns first (station, startUtc,
 * maxElevationDeg, finalKeyBits, qber), then what else a reader needs. RFC 4180 quoting
 * (an error message may hold commas and quotes). The rows are sorted, and every value
 * is fixed-format, so the same passes give the same bytes however they were run.
 */
export const CSV_COLUMNS = ['station', 'startUtc', 'maxElevationDeg', 'finalKeyBits', 'qber', 'culminationUtc', 'durationS', 'siftedBits', 'seed', 'keySha256', 'error'] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** One pass's outcome: a key (error empty) or the error it failed with (the key fields empty). */
export interface CampaignRow {
  station: string;
  startUtc: string;
  maxElevationDeg: number;
  culminationUtc: string;
  seed: number;
  result: { finalKeyBits: number; qber: number; durationS: number; siftedBits: number; keySha256: string } | { error: string };
}

/** A CSV text that is not a campaign.csv: `line` is 1-based. */
export class CampaignCsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CampaignCsvError';
  }
}

const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function cells(r: CampaignRow): Record<CsvColumn, string> {
  const ok = 'error' in r.result ? null : r.result;
  return {
    station: r.station,
    startUtc: r.startUtc,
    maxElevationDeg: r.maxElevationDeg.toFixed(2),
    finalKeyBits: ok ? String(ok.finalKeyBits) : '',
    qber: ok ? ok.qber.toFixed(6) : '',
    culminationUtc: r.culminationUtc,
    durationS: ok ? String(ok.durationS) : '',
    siftedBits: ok ? String(ok.siftedBits) : '',
    seed: String(r.seed),
    keySha256: ok ? ok.keySha256 : '',
    error: 'error' in r.result ? r.result.error : '',
  };
}

export function formatCsv(rows: readonly CampaignRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const c = cells(r);
    lines.push(CSV_COLUMNS.map((k) => quote(c[k])).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Splits CSV text into records of fields (quoted fields may hold commas, quotes and newlines). */
function records(text: string): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      out.push({ fields, line: startLine });
      fields = [];
      field = '';
      line++;
      startLine = line;
    } else field += c;
  }
  if (quoted) throw new CampaignCsvError(startLine, 'a quoted field is not closed');
  if (field !== '' || fields.length > 0) {
    fields.push(field);
    out.push({ fields, line: startLine });
  }
  return out;
}

const num = (v: string, line: number, col: string, whole = false): number => {
  const x = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(x) || (whole && !Number.isInteger(x))) throw new CampaignCsvError(line, `${col} '${v}' is not a ${whole ? 'whole ' : ''}number`);
  return x;
};

/** Parses a campaign.csv written by formatCsv (its header first). */
export function parseCsv(text: string): CampaignRow[] {
  const recs = records(text);
  if (recs.length === 0 || recs[0].fields.join(',') !== CSV_COLUMNS.join(',')) {
    throw new CampaignCsvError(1, `header is not ${CSV_COLUMNS.join(',')}`);
  }
  return recs.slice(1).map(({ fields, line }) => {
    if (fields.length !== CSV_COLUMNS.length) throw new CampaignCsvError(line, `${fields.length} fields, expected ${CSV_COLUMNS.length}`);
    const c = Object.fromEntries(CSV_COLUMNS.map((k, i) => [k, fields[i]])) as Record<CsvColumn, string>;
    const base = { station: c.station, startUtc: c.startUtc, maxElevationDeg: num(c.maxElevationDeg, line, 'maxElevationDeg'), culminationUtc: c.culminationUtc, seed: num(c.seed, line, 'seed', true) };
    if (c.error !== '') return { ...base, result: { error: c.error } };
    return {
      ...base,
      result: { finalKeyBits: num(c.finalKeyBits, line, 'finalKeyBits', true), qber: num(c.qber, line, 'qber'), durationS: num(c.durationS, line, 'durationS', true), siftedBits: num(c.siftedBits, line, 'siftedBits', true), keySha256: c.keySha256 },
    };
  });
}
