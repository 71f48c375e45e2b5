import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { readMetrics } from '../metrics-read.ts';
import type { TestMetrics } from '../metrics.ts';
import { EVENTS_FILTER_HTML, eventsHtml, keyMarks } from './events.ts';
import { junitTiming, parseJunit, type TestCase } from './junit.ts';
import { groupSeries, PLOT_GROUPS, renderSvgs, timelineSpec, timePlotSpec } from './plots.ts';
import { formatFigure, formatValue } from './precision.ts';
import { boardsSeen, runIdentity, runProperties } from './run-info.ts';
import { readSuiteData, type SuiteData, suiteId } from './suite-data.ts';

export { parseJunit } from './junit.ts';

/**
 * The HTML report of a HIL run (reports/hil/report.html): a header with the run's
 * identity (the same pairs as the JUnit <properties>), the verdict counts, then a
 * section per suite that ran: its tests with verdicts, the figures it recorded
 * (recordMetrics), and per bench it opened the boards, plots with key events on the
 * time axis, limit violations and the events collapsed by kind (filterable).
 */
function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

type Verdict = 'pass' | 'fail' | 'skip';
const verdict = (t: TestCase): Verdict => (t.failure ? 'fail' : t.skipped ? 'skip' : 'pass');

const STYLE = `body{font-family:sans-serif;margin:20px;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.v-pass{background:#dfd}.v-fail{background:#fbb;font-weight:bold}.v-skip{background:#ffe3b0;color:#6b4a00}
.red{background:#fdd}.yellow{background:#ffd}.green{background:#dfd}.num{text-align:right;font-variant-numeric:tabular-nums}
section.suite{border-top:3px solid #446;margin-top:28px}.plot{margin:8px 0}
.filter{position:sticky;top:0;background:#eef;padding:6px;border:1px solid #ccd;z-index:1}
details.evkind{margin:2px 0}details.evkind summary{cursor:pointer}.sev{color:#777;font-size:12px}
.counts span{margin-right:14px;padding:2px 6px}`;

/** "durationS" -> ["duration", "s"]: figure names carry their unit as a suffix. */
function figureUnit(key: string): [string, string] {
  const m = /^(.*?)(S|Deg|Db|Urad|Bits|Dbm|Ms|Pct)(Min|Max|Mean|Rms)?$/.exec(key);
  const units: Record<string, string> = { S: 's', Deg: 'deg', Db: 'dB', Urad: 'µrad', Bits: 'bits', Dbm: 'dBm', Ms: 'ms', Pct: '%' };
  return m && m[1] ? [`${m[1]}${m[3] ?? ''}`, units[m[2]]] : [key, ''];
}

function metricsHtml(ms: TestMetrics[], tests: TestCase[]): string {
  if (ms.length === 0) return '';
  const h = ['<h3>Figures</h3><table><tr><th>test</th><th>figure</th><th>value</th><th>unit</th></tr>'];
  for (const m of ms) {
    const entries = Object.entries(m).filter(([k, v]) => k !== 'test' && v !== undefined);
    entries.forEach(([k, v], i) => {
      const [name, unit] = figureUnit(k);
      const test = i === 0 ? `<td rowspan="${entries.length}">${esc(tests.find((t) => t.name === m.test)?.name ?? m.test)}</td>` : '';
      h.push(`<tr>${test}<td>${esc(name)}</td><td class="num">${esc(formatFigure(v))}</td><td>${esc(unit)}</td></tr>`);
    });
  }
  h.push('</table>');
  return h.join('\n');
}

function testsHtml(tests: TestCase[]): string {
  if (tests.length === 0) return '<p>no test results in the JUnit file</p>';
  const h = ['<table><tr><th>test</th><th>verdict</th><th>time (s)</th></tr>'];
  for (const t of tests) {
    const v = verdict(t);
    const text = v === 'fail' ? `FAIL: ${esc(t.failure!.slice(0, 400))}` : v === 'skip' ? 'skipped' : 'pass';
    h.push(`<tr><td>${esc(t.name)}</td><td class="v-${v}">${text}</td><td class="num">${t.timeS.toFixed(3)}</td></tr>`);
  }
  h.push('</table>');
  return h.join('\n');
}

/** One bench of a suite (a suite file's fixture, or one mission pass): boards, plots, limits, events. */
function benchHtml(s: SuiteData, plot: (spec: TopLevelSpec | null) => string): string {
  const h: string[] = [];
  const sub = s.suite.includes(':') ? s.suite.split(':').slice(1).join(':').trim() : '';
  h.push(`<h3>${sub ? `Pass: ${esc(sub)}` : 'Bench'}</h3><p>bench <b>${esc(s.bench)}</b>, ${s.clock === 'sim' ? 'simulated' : 'wall'} time, seed ${s.seed}, ${(s.endMs / 1000).toFixed(2)} s of bench time</p>`);
  if (s.boards.length > 0) {
    h.push('<table><tr><th>board</th><th>port</th><th>rejected frames</th><th>requests</th><th>retries</th><th>timeouts</th><th>telemetry frames</th><th>telemetry lost</th><th>capture</th></tr>');
    for (const b of s.boards) {
      const d = b.driver;
      h.push(`<tr><td>${esc(b.name)}</td><td>${esc(b.port)}</td><td class="num">${b.rejectedFrames}</td><td class="num">${d.requests ?? ''}</td><td class="num">${d.retries ?? ''}</td><td class="num">${d.timeouts ?? ''}</td><td class="num">${d.telemetryFrames ?? ''}</td><td class="num">${d.telemetryLost ?? ''}</td><td><code>${esc(b.capture ?? '')}</code></td></tr>`);
    }
    h.push('</table>');
  }
  const marks = keyMarks(s.events);
  const mode = s.items['PAYLOAD_HK.mode'];
  if (mode) h.push(plot(timelineSpec('Payload mode', mode.map(([t, v]) => [t, String(v)]), s.endMs)));
  for (const g of PLOT_GROUPS) h.push(plot(timePlotSpec(g, groupSeries(g, s.items), marks, s.endMs)));
  if (s.limits.length > 0) {
    h.push('<h4>Limit violations</h4><table><tr><th>t (s)</th><th>item</th><th>value</th><th>change</th><th>bound</th></tr>');
    for (const l of s.limits) h.push(`<tr class="${esc(l.to)}"><td class="num">${(l.t / 1000).toFixed(3)}</td><td>${esc(l.item)}</td><td class="num">${esc(formatValue(l.value))}</td><td>${esc(l.from)} → ${esc(l.to)}</td><td>${esc(l.detail)}</td></tr>`);
    h.push('</table>');
  }
  const evs = s.events.filter((e) => !e.name.startsWith('limit:'));
  if (evs.length > 0) h.push(`<h4>Events (${evs.length})</h4>${eventsHtml(evs)}`);
  return h.join('\n');
}

function headerHtml(title: string, props: [string, string][], suites: SuiteData[], tests: TestCase[]): string {
  const count = (v: Verdict) => tests.filter((t) => verdict(t) === v).length;
  const runProps = props.filter(([k]) => !k.startsWith('board.'));
  const h = [`<h1>${esc(title)}</h1>`, '<table class="run">'];
  for (const [k, v] of runProps) h.push(`<tr><th>${esc(k)}</th><td>${k === 'commit' ? `<code>${esc(v)}</code>` : esc(v)}</td></tr>`);
  h.push('</table>');
  const boards = boardsSeen(suites);
  if (boards.length > 0) {
    h.push('<h3>Boards (as they identified themselves)</h3><table><tr><th>board</th><th>board id</th><th>hardware</th><th>firmware</th><th>serial</th><th>emulated</th><th>port</th></tr>');
    const p = new Map(props);
    for (const b of boards) {
      const g = (f: string) => esc(p.get(`board.${b.name}.${f}`) ?? '');
      h.push(`<tr><td>${esc(b.name)}</td><td>${g('boardId')}</td><td>${g('hwVersion')}</td><td>${g('fwVersion')}</td><td>${g('serialNumber')}</td><td>${g('emulated') === 'true' ? 'emulated' : 'real'}</td><td>${g('port')}</td></tr>`);
    }
    h.push('</table>');
  }
  // A verdict is coloured only when some test has it: "0 failed" is not an alarm.
  const badge = (v: Verdict, word: string) => `<span class="${count(v) > 0 ? `v-${v}` : ''}">${count(v)} ${word}</span>`;
  h.push(`<p class="counts">${badge('pass', 'passed')}${badge('fail', 'failed')}${badge('skip', 'skipped')} of ${tests.length} tests</p>`);
  return h.join('\n');
}

export function buildReport(reportDir: string, title?: string): string {
  const junitPath = join(reportDir, 'junit.xml');
  const xml = existsSync(junitPath) ? readFileSync(junitPath, 'utf8') : '';
  const tests = parseJunit(xml);
  const suites = readSuiteData(reportDir);
  const metrics = readMetrics(reportDir);
  const run = runIdentity(reportDir);
  // Start and duration from the JUnit file where run.json does not say (older runs).
  const timing = junitTiming(xml);
  const info = { ...run, startedAt: run.startedAt ?? timing.startedAt, durationS: run.durationS ?? timing.durationS };
  const props = runProperties(info, suites);
  const pageTitle = title ?? (info.name ? `HIL run ${info.name}` : 'HIL regression report');

  // Suites in the order they ran (JUnit), then any that left data but no results.
  const ids: string[] = [];
  for (const id of [...tests.map((t) => suiteId(t.suite)), ...suites.map((s) => suiteId(s.suite))]) if (!ids.includes(id)) ids.push(id);

  // Plots are collected as specs, rendered in one go, then put in their places.
  const specs: TopLevelSpec[] = [];
  const plot = (spec: TopLevelSpec | null) => {
    if (!spec) return '';
    specs.push(spec);
    return `<!--plot:${specs.length - 1}-->`;
  };
  const body: string[] = [];
  body.push('<nav><b>Suites:</b> ', ids.map((id) => `<a href="#suite-${esc(id)}">${esc(id)}</a>`).join(' · '), '</nav>');
  for (const id of ids) {
    const st = tests.filter((t) => suiteId(t.suite) === id);
    const names = new Set(st.map((t) => t.name));
    const counts = (['pass', 'fail', 'skip'] as const).map((v) => `${st.filter((t) => verdict(t) === v).length} ${v === 'pass' ? 'passed' : v === 'fail' ? 'failed' : 'skipped'}`).join(', ');
    body.push(`<section class="suite" id="suite-${esc(id)}" data-suite="${esc(id)}"><h2>Suite ${esc(id)}</h2><p>${counts}</p>`);
    body.push(testsHtml(st));
    body.push(metricsHtml(metrics.filter((m) => names.has(m.test)), st));
    // The suite file's own bench first, then its mission passes ("passes.hil.ts: nominal").
    const own = suites.filter((x) => suiteId(x.suite) === id).sort((a, b) => Number(a.suite.includes(':')) - Number(b.suite.includes(':')));
    for (const s of own) body.push(benchHtml(s, plot));
    body.push('</section>');
  }
  // A report without its plots beats no report: say so where each plot would be.
  let svgs: string[];
  try {
    svgs = renderSvgs(specs);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    process.stderr.write(`report: plots not rendered: ${why}\n`);
    svgs = specs.map(() => `<p class="v-fail">plot not rendered: ${esc(why)}</p>`);
  }
  const html = [
    `<!doctype html><html><head><meta charset="utf-8"><title>${esc(pageTitle)}</title><style>${STYLE}</style></head><body>`,
    headerHtml(pageTitle, props, suites, tests),
    EVENTS_FILTER_HTML,
    body.join('\n').replace(/<!--plot:(\d+)-->/g, (_m, i: string) => `<div class="plot">${svgs[Number(i)]}</div>`),
    '</body></html>',
  ].join('\n');
  const out = join(reportDir, 'report.html');
  writeFileSync(out, html);
  return out;
}
