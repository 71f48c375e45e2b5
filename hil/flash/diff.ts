import { type BoardConfig, type ConfigSchema, effectiveParameter } from './schema.ts';

/**
 * Readable difference between what a board runs now and what a file would flash.
 * Parameters compare by effective value (a parameter a config leaves out runs at its
 * dictionary default); tables compare slot by slot.
 */
export interface DiffLine {
  path: string;
  kind: 'changed' | 'same';
  from: string;
  to: string;
}

export interface ConfigDiff {
  lines: DiffLine[];
  changed: number;
  same: number;
}

function fmt(v: number, unit: string | undefined, isDefault: boolean): string {
  return `${v}${unit ? ` ${unit}` : ''}${isDefault ? ' (default)' : ''}`;
}

/** `current` null = the board boots its safe defaults (no valid bank). */
export function diffConfigs(current: BoardConfig | null, next: BoardConfig, schema: ConfigSchema): ConfigDiff {
  const cur: Pick<BoardConfig, 'parameters' | 'tables'> = current ?? { parameters: {}, tables: {} };
  const lines: DiffLine[] = [];
  for (const p of schema.layout.parameters) {
    const a = effectiveParameter(cur, p);
    const b = effectiveParameter(next, p);
    // Object.is: a changed sign of zero is a change too (the image differs).
    const kind = Object.is(a, b) ? 'same' : 'changed';
    lines.push({ path: `parameters.${p.name}`, kind, from: fmt(a, p.unit, !(p.name in cur.parameters)), to: fmt(b, p.unit, !(p.name in next.parameters)) });
  }
  for (const t of schema.layout.tables) {
    const a = cur.tables[t.name] ?? [];
    const b = next.tables[t.name] ?? [];
    let differ = 0;
    let first = -1;
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] !== b[i]) {
        differ++;
        if (first < 0) first = i;
      }
    }
    const size = (x: unknown[]) => `${x.length} entr${x.length === 1 ? 'y' : 'ies'}`;
    if (differ === 0) lines.push({ path: `tables.${t.name}`, kind: 'same', from: size(a), to: size(b) });
    else {
      const at = (x: (string | number)[], i: number) => (i < x.length ? String(x[i]) : '(none)');
      lines.push({
        path: `tables.${t.name}`,
        kind: 'changed',
        from: size(a),
        to: `${size(b)}; ${differ} slot${differ === 1 ? '' : 's'} differ, first [${first}]: ${at(a, first)} -> ${at(b, first)}`,
      });
    }
  }
  const changed = lines.filter((l) => l.kind === 'changed').length;
  return { lines, changed, same: lines.length - changed };
}

/** Text for people: changed lines aligned, a count of unchanged ones (all of them with `all`). */
export function formatDiff(d: ConfigDiff, opts: { all?: boolean } = {}): string {
  const shown = d.lines.filter((l) => opts.all || l.kind === 'changed');
  const w = Math.max(0, ...shown.map((l) => l.path.length));
  const out = shown.map((l) => (l.kind === 'changed' ? `  ~ ${l.path.padEnd(w)}  ${l.from}  ->  ${l.to}` : `    ${l.path.padEnd(w)}  ${l.to}`));
  if (d.changed === 0) out.unshift('  (no change: the board already runs these values)');
  if (!opts.all && d.same > 0) out.push(`  ${d.same} unchanged`);
  return out.join('\n');
}
