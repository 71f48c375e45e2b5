// The Boards view: each board of the bench (GET /api/boards) with its identity, its line
// and its registers by name with units; reads on demand (POST /api/boards/B/read), writes
// on writable registers when the server's write policy allows them (POST .../write; the
// server checks type and range and names the register on refusal), and the board's
// telemetry items live from the messages app.js applies (`boardTm`), so replay can feed it.

/** Builds the view in `root`; returns { apply(msg) } for app.js's snapshot/batch messages. */
export async function createBoardsView(root, { el, fmt }) {
  const res = await fetch('/api/boards');
  // A console without a live bench (a replay, say) may have no boards to list: the rest of the page still works.
  const info = res.ok ? await res.json() : { boards: [] };
  if (!res.ok) root.append(el('p', { class: 'board-note', text: `no boards to show (GET /api/boards: HTTP ${res.status})` }));
  const views = new Map(); // board -> { count, meta, live: Map(reg -> {cell,row}), read: Map(reg -> cell), error }

  const range = (r) => (r.range ? `${fmt(r.range[0])}..${fmt(r.range[1])}` : '');
  const withUnit = (v, r) => `${fmt(v)}${r.unit ? ` ${r.unit}` : ''}`;

  async function post(board, what, body) {
    const res = await fetch(`/api/boards/${board}/${what}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const out = await res.json();
    if (!res.ok) throw Object.assign(new Error(out.error ?? `HTTP ${res.status}`), { register: out.register ?? null });
    return out;
  }

  for (const b of info.boards) {
    const error = el('div', { class: 'board-error', role: 'alert' });
    const note = el('div', { class: 'board-note' });
    const regByName = new Map(b.registers.map((r) => [r.name, r]));
    const v = { count: 0, live: new Map(), read: new Map(), error, note };
    views.set(b.name, v);

    const showError = (e) => {
      error.textContent = e.message;
      if (e.register) error.dataset.register = e.register;
      else delete error.dataset.register;
      note.textContent = '';
    };
    const showValues = (values) => {
      for (const [name, value] of Object.entries(values)) {
        const cell = v.read.get(name);
        if (cell) cell.textContent = withUnit(value, regByName.get(name));
      }
    };
    const read = async (names, button) => {
      error.textContent = '';
      button.disabled = true;
      try {
        const out = await post(b.name, 'read', names ? { registers: names } : {});
        showValues(out.values);
        note.textContent = `read ${Object.keys(out.values).length} register(s) at ${fmt(Math.round(out.t))} ms`;
      } catch (e) {
        showError(e);
      } finally {
        button.disabled = false;
      }
    };

    const rows = b.registers.map((r) => {
      const readCell = el('td', { class: 'read-value', text: '—' });
      v.read.set(r.name, readCell);
      const liveCell = el('td', { class: 'live', text: r.telemetry ? '—' : '' });
      const row = el('tr', { 'data-register': r.name, title: r.description });
      if (r.telemetry) v.live.set(r.name, { cell: liveCell, row, limited: !!r.limits });
      const readButton = r.access === 'write-only' ? null : el('button', { class: 'read', type: 'button', text: 'read' });
      readButton?.addEventListener('click', () => read([r.name], readButton));
      let writeCell = el('td');
      if (r.access !== 'read-only') {
        const input = el('input', { class: 'write-value', type: 'text', name: r.name, placeholder: range(r), size: '10' });
        const button = el('button', { class: 'write', type: 'button', text: 'write' });
        if (!b.writes.allowed) {
          input.disabled = true;
          button.disabled = true;
          button.title = b.writes.reason;
        }
        button.addEventListener('click', async () => {
          error.textContent = '';
          button.disabled = true;
          try {
            const out = await post(b.name, 'write', { values: { [r.name]: input.value.trim() } });
            showValues(out.values);
            note.textContent = `wrote ${r.name} = ${withUnit(Number(input.value), r)}; the board holds ${withUnit(out.values[r.name], r)}`;
          } catch (e) {
            showError(e);
          } finally {
            button.disabled = !b.writes.allowed;
          }
        });
        writeCell = el('td', { class: 'write-cell' }, input, button);
      }
      row.append(
        el('td', { class: 'reg', text: r.name }),
        liveCell,
        readCell,
        el('td', { class: 'read-cell' }, readButton),
        el('td', { class: 'unit', text: r.unit }),
        el('td', { class: 'access', text: r.access, title: r.scale !== 1 || r.offset !== 0 ? `value = raw x ${r.scale} + ${r.offset}` : '' }),
        el('td', { class: 'range', text: range(r) }),
        writeCell,
        el('td', { class: 'desc', text: r.description }),
      );
      return row;
    });

    const id = b.identity;
    const identity = id
      ? `board id ${id.boardIdHex} · hw ${id.hwVersion} · fw ${id.fwVersion} · serial ${id.serialNumber} · ${id.emulated ? 'emulated' : 'real board'}`
      : 'identity not read';
    const readAll = el('button', { class: 'read-all', type: 'button', text: 'read all' });
    readAll.addEventListener('click', () => read(null, readAll));
    v.meta = el('span', { class: 'meta', text: 'no telemetry yet' });
    const writes = b.writes.allowed
      ? el('div', { class: 'writes allowed', text: id?.emulated ? 'writes allowed (emulated board)' : 'writes allowed (--allow-writes: a real board)' })
      : el('div', { class: 'writes disabled', text: `writes disabled: ${b.writes.reason}` });
    root.append(
      el(
        'details',
        { class: 'board', 'data-board': b.name, open: '' },
        el('summary', {}, el('strong', { text: b.name }), ` ${b.title} `, v.meta),
        el('div', { class: 'identity', 'data-identity': '', text: identity }),
        el('div', { class: 'line', text: `line: ${b.address ?? '?'} (${b.port})` }),
        writes,
        el('div', { class: 'board-actions' }, readAll, note),
        error,
        el(
          'table',
          { class: 'registers' },
          el('thead', {}, el('tr', {}, ...['register', 'live', 'read', '', 'unit', 'access', 'range', 'write', 'description'].map((h) => el('th', { text: h })))),
          el('tbody', {}, ...rows),
        ),
      ),
    );
  }

  function showFrame(f) {
    const v = views.get(f.board);
    if (!v) return;
    v.meta.textContent = `telemetry #${v.count} at ${fmt(Math.round(f.t))} ms`;
    v.meta.dataset.count = String(v.count);
    for (const [name, value] of Object.entries(f.values)) {
      const live = v.live.get(name);
      if (!live) continue;
      live.cell.textContent = fmt(value);
      const level = f.limits[name] ?? (live.limited ? 'green' : null);
      live.row.className = level ? `limit-${level}` : '';
    }
  }

  return {
    /** A snapshot or batch message: its board telemetry frames (the DOM once per board per message). */
    apply(msg) {
      if (msg.type === 'snapshot') for (const v of views.values()) v.count = 0;
      const last = new Map();
      for (const f of msg.boardTm ?? []) {
        const v = views.get(f.board);
        if (!v) continue;
        v.count++;
        last.set(f.board, f);
      }
      for (const f of last.values()) showFrame(f);
    },
  };
}
