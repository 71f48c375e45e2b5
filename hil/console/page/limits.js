// The limits panel (COSMOS's Limits Monitor): every item out of limits now and every limits
// transition since start, newest first. Built only from the messages app.js applies: the
// housekeeping packets' `limits` maps (and the board frames' when they come), and the
// `limit:ITEM` events the bench's LimitMonitor puts in its store. So replay rebuilds it at
// any time t by reset() and re-applying the messages up to t.

const MAX_TRANSITIONS = 5000;

/** The bound a value crosses at `level` ("red high 35"), from the dictionary's limits of the field. */
function boundOf(limits, level, value) {
  const b = limits?.[level];
  if (!b || typeof value !== 'number') return '';
  if (b.high !== undefined && value > b.high) return `${level} high ${b.high}`;
  if (b.low !== undefined && value < b.low) return `${level} low ${b.low}`;
  return '';
}

export function createLimitsView(root, { el, fmt, dict }) {
  // Housekeeping fields with limits, by packet: which items a packet says are green again.
  const limited = new Map(dict.housekeeping.map((h) => [h.name, h.fields.filter((f) => f.limits)]));
  const now = new Map(); // item -> { item, t, value, level, bound }
  const transitions = []; // oldest first
  const lastBound = new Map(); // item -> the bound its last limit event named
  let dirty = true;

  const nowBody = el('tbody', { id: 'limits-now' });
  const trBody = el('tbody', { id: 'limits-transitions' });
  const summary = el('span', { class: 'meta', id: 'limits-summary' });
  root.append(
    el('h2', {}, 'Out of limits now ', summary),
    el('table', { class: 'limits' }, el('thead', {}, el('tr', {}, el('th', { text: 'item' }), el('th', { text: 'value' }), el('th', { text: 'level' }), el('th', { text: 'bound' }), el('th', { text: 'since (ms)' }))), nowBody),
    el('h2', {}, 'Limits transitions since start'),
    el('table', { class: 'limits' }, el('thead', {}, el('tr', {}, el('th', { text: 'bench time (ms)' }), el('th', { text: 'item' }), el('th', { text: 'from → to' }), el('th', { text: 'value' }), el('th', { text: 'bound' }))), trBody),
  );
  const tabButton = document.querySelector('#tabs button[data-view="limits"]');

  function setNow(item, t, value, level, bound) {
    const prev = now.get(item);
    now.set(item, { item, t: prev && prev.level === level ? prev.t : t, value, level, bound });
  }

  function applyPacket(p) {
    for (const f of limited.get(p.packet) ?? []) {
      const item = `${p.packet}.${f.name}`;
      const level = p.limits?.[f.name];
      if (level) setNow(item, p.t, p.fields[f.name], level, boundOf(f.limits, level, p.fields[f.name]) || lastBound.get(item) || '');
      else now.delete(item);
    }
  }

  function applyBoardFrame(fr) {
    for (const [name, value] of Object.entries(fr.values ?? {})) {
      const item = `${fr.board}.${name}`;
      const level = fr.limits?.[name];
      if (level) setNow(item, fr.t, value, level, lastBound.get(item) ?? '');
      else now.delete(item);
    }
  }

  function applyEvent(e) {
    if (!e.name.startsWith('limit:')) return;
    const item = e.name.slice('limit:'.length);
    const { from, to, value, detail } = e.fields;
    transitions.push({ t: e.t, item, from, to, value, bound: detail });
    if (to === 'green') now.delete(item);
    else {
      lastBound.set(item, detail);
      setNow(item, e.t, value, to, detail);
    }
  }

  function reset() {
    now.clear();
    transitions.length = 0;
    lastBound.clear();
    dirty = true;
    render();
  }

  /** One message (snapshot or batch) as app.js applies it; a snapshot starts again. */
  function apply(msg) {
    if (msg.type === 'snapshot') reset();
    // Events first: a packet of the same batch is newer than the transition it caused.
    for (const e of msg.events ?? []) applyEvent(e);
    for (const p of msg.tm ?? []) applyPacket(p);
    for (const fr of msg.boardTm ?? []) applyBoardFrame(fr);
    if (transitions.length > MAX_TRANSITIONS) transitions.splice(0, transitions.length - MAX_TRANSITIONS);
    dirty = true;
    if (root.classList.contains('active')) render();
    else renderSummary();
  }

  function renderSummary() {
    const red = [...now.values()].filter((x) => x.level === 'red').length;
    summary.textContent = `${now.size} item${now.size === 1 ? '' : 's'} (${red} red)`;
    summary.dataset.count = String(now.size);
    if (tabButton) {
      tabButton.textContent = now.size > 0 ? `Limits (${now.size})` : 'Limits';
      tabButton.classList.toggle('limits-red', red > 0);
      tabButton.classList.toggle('limits-yellow', red === 0 && now.size > 0);
    }
  }

  function render() {
    renderSummary();
    if (!dirty) return;
    dirty = false;
    const rows = [...now.values()]
      .sort((a, b) => (a.level === b.level ? a.item.localeCompare(b.item) : a.level === 'red' ? -1 : 1))
      .map((x) => el('tr', { class: `limit-${x.level}`, 'data-item': x.item, 'data-level': x.level }, el('td', { text: x.item }), el('td', { class: 'value', text: fmt(x.value) }), el('td', { text: x.level }), el('td', { text: x.bound }), el('td', { text: fmt(Math.round(x.t)) })));
    nowBody.replaceChildren(...(rows.length > 0 ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: '5', text: 'every item within limits' }))]));
    const shown = transitions.slice(-500).reverse();
    trBody.replaceChildren(
      ...shown.map((x) => el('tr', { class: `limit-${x.to}`, 'data-item': x.item, 'data-to': x.to, 'data-t': String(x.t) }, el('td', { text: fmt(Math.round(x.t * 1000) / 1000) }), el('td', { text: x.item }), el('td', { text: `${x.from} → ${x.to}` }), el('td', { class: 'value', text: fmt(x.value) }), el('td', { text: x.bound }))),
    );
  }

  tabButton?.addEventListener('click', () => {
    dirty = true;
    render();
  });
  render();
  return { apply, reset, render };
}
