import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { linePlot, type Series, timeline } from './svg.ts';

/**
 * The HTML report of a HIL run: results from vitest's JUnit XML, then per suite the
 * plots of the telemetry that matters (pointing error, mode timeline, link loss /
 * received power, QBER and key when present), limit violations with time and value,
 * events, and the capture files with their rejected-frame counts.
 */
interface SuiteData {
  suite: string;
  bench: string;
  clock: string;
  seed: number;
  endMs: number;
  boards: { name: string; port: string; capture: string; rejectedFrames: number; driver: Record<string, number> }[];
  items: Record<string, [number, number | string | boolean][]>;
  events: { t: number; name: string; severity?: string; fields: Record<string, unknown> }[];
  limits: { t: number; item: string; value: number; from: string; to: string; detail: string }[];
}

interface TestCase {
  suite: string;
  name: string;
  timeS: number;
  failure?: string;
  skipped: boolean;
}

/** Plot groups: title and item-name patterns, in the order engineers look at them. */
const GROUPS: { title: string; match: RegExp; log?: boolean }[] = [
  { title: 'Pointing error (urad)', match: /^(apt\.SPOT_[XY]_URAD|PAYLOAD_HK\.pointingError(Rms|Mean|Max)Urad)$/, log: true },
  { title: 'Mirror position (urad)', match: /^(apt\.FSM_POS_[XY]_URAD|PAYLOAD_HK\.fsm[XY]Urad)$/ },
  { title: 'Link: received power (dBm)', match: /^lct\.RX_POWER_DBM$/ },
  { title: 'Link loss (dB)', match: /^QKD_HK\.lossDb$/ },
  { title: 'Link: bit error ratio (log10)', match: /^lct\.BER_LOG10$/ },
  { title: 'Body pointing error (urad)', match: /^acs\.ATT_ERR_URAD$/ },
  { title: 'Laser temperature (degC)', match: /^(qsrc\.LASER_TEMP_C|PAYLOAD_HK\.laserTempC)$/ },
  { title: 'QBER', match: /^QKD_HK\..*qber.*$/i },
  { title: 'Key', match: /^QKD_HK\..*(key|Key).*$/ },
];

export function parseJunit(xml: string): TestCase[] {
  const out: TestCase[] = [];
  const re = /<testcase\s+([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    // (?:^|\s): `name=` must not match inside `classname=`.
    const attr = (n: string) => new RegExp(`(?:^|\\s)${n}="([^"]*)"`).exec(m[1])?.[1] ?? '';
    const body = m[3] ?? '';
    const fail = /<failure[^>]*message="([^"]*)"/.exec(body)?.[1] ?? (/<failure/.test(body) ? 'failed' : undefined);
    out.push({ suite: attr('classname'), name: unxml(attr('name')), timeS: Number(attr('time')) || 0, failure: fail ? unxml(fail) : undefined, skipped: /<skipped/.test(body) });
  }
  return out;
}

function unxml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function buildReport(reportDir: string, title = 'HIL regression report'): string {
  const junitPath = join(reportDir, 'junit.xml');
  const tests = existsSync(junitPath) ? parseJunit(readFileSync(junitPath, 'utf8')) : [];
  const dataDir = join(reportDir, 'data');
  const suites: SuiteData[] = existsSync(dataDir)
    ? readdirSync(dataDir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => JSON.parse(readFileSync(join(dataDir, f), 'utf8')) as SuiteData)
    : [];
  const passed = tests.filter((t) => !t.failure && !t.skipped).length;
  const failed = tests.filter((t) => t.failure).length;
  const h: string[] = [];
  h.push(`<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font-family:sans-serif;margin:20px;max-width:1000px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}
.pass{color:#2a7d2a}.fail{color:#c62828;font-weight:bold}.red{background:#fdd}.yellow{background:#ffd}.green{background:#dfd}</style></head><body>`);
  h.push(`<h1>${esc(title)}</h1><p>${new Date().toISOString()} — ${passed} passed, ${failed} failed, ${tests.length - passed - failed} skipped</p>`);
  h.push('<h2>Results</h2><table><tr><th>suite</th><th>test</th><th>result</th><th>time s</th></tr>');
  for (const t of tests) {
    h.push(`<tr><td>${esc(t.suite)}</td><td>${esc(t.name)}</td><td class="${t.failure ? 'fail' : 'pass'}">${t.failure ? `FAIL: ${esc(t.failure.slice(0, 300))}` : t.skipped ? 'skipped' : 'pass'}</td><td>${t.timeS.toFixed(3)}</td></tr>`);
  }
  h.push('</table>');
  for (const s of suites) {
    h.push(`<h2>${esc(s.suite)}</h2><p>bench <b>${esc(s.bench)}</b>, ${s.clock === 'sim' ? 'simulated' : 'wall'} time, seed ${s.seed}, ${(s.endMs / 1000).toFixed(2)} s of bench time</p>`);
    h.push('<table><tr><th>board</th><th>port</th><th>rejected frames</th><th>requests</th><th>retries</th><th>timeouts</th><th>telemetry frames</th><th>telemetry lost</th><th>capture</th></tr>');
    for (const b of s.boards) {
      h.push(`<tr><td>${esc(b.name)}</td><td>${esc(b.port)}</td><td>${b.rejectedFrames}</td><td>${b.driver.requests}</td><td>${b.driver.retries}</td><td>${b.driver.timeouts}</td><td>${b.driver.telemetryFrames}</td><td>${b.driver.telemetryLost}</td><td><code>${esc(b.capture)}</code></td></tr>`);
    }
    h.push('</table>');
    const mode = s.items['PAYLOAD_HK.mode'];
    if (mode) h.push(timeline('Payload mode', mode.map(([t, v]) => [t, String(v)]), s.endMs));
    for (const g of GROUPS) {
      const series: Series[] = Object.entries(s.items)
        .filter(([n, pts]) => g.match.test(n) && pts.some((p) => typeof p[1] === 'number'))
        .map(([n, pts]) => ({ name: n, points: pts.filter((p): p is [number, number] => typeof p[1] === 'number') }));
      if (series.length > 0) h.push(`<div>${linePlot(g.title, series, [], { log: g.log })}</div>`);
    }
    h.push('<h3>Limit violations</h3>');
    if (s.limits.length === 0) h.push('<p>none</p>');
    else {
      h.push('<table><tr><th>t s</th><th>item</th><th>value</th><th>change</th><th>bound</th></tr>');
      for (const l of s.limits) h.push(`<tr class="${l.to}"><td>${(l.t / 1000).toFixed(3)}</td><td>${esc(l.item)}</td><td>${l.value}</td><td>${l.from} → ${l.to}</td><td>${esc(l.detail)}</td></tr>`);
      h.push('</table>');
    }
    const evs = s.events.filter((e) => !e.name.startsWith('limit:'));
    if (evs.length > 0) {
      h.push('<h3>Events</h3><table><tr><th>t s</th><th>event</th><th>fields</th></tr>');
      for (const e of evs.slice(0, 500)) h.push(`<tr><td>${(e.t / 1000).toFixed(3)}</td><td>${esc(e.name)}</td><td><code>${esc(JSON.stringify(e.fields))}</code></td></tr>`);
      h.push('</table>');
    }
  }
  h.push('</body></html>');
  const out = join(reportDir, 'report.html');
  writeFileSync(out, h.join('\n'));
  return out;
}
