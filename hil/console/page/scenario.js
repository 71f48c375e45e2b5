// Scenario controls (simulated-time benches): start a pass over a ground station, lose and
// restore the beacon, cut the laser link, set and clear the faults the board emulators
// know. Each is a POST under /api/scenario/ (the server runs it under the bench lock and
// logs it as a `scenario:...` event); each answer carries the new state, which this view shows.

export async function createScenarioView(root, { el, fmt }) {
  const post = async (path, body = {}) => {
    const res = await fetch(`/api/scenario/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { ok: res.ok, status: res.status, out: await res.json() };
  };
  const error = el('div', { class: 'error', role: 'alert', id: 'scenario-error' });
  const fetchState = async () => {
    const res = await fetch('/api/scenario');
    return res.ok ? res.json() : { simulated: false, reason: `scenario controls are not served here (HTTP ${res.status})` };
  };
  let state = await fetchState();

  if (!state.simulated) {
    root.append(el('div', { class: 'scenario-unavailable', text: state.reason }));
    return { apply() {} };
  }

  /** Runs an action: the error (naming the field) or the new state. */
  async function act(path, body) {
    error.textContent = '';
    delete error.dataset.field;
    const { ok, out } = await post(path, body);
    if (!ok) {
      error.textContent = out.error;
      if (out.field) error.dataset.field = out.field;
      return null;
    }
    state = out.state;
    show();
    return out;
  }

  // ---- pass
  const station = el('select', { name: 'station' });
  for (const s of state.stations) station.append(el('option', { value: s.name, text: `${s.name} (${fmt(s.latDeg)}°, ${fmt(s.lonDeg)}°)` }));
  const startIn = el('input', { name: 'startInS', type: 'text', value: '60' });
  const length = el('input', { name: 'lengthS', type: 'text', value: '600' });
  const passReports = el('div', { class: 'reports', id: 'scenario-pass-reports' });
  const passForm = el(
    'form',
    { id: 'scenario-pass', novalidate: '' },
    el('h3', { text: 'Start a pass over a station' }),
    el('div', { class: 'desc', text: 'Uploads the pass plan (UPLOAD_PASS_PLAN, the example TLE): the payload enters ACQUISITION on its own at the start, or sooner by SET_MODE ACQUISITION.' }),
    el('label', {}, el('span', { text: 'station' }), station),
    el('label', {}, el('span', { text: 'start in' }), startIn, ' s'),
    el('label', {}, el('span', { text: 'length' }), length, ' s'),
    el('button', { type: 'submit', text: 'Upload the pass plan' }),
  );
  passForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    passReports.replaceChildren(el('div', { class: 'pending', text: 'uploading the pass plan…' }));
    const out = await act('pass', { station: station.value, startInS: startIn.value, lengthS: length.value });
    if (!out) return passReports.replaceChildren();
    const o = out.outcome;
    passReports.replaceChildren(
      el('div', { class: `status-${o.status}`, 'data-status': o.status, text: `UPLOAD_PASS_PLAN seq ${o.seq}: ${o.status} (${o.args.station}, mission time ${o.args.startS}..${o.args.endS} s)` }),
      ...o.reports.map((r) => el('div', { class: `report ${r.name.endsWith('_FAIL') ? 'fail' : 'ok'}`, 'data-report': r.name, text: `${fmt(Math.round(r.t))} ms  ${r.name}${r.name.endsWith('_FAIL') ? ` ${r.fields.failureCode}: ${r.fields.detail ?? ''}` : ''}` })),
    );
  });

  // ---- world
  const beacon = el('button', { type: 'button', id: 'scenario-beacon' });
  beacon.addEventListener('click', () => act('beacon', { visible: !state.beaconVisible }));
  const link = el('button', { type: 'button', id: 'scenario-link' });
  link.addEventListener('click', () => act('link', { dropout: !state.linkDropout }));
  const worldNote = el('span', { class: 'meta', id: 'scenario-world' });

  // ---- faults
  const faultRows = el('tbody', { id: 'scenario-faults' });
  const clearAll = el('button', { type: 'button', id: 'scenario-clear-faults', text: 'Clear all faults' });
  clearAll.addEventListener('click', () => act('clear-faults'));

  function show() {
    beacon.textContent = state.beaconVisible ? 'Lose the beacon' : 'Restore the beacon';
    link.textContent = state.linkDropout ? 'End the link dropout' : 'Link dropout';
    worldNote.textContent = `beacon ${state.beaconVisible ? 'visible' : 'lost'}, laser link ${state.linkDropout ? 'cut' : 'up'}`;
    worldNote.dataset.beacon = String(state.beaconVisible);
    worldNote.dataset.dropout = String(state.linkDropout);
    faultRows.replaceChildren(
      ...state.faults.map((f) => {
        const toggle = el('button', { type: 'button', text: f.active ? 'Clear' : 'Inject' });
        toggle.addEventListener('click', () => act('fault', { board: f.board, fault: f.name, active: !f.active }));
        return el('tr', { 'data-fault': `${f.board}.${f.name}`, 'data-active': String(f.active), class: f.active ? 'fault-active' : '' }, el('td', { text: f.board }), el('td', { text: f.name }), el('td', { text: f.description }), el('td', { text: f.active ? 'active' : '' }), el('td', {}, toggle));
      }),
    );
  }

  root.append(
    error,
    el('div', { class: 'scenario' }, passForm, passReports),
    el('div', { class: 'scenario wide' }, el('div', {}, el('h3', { text: 'Beacon and laser link' }), beacon, ' ', link, ' ', worldNote)),
    el('div', { class: 'scenario wide' }, el('div', {}, el('h3', {}, 'Inject fault ', clearAll), el('table', { class: 'faults' }, el('thead', {}, el('tr', {}, el('th', { text: 'board' }), el('th', { text: 'fault' }), el('th', { text: 'what it does' }), el('th', { text: 'state' }), el('th'))), faultRows))),
  );
  show();
  return {
    /** Another page (or a script) acted: its scenario:... event brings the new state here too. */
    apply(msg) {
      if ((msg.events ?? []).some((e) => e.name.startsWith('scenario:'))) {
        fetchState().then((s) => {
          if (s.simulated) {
            state = s;
            show();
          }
        }, () => {});
      }
    },
  };
}
