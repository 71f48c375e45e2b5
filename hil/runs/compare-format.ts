import type { Comparison, FigureMove, VerdictChange } from './compare.ts';

/** A comparison as people read it: text for the terminal, a page for the run folder (pure). */

const verdict = (v: string | null) => v ?? 'absent';
const num = (v: number | null) => (v === null ? '-' : Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString());
const pct = (m: FigureMove) => (m.relative === null ? (m.from === null ? 'new' : 'gone') : Number.isFinite(m.relative) ? `${m.relative >= 0 ? '+' : ''}${(m.relative * 100).toFixed(1)} %` : 'from 0');
const changeLine = (c: VerdictChange) => `  ${c.regressed ? 'REGRESSED ' : ''}${c.test}: ${verdict(c.from)} -> ${verdict(c.to)}`;

export function comparisonText(c: Comparison): string {
  const lines = [`compare ${c.a} -> ${c.b} (tolerance ${(c.tolerance * 100).toPrecision(3).replace(/\.?0+$/, '')} %)`];
  if (c.verdictChanges.length === 0 && c.moved.length === 0) {
    lines.push(`no change: every verdict the same, ${c.steady} figures within the tolerance`);
    return lines.join('\n');
  }
  lines.push(c.verdictChanges.length === 0 ? 'verdicts: unchanged' : `verdicts changed (${c.verdictChanges.length}):`);
  for (const v of c.verdictChanges) lines.push(changeLine(v));
  lines.push(c.moved.length === 0 ? `figures: none moved (${c.steady} within the tolerance)` : `figures moved (${c.moved.length}; ${c.steady} within the tolerance):`);
  const w = Math.max(...c.moved.map((m) => m.figure.length), 0);
  for (const m of c.moved) lines.push(`  ${m.figure.padEnd(w)}  ${num(m.from).padStart(12)} -> ${num(m.to).padEnd(12)} ${pct(m)}`);
  if (c.regressed) lines.push(`REGRESSION: ${c.verdictChanges.filter((v) => v.regressed).length} test(s) passed in ${c.a} and failed in ${c.b}`);
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

export function comparisonHtml(c: Comparison): string {
  const rows = (cells: string[][]) => cells.map((r) => `<tr>${r.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('\n');
  const verdicts = c.verdictChanges.length === 0 ? '<p>Every test has the same verdict.</p>' : `<table><tr><th>test</th><th>${esc(c.a)}</th><th>${esc(c.b)}</th></tr>\n${c.verdictChanges.map((v) => `<tr class="${v.regressed ? 'regressed' : ''}"><td>${esc(v.test)}</td><td>${esc(verdict(v.from))}</td><td>${esc(verdict(v.to))}</td></tr>`).join('\n')}</table>`;
  const figures = c.moved.length === 0 ? `<p>No figure moved beyond the tolerance (${c.steady} compared).</p>` : `<table><tr><th>figure</th><th>${esc(c.a)}</th><th>${esc(c.b)}</th><th>change</th></tr>\n${rows(c.moved.map((m) => [m.figure, num(m.from), num(m.to), pct(m)]))}</table><p>${c.steady} more figures within the tolerance.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>compare ${esc(c.a)} -> ${esc(c.b)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}td:nth-child(n+2){font-variant-numeric:tabular-nums}.regressed td{background:#fdd}.verdict{font-weight:bold}</style></head>
<body><h1>Run comparison</h1>
<p>${esc(c.a)} &rarr; ${esc(c.b)}; relative tolerance ${esc(String(c.tolerance))}</p>
<p class="verdict">${c.regressed ? 'REGRESSION: a test that passed now fails' : c.verdictChanges.length === 0 && c.moved.length === 0 ? 'No change' : 'No regression'}</p>
<h2>Verdicts</h2>
${verdicts}
<h2>Figures</h2>
${figures}
</body></html>
`;
}
