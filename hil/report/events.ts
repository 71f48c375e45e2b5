import type { KeyMark } from './plots.ts';
import { formatFields } from './precision.ts';
import type { SuiteData } from './suite-data.ts';

/**
 * A suite's events for the report: grouped by kind (750 SOURCE_FRAME rows are one
 * collapsible line "SOURCE_FRAME × 750"), filterable by severity and name in the page,
 * and the key ones (lock lost, faults, safe mode, mode changes) for the plots' time axis.
 */
type Event = SuiteData['events'][number];

/** Rows shown per kind; the count in the summary line is always the full one. */
const ROWS_PER_KIND = 200;

/** Mode changes, lock lost, faults, safe mode, and anything of medium or high severity. */
export function isKeyEvent(e: Event): boolean {
  if (e.name.startsWith('limit:')) return false;
  return /^(MODE_CHANGED|FINE_LOCK_LOST|RELOCK_FAILED|SAFE_|FAULT_)/.test(e.name) || e.severity === 'medium' || e.severity === 'high';
}

export function keyMarks(events: Event[]): KeyMark[] {
  return events.filter(isKeyEvent).map((e) => ({ tMs: e.t, label: e.name === 'MODE_CHANGED' && typeof e.fields.to === 'string' ? `mode → ${e.fields.to}` : e.name }));
}

export interface EventKind {
  name: string;
  count: number;
  severities: string[];
  events: Event[];
}

/** Events grouped by name, in order of first occurrence. */
export function eventKinds(events: Event[]): EventKind[] {
  const kinds = new Map<string, EventKind>();
  for (const e of events) {
    let k = kinds.get(e.name);
    if (!k) kinds.set(e.name, (k = { name: e.name, count: 0, severities: [], events: [] }));
    k.count++;
    const sev = e.severity ?? 'none';
    if (!k.severities.includes(sev)) k.severities.push(sev);
    k.events.push(e);
  }
  return [...kinds.values()];
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The events block: one <details> per kind, rows inside, data-* attributes for the filter. */
export function eventsHtml(events: Event[]): string {
  const kinds = eventKinds(events);
  if (kinds.length === 0) return '<p>no events</p>';
  const h: string[] = ['<div class="events">'];
  for (const k of kinds) {
    h.push(`<details class="evkind" data-name="${esc(k.name.toLowerCase())}" data-sev="${esc(k.severities.join(' '))}"><summary><code>${esc(k.name)}</code> × ${k.count} <span class="sev">${esc(k.severities.join(', '))}</span></summary>`);
    h.push('<table><tr><th>t (s)</th><th>severity</th><th>fields</th></tr>');
    for (const e of k.events.slice(0, ROWS_PER_KIND)) h.push(`<tr data-sev="${esc(e.severity ?? 'none')}"><td>${(e.t / 1000).toFixed(3)}</td><td>${esc(e.severity ?? '')}</td><td><code>${esc(formatFields(e.fields))}</code></td></tr>`);
    h.push('</table>');
    if (k.count > ROWS_PER_KIND) h.push(`<p>… ${k.count - ROWS_PER_KIND} more not listed</p>`);
    h.push('</details>');
  }
  h.push('</div>');
  return h.join('\n');
}

/** The page's filter bar and its script: hides kinds and rows that do not match. */
export const EVENTS_FILTER_HTML = `<div id="evfilter" class="filter">Events filter: severity <select id="evsev"><option value="">any</option><option>info</option><option>low</option><option>medium</option><option>high</option><option>none</option></select>
name <input id="evname" type="search" placeholder="e.g. FAULT_ or LOCK"> <span id="evshown"></span></div>
<script>
document.addEventListener('DOMContentLoaded', function () {
  var sev = document.getElementById('evsev'), name = document.getElementById('evname'), shown = document.getElementById('evshown');
  function apply() {
    var s = sev.value, n = name.value.trim().toLowerCase(), kinds = 0;
    document.querySelectorAll('details.evkind').forEach(function (d) {
      var ok = (!n || d.dataset.name.indexOf(n) >= 0) && (!s || d.dataset.sev.split(' ').indexOf(s) >= 0);
      d.style.display = ok ? '' : 'none';
      if (ok) kinds++;
      d.querySelectorAll('tr[data-sev]').forEach(function (r) { r.style.display = !s || r.dataset.sev === s ? '' : 'none'; });
    });
    shown.textContent = kinds + ' event kinds shown';
  }
  sev.addEventListener('change', apply);
  name.addEventListener('input', apply);
  apply();
});
</script>`;
