import type { TopLevelSpec } from 'vega-lite';
import { renderSvgs } from '../report/plots.ts';
import type { CampaignRow } from './csv.ts';
import { statsByStation } from './stats.ts';

/**
 * campaign.html: the figures per station (availability, key per pass, totals, average
 * key rate), the key-per-pass distribution per station and key against elevation, and
 * the failed passes. Plots are Vega-Lite rendered to inline SVG by vega, as the HIL
 * report does (no script, no network). Made from the rows alone, so a merge of shards
 * gives the page one run gives.
 */
const STYLE = 'body{font-family:sans-serif;margin:20px;max-width:1100px;color:#222}table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}.plot{margin:10px 0}.fail{background:#fbb}';
const CONFIG = { background: 'white', font: 'sans-serif', axis: { grid: true, gridColor: '#e3e3e3' }, title: { fontSize: 13, anchor: 'start' } };
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export interface CampaignPageInfo {
  title: string;
  /** Lines under the title (window, seed, engine). */
  notes: string[];
}

function plots(rows: readonly CampaignRow[]): TopLevelSpec[] {
  const values = rows.flatMap((r) => ('error' in r.result ? [] : [{ station: r.station, keyKbit: r.result.finalKeyBits / 1000, elevationDeg: r.maxElevationDeg, startUtc: r.startUtc }]));
  if (values.length === 0) return [];
  const distribution = {
    title: 'Key per night pass by station',
    width: 620,
    config: CONFIG,
    data: { values },
    layer: [
      { mark: { type: 'boxplot', extent: 'min-max', opacity: 0.5 }, encoding: { x: { field: 'station', type: 'nominal', title: null }, y: { field: 'keyKbit', type: 'quantitative', title: 'final key per pass (kbit)' } } },
      { mark: { type: 'circle', size: 30, color: '#333' }, encoding: { x: { field: 'station', type: 'nominal' }, y: { field: 'keyKbit', type: 'quantitative' } } },
    ],
  };
  const byElevation = {
    title: 'Key per pass against maximum elevation',
    width: 620,
    height: 260,
    config: CONFIG,
    data: { values },
    mark: { type: 'circle', size: 40 },
    encoding: {
      x: { field: 'elevationDeg', type: 'quantitative', title: 'maximum elevation (deg)', scale: { domain: [0, 90] } },
      y: { field: 'keyKbit', type: 'quantitative', title: 'final key (kbit)' },
      color: { field: 'station', type: 'nominal', scale: { scheme: 'category10' } },
    },
  };
  return [distribution, byElevation] as unknown as TopLevelSpec[];
}

export function campaignHtml(rows: readonly CampaignRow[], info: CampaignPageInfo): string {
  const h: string[] = [`<!doctype html><html><head><meta charset="utf-8"><title>${esc(info.title)}</title><style>${STYLE}</style></head><body>`, `<h1>${esc(info.title)}</h1>`];
  for (const n of info.notes) h.push(`<p>${esc(n)}</p>`);
  h.push('<table><tr><th>station</th><th>night passes</th><th>with key</th><th>failed</th><th>availability</th><th>total key (kbit)</th><th>key per pass (kbit): mean</th><th>min</th><th>max</th><th>average key rate (bit/s)</th><th>mean QBER</th></tr>');
  for (const { station, stats: s } of statsByStation(rows)) {
    const td = (x: string) => `<td class="num">${x}</td>`;
    h.push(
      `<tr${station === 'all' ? ' style="font-weight:bold"' : ''}><td>${esc(station)}</td>${td(String(s.nightPasses))}${td(String(s.passesWithKey))}${td(String(s.failedPasses))}${td(`${(100 * s.availability).toFixed(0)} %`)}${td((s.totalKeyBits / 1000).toFixed(1))}${td((s.meanKeyPerPassBits / 1000).toFixed(1))}${td((s.minKeyPerPassBits / 1000).toFixed(1))}${td((s.maxKeyPerPassBits / 1000).toFixed(1))}${td(s.averageKeyRateBitsPerS.toFixed(0))}${td(`${(100 * s.meanQber).toFixed(2)} %`)}</tr>`,
    );
  }
  h.push('</table>');
  h.push('<p>Published (Jinan-1, Nature 640, 47 (2025)): 250 kbit to 1.07 Mbit per pass, about 3 kbit/s on average. Availability: night passes that made key over all night passes (a low pass may make none).</p>');
  const specs = plots(rows);
  let svgs: string[];
  try {
    svgs = renderSvgs(specs);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    svgs = specs.map(() => `<p class="fail">plot not rendered: ${esc(why)}</p>`);
  }
  for (const s of svgs) h.push(`<div class="plot">${s}</div>`);
  const failed = rows.filter((r) => 'error' in r.result);
  if (failed.length > 0) {
    h.push(`<h2>Failed passes (${failed.length})</h2><table><tr><th>station</th><th>start (UTC)</th><th>error</th></tr>`);
    for (const r of failed) h.push(`<tr class="fail"><td>${esc(r.station)}</td><td>${esc(r.startUtc)}</td><td>${esc('error' in r.result ? r.result.error : '')}</td></tr>`);
    h.push('</table>');
  }
  h.push('</body></html>');
  return h.join('\n') + '\n';
}
