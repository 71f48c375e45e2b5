// The operator console's page: plain ES modules, no build step. The dictionary comes from
// /api/dictionary, live data from /ws (a snapshot, then a batch every ~50 ms), commands
// go to POST /api/command (the server sends them through operations.ts sendCommand).
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { createBoardsView } from './boards.js';
import { createLimitsView } from './limits.js';
import { createScenarioView } from './scenario.js';
import { recordApplied } from './measure.js';
import { startReplay } from './replay.js';
import { onReset } from './views.js';

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
};

const dict = await (await fetch('/api/dictionary')).json();
const boardsView = await createBoardsView($('#view-boards'), { el, fmt });
const limitsView = createLimitsView($('#view-limits'), { el, fmt, dict });
const scenarioView = await createScenarioView($('#view-scenario'), { el, fmt });

// ------------------------------------------------------------------ tabs
let currentView = 'telemetry';
for (const b of document.querySelectorAll('#tabs button')) {
  b.addEventListener('click', () => showView(b.dataset.view));
}
function showView(name) {
  currentView = name;
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.view === name);
  for (const v of document.querySelectorAll('.view')) v.classList.toggle('active', v.id === `view-${name}`);
  if (name === 'plots') plots.show();
  if (name === 'events') renderEvents();
}

// ------------------------------------------------------------------ formatting
function fmt(v) {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e7) ? v.toExponential(3) : String(Number(v.toPrecision(6)));
  }
  if (v === undefined || v === null) return '—';
  return String(v);
}
const fieldText = (fields) => Object.entries(fields ?? {}).map(([k, v]) => `${k}=${fmt(v)}`).join(' ');

// ------------------------------------------------------------------ telemetry
const telemetry = $('#view-telemetry');
const packetsBox = el('div', { class: 'hk-packets' });
telemetry.append(packetsBox);
const hkView = new Map(); // packet name -> { count, meta, cells: Map(field -> {row, cell}) }
for (const h of dict.housekeeping) {
  const tbody = el('tbody');
  const cells = new Map();
  for (const f of h.fields) {
    const cell = el('td', { class: 'value', 'data-item': `${h.name}.${f.name}`, text: '—' });
    const row = el('tr', { title: f.description }, el('td', { text: f.name }), cell, el('td', { class: 'unit', text: f.unit ?? '' }));
    tbody.append(row);
    cells.set(f.name, { row, cell, limited: !!f.limits });
  }
  const meta = el('span', { class: 'meta', text: 'no packet yet' });
  packetsBox.append(el('section', { class: 'hk', 'data-packet': h.name }, el('h2', {}, `${h.name} (SID ${h.sid}) `, meta), el('table', {}, tbody)));
  hkView.set(h.name, { count: 0, meta, cells });
}
onReset(() => {
  for (const v of hkView.values()) {
    v.count = 0;
    v.meta.textContent = 'no packet yet';
    delete v.meta.dataset.count;
    for (const { row, cell } of v.cells.values()) {
      cell.textContent = '—';
      row.className = '';
    }
  }
});
/** Counts the batch's packets of each structure and shows the last one (the DOM once per batch, whatever the packet rate). */
function showPackets(list) {
  const last = new Map();
  for (const p of list) {
    const v = hkView.get(p.packet);
    if (!v) continue;
    v.count++;
    last.set(p.packet, p);
  }
  for (const p of last.values()) showPacket(p);
}
function showPacket(p) {
  const v = hkView.get(p.packet);
  v.meta.textContent = `#${v.count} at ${fmt(Math.round(p.t))} ms`;
  v.meta.dataset.count = String(v.count);
  for (const [name, { row, cell, limited }] of v.cells) {
    cell.textContent = fmt(p.fields[name]);
    const level = p.limits[name] ?? (limited ? 'green' : null);
    row.className = level ? `limit-${level}` : '';
  }
}

// ------------------------------------------------------------------ commands
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const HEX_INT = /^0x[0-9a-f]+$/i;
/** A form value checked as the dictionary types it; returns an error message naming the field, or null. */
function checkField(cmd, f, raw) {
  const where = `${cmd}: field '${f.name}'`;
  switch (f.kind) {
    case 'uint':
    case 'int':
    case 'float': {
      const s = raw.trim();
      let v;
      if (f.kind !== 'float' && HEX_INT.test(s)) v = Number.parseInt(s.slice(2), 16);
      else if (DECIMAL.test(s)) v = Number(s);
      else return `${where}: expected a number${f.unit ? ` in ${f.unit}` : ''}, got ${JSON.stringify(raw)}`;
      if (f.integer && !Number.isInteger(v)) return `${where}: expected a whole number, got ${JSON.stringify(raw)}`;
      if (f.range && (v < f.range[0] || v > f.range[1])) return `${where}: ${s} is out of range ${f.range[0]}..${f.range[1]}${f.unit ? ` ${f.unit}` : ''}`;
      return null;
    }
    case 'bytes': {
      const hex = raw.trim().replace(/^0x/i, '');
      if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return `${where}: expected bytes in hex (an even number of digits), got ${JSON.stringify(raw)}`;
      if (f.maxLength !== undefined && hex.length / 2 > f.maxLength) return `${where}: ${hex.length / 2} bytes, at most ${f.maxLength}`;
      return null;
    }
    case 'string':
      if (f.maxLength !== undefined && raw.length > f.maxLength) return `${where}: ${raw.length} characters, at most ${f.maxLength}`;
      return null;
    default:
      return null;
  }
}

function reportLine(r) {
  const cls = r.kind === 'reply' ? 'reply' : r.name.endsWith('_FAIL') ? 'fail' : 'ok';
  const tail = r.kind === 'reply' ? ` ${fieldText(r.fields)}` : r.name.endsWith('_FAIL') ? ` ${r.fields.failureCode}: ${r.fields.detail ?? ''}` : '';
  return el('div', { class: `report ${cls}`, 'data-report': r.name, text: `${fmt(Math.round(r.t * 1000) / 1000)} ms  ${r.name}${tail}` });
}

const commands = $('#view-commands');
for (const c of dict.commands) {
  const inputs = [];
  const error = el('div', { class: 'error', role: 'alert' });
  const reports = el('div', { class: 'reports' });
  const form = el('form', { 'data-command': c.name, novalidate: '' });
  form.append(el('h3', {}, c.name, c.hazardous ? el('span', { class: 'hazard', text: '⚠ hazardous: asks for confirmation' }) : null), el('div', { class: 'desc', text: c.description }));
  for (const f of c.fields) {
    let input;
    if (f.kind === 'enum' || f.kind === 'bool') {
      input = el('select', { name: f.name });
      for (const s of f.kind === 'enum' ? f.states : ['true', 'false']) input.append(el('option', { value: s, text: s }));
    } else {
      input = el('input', { name: f.name, type: 'text', placeholder: f.range ? `${f.range[0]}..${f.range[1]}` : f.kind === 'bytes' ? 'hex, e.g. 0a0bff' : f.kind });
    }
    inputs.push({ f, input });
    const hint = [f.unit, f.range && `${f.range[0]}..${f.range[1]}`].filter(Boolean).join(', ');
    form.append(el('label', { title: f.description }, el('span', { text: f.name }), input, hint ? ` ${hint}` : null));
  }
  const send = el('button', { type: 'submit', text: 'Send' });
  form.append(send, error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const fields = {};
    for (const { f, input } of inputs) {
      const msg = checkField(c.name, f, input.value);
      if (msg) {
        error.textContent = msg;
        error.dataset.field = f.name;
        input.focus();
        return;
      }
      fields[f.name] = f.kind === 'string' ? input.value : input.value.trim();
    }
    let confirm = false;
    if (c.hazardous) {
      confirm = window.confirm(`${c.name} is hazardous: ${c.description}\nSend it?`);
      if (!confirm) {
        error.textContent = `${c.name}: not sent (not confirmed)`;
        return;
      }
    }
    send.disabled = true;
    reports.replaceChildren(el('div', { class: 'pending', text: `sending ${c.name}…` }));
    try {
      const res = await fetch('/api/command', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: c.name, fields, confirm }) });
      const out = await res.json();
      if (!res.ok) {
        reports.replaceChildren();
        error.textContent = out.error;
        if (out.field) error.dataset.field = out.field;
        return;
      }
      reports.replaceChildren(el('div', { class: `status-${out.status}`, 'data-status': out.status, text: `${c.name} seq ${out.seq}: ${out.status}` }), ...out.reports.map(reportLine));
    } catch (e) {
      reports.replaceChildren();
      error.textContent = `${c.name}: ${e.message}`;
    } finally {
      send.disabled = false;
    }
  });
  commands.append(el('div', { class: 'command' }, form, reports));
}

// ------------------------------------------------------------------ events
const SEV = ['info', 'low', 'medium', 'high'];
const events = [];
onReset(() => {
  events.length = 0;
  eventsDirty = true;
});
const MAX_EVENTS = 5000;
let eventsDirty = false;
function addEvents(list) {
  if (list.length === 0) return;
  events.push(...list);
  if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
  eventsDirty = true;
}
function renderEvents() {
  eventsDirty = false;
  const min = SEV.indexOf($('#event-severity').value);
  const q = $('#event-search').value.trim().toLowerCase();
  const hideFrames = $('#event-hide-frames').checked;
  const shown = events.filter((e) => {
    if (SEV.indexOf(e.severity) < min) return false;
    if (hideFrames && e.name === 'SOURCE_FRAME') return false;
    if (q && !`${e.name} ${fieldText(e.fields)}`.toLowerCase().includes(q)) return false;
    return true;
  });
  const rows = shown.slice(-500).reverse().map((e) => el('tr', { class: `sev-${e.severity}`, 'data-event': e.name }, el('td', { text: fmt(Math.round(e.t * 1000) / 1000) }), el('td', { text: e.severity }), el('td', { text: e.name }), el('td', { text: fieldText(e.fields) })));
  $('#event-rows').replaceChildren(...rows);
  $('#event-count').textContent = `${shown.length} of ${events.length} events`;
}
for (const id of ['#event-severity', '#event-search', '#event-hide-frames']) $(id).addEventListener('input', renderEvents);

// ------------------------------------------------------------------ plots
const hasField = (item) => {
  const [p, f] = item.split('.');
  return dict.housekeeping.some((h) => h.name === p && h.fields.some((x) => x.name === f));
};
const PLOTS = [
  { title: 'Pointing error (log scale)', unit: 'urad', log: true, items: ['PAYLOAD_HK.pointingErrorMeanUrad', 'PAYLOAD_HK.pointingErrorRmsUrad', 'PAYLOAD_HK.pointingErrorMaxUrad'] },
  { title: 'Channel loss', unit: 'dB', items: ['QKD_HK.lossDb'] },
  { title: 'QBER', unit: '', min0: true, items: ['QKD_HK.qber'] },
  { title: 'Key pool', unit: 'bits', min0: true, items: ['QKD_HK.keyPoolBits', 'QKD_HK.finalKeyBits'] },
  { title: 'Mode timeline', unit: 'mode', enumOf: 'PAYLOAD_HK.mode', items: ['PAYLOAD_HK.mode'] },
].map((p) => ({ ...p, items: p.items.filter(hasField) })).filter((p) => p.items.length > 0);
/** The states of an enum field of the housekeeping (the mode timeline plots their index). */
function statesOf(item) {
  const [p, f] = item.split('.');
  return dict.housekeeping.find((h) => h.name === p)?.fields.find((x) => x.name === f)?.states ?? [];
}
const COLORS = ['#1d6fd8', '#d8541d', '#2a9d3a'];
const MAX_POINTS = 3600;

const plots = {
  series: new Map(PLOTS.map((p) => [p, { t: [], ys: p.items.map(() => []) }])),
  charts: new Map(),
  visible: false,
  add(packet) {
    for (const p of PLOTS) {
      if (!p.items[0].startsWith(`${packet.packet}.`)) continue;
      const s = this.series.get(p);
      s.t.push(packet.t / 1000);
      p.items.forEach((item, i) => {
        const v = packet.fields[item.split('.')[1]];
        if (p.enumOf) {
          const k = statesOf(item).indexOf(v);
          s.ys[i].push(k >= 0 ? k : null);
        } else s.ys[i].push(typeof v === 'number' && !(p.log && v <= 0) ? v : null);
      });
      if (s.t.length > MAX_POINTS) {
        s.t.splice(0, s.t.length - MAX_POINTS);
        for (const y of s.ys) y.splice(0, y.length - MAX_POINTS);
      }
      p.dirty = true;
    }
  },
  show() {
    const box = $('#plots');
    if (this.charts.size === 0) {
      for (const p of PLOTS) {
        p.note = el('div', { class: 'empty' });
        const holder = el('div', { class: 'plot', 'data-plot': p.title }, el('h3', { text: p.title }), p.note);
        box.append(holder);
        const width = Math.max(300, holder.clientWidth - 20);
        const opts = {
          width,
          height: 240,
          scales: { x: { time: false }, y: p.enumOf ? { range: () => [-0.5, statesOf(p.enumOf).length - 0.5] } : p.log ? { distr: 3 } : p.min0 ? { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] } : {} },
          axes: [
            { label: 'bench time (s)' },
            p.enumOf
              ? { label: p.unit, size: 110, splits: () => statesOf(p.enumOf).map((_, k) => k), values: (u, splits) => splits.map((k) => statesOf(p.enumOf)[k] ?? '') }
              : { label: p.unit, size: 70 },
          ],
          series: [
            { label: 't (s)' },
            ...p.items.map((item, i) => ({
              label: item,
              stroke: COLORS[i % COLORS.length],
              width: 1.5,
              spanGaps: false,
              ...(p.enumOf ? { paths: uPlot.paths.stepped({ align: 1 }), value: (u, k) => (k == null ? '--' : (statesOf(p.enumOf)[k] ?? String(k))) } : {}),
            })),
          ],
        };
        const s = this.series.get(p);
        this.charts.set(p, new uPlot(opts, [s.t, ...s.ys], holder));
        p.dirty = false;
      }
    }
    this.refresh(true);
  },
  refresh(all = false) {
    if (currentView !== 'plots') return;
    for (const [p, chart] of this.charts) {
      if (!p.dirty && !all) continue;
      const s = this.series.get(p);
      chart.setData([s.t, ...s.ys]);
      p.dirty = false;
      const any = s.ys.some((y) => y.some((v) => v !== null));
      p.note.textContent = any ? '' : p.enumOf ? 'no packet yet' : p.items[0].startsWith('PAYLOAD_HK.') ? 'no positive values yet (log scale): the pointing error is 0 outside a pass' : `no ${p.items[0].split('.')[0]} yet: the payload reports it during a pass`;
    }
  },
};
onReset(() => {
  for (const [p, s] of plots.series) {
    s.t.length = 0;
    for (const y of s.ys) y.length = 0;
    p.dirty = true;
  }
});
onReset(() => limitsView.reset());

// ------------------------------------------------------------------ live data
function apply(msg) {
  if (msg.type === 'snapshot') {
    // A (re)connection: the server's recent history replaces what the page held.
    events.length = 0;
    for (const s of plots.series.values()) {
      s.t.length = 0;
      for (const y of s.ys) y.length = 0;
    }
  }
  showPackets(msg.tm);
  boardsView.apply(msg);
  limitsView.apply(msg);
  scenarioView.apply(msg);
  for (const p of msg.tm) plots.add(p);
  addEvents(msg.events);
  if (typeof msg.benchTimeMs === 'number') $('#bench-time').textContent = `bench ${fmt(Math.round(msg.benchTimeMs))} ms`;
  if (currentView === 'events' && eventsDirty) renderEvents();
  plots.refresh();
  recordApplied(msg); // ?measure=1 only (the console benchmark)
}

function connect() {
  const status = $('#status');
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.addEventListener('open', () => {
    status.textContent = 'live';
    status.className = 'status open';
  });
  ws.addEventListener('message', (ev) => apply(JSON.parse(ev.data)));
  ws.addEventListener('close', () => {
    status.textContent = 'disconnected: retrying';
    status.className = 'status closed';
    setTimeout(connect, 1000);
  });
}
// A replay (npm run console -- --replay RUN) feeds apply() from the recording instead.
if (!(await startReplay({ apply, el }))) connect();
document.body.dataset.ready = 'true';
