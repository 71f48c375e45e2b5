import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { KEY_RATE_BIN_S, type KeyRatePoint } from '../mission/key-rate.ts';
import { renderSvgs, timePlotSpec, type PlotGroup } from './plots.ts';

/**
 * The report of one pass (npm run pass -- --report DIR): the summary's figures and two
 * plots made by the HIL report's own plot code (Vega-Lite rendered to SVG by vega, no
 * browser, no network): the key rate over the pass and the channel loss.
 */
export interface PassReportInput {
  title: string;
  /** Figures shown in the header table, in order. */
  figures: [string, string][];
  keyRate: KeyRatePoint[];
  /** Channel loss over the pass: [seconds after the pass start, dB]. */
  lossDb: [number, number][];
}

/** The key rate as one bar per bin (a rate over an interval, not a sample). */
function keyRateSpec(rate: KeyRatePoint[], endMs: number): TopLevelSpec {
  const binS = rate.length > 1 ? rate[1].tS - rate[0].tS : KEY_RATE_BIN_S;
  return {
    width: 620,
    height: 170,
    title: `Key rate (final key of the blocks delivered in each ${binS} s)`,
    config: { background: 'white', font: 'sans-serif', axis: { grid: true, gridColor: '#e3e3e3' }, title: { fontSize: 13, anchor: 'start' } },
    data: { values: rate.map((p) => ({ from: p.tS, to: p.tS + binS, rate: p.keyBitsPerS })) },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: { field: 'from', type: 'quantitative', title: 'time since the pass start (s)', scale: { domain: [0, Math.max(endMs / 1000, binS)] } },
      x2: { field: 'to' },
      y: { field: 'rate', type: 'quantitative', title: 'key rate (bit/s)' },
      y2: { datum: 0 },
    },
  } as TopLevelSpec;
}
const LOSS: PlotGroup = { title: 'Channel loss (detector efficiency included)', unit: 'dB', match: /^$/ };
const STYLE = 'body{font-family:sans-serif;margin:20px;max-width:1000px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f3f3f3}.plot{margin:10px 0}';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Writes DIR/pass.html; returns its path. A plot that cannot be rendered is said so in its place. */
export function writePassReport(dir: string, r: PassReportInput): string {
  const endMs = Math.max(...r.keyRate.map((p) => (p.tS + KEY_RATE_BIN_S) * 1000), ...r.lossDb.map(([t]) => t * 1000));
  const specs = [keyRateSpec(r.keyRate, endMs), timePlotSpec(LOSS, [{ name: 'loss', points: r.lossDb.map(([t, db]) => [t * 1000, db]) }], [], endMs)].filter((s): s is TopLevelSpec => s !== null);
  let svgs: string[];
  try {
    svgs = renderSvgs(specs);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    svgs = specs.map(() => `<p>plot not rendered: ${esc(why)}</p>`);
  }
  const html = [
    `<!doctype html><html><head><meta charset="utf-8"><title>${esc(r.title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${esc(r.title)}</h1><table>`,
    ...r.figures.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`),
    '</table>',
    ...svgs.map((s) => `<div class="plot">${s}</div>`),
    '</body></html>',
  ].join('\n');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'pass.html');
  writeFileSync(out, html);
  return out;
}
