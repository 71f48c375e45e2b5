// Replay of an archived run (npm run console -- --replay RUN): the server has no bench and
// serves the recording at /api/replay. A time slider (play/pause at 1x or 10x, steps of a
// second) picks a bench time t; the views then show what was true at t: the recorded
// packets, events and board frames with t' <= t go through app.js's apply(), the path the
// live WebSocket's messages take. Going forward applies only what lies between; going back
// empties the views (views.js) and re-applies from the start.
import { resetViews } from './views.js';

/** First index of `list` (sorted by t) whose t is after `t`. */
function after(list, t) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const fmtS = (ms) => (ms / 1000).toFixed(3);

/** Controls that need a bench (commands, scenario, board reads and writes): off in a replay. */
const LIVE_CONTROLS = ['#view-commands', '#view-scenario', '#view-boards'].map((v) => `${v} :is(button, input, select, textarea)`).join(', ');

/** Starts the replay when the server serves one; false on a live console (then app.js connects the WebSocket). */
export async function startReplay({ apply, el }) {
  const res = await fetch('/api/replay');
  if (res.status === 404) return false;
  const status = document.querySelector('#status');
  if (!res.ok) {
    status.textContent = `replay: cannot load the recording (HTTP ${res.status})`;
    status.className = 'status closed';
    return true;
  }
  const rec = await res.json();
  const title = `replay of ${rec.run.folder}${rec.suites.length > 1 ? ` (${rec.suite})` : ''}`;
  document.body.dataset.mode = 'replay';
  status.textContent = title;
  status.className = 'status replay';
  for (const c of document.querySelectorAll(LIVE_CONTROLS)) c.disabled = true;
  for (const v of ['#view-commands', '#view-scenario']) document.querySelector(v)?.prepend(el('div', { class: 'replay-note', text: `${title}: nothing is sent (no bench behind a replay)` }));

  const boardTm = rec.boardTm ?? [];
  const slider = el('input', { id: 'replay-slider', type: 'range', min: '0', max: String(Math.ceil(rec.endMs)), step: '1', value: '0', 'aria-label': 'replay time (ms of bench time)' });
  const time = el('span', { id: 'replay-time', class: 'replay-time' });
  const play = el('button', { id: 'replay-play', type: 'button', text: '▶ play' });
  const speed = el('select', { id: 'replay-speed', 'aria-label': 'replay speed' }, el('option', { value: '1', text: '1x' }), el('option', { value: '10', text: '10x' }));
  const back = el('button', { id: 'replay-back', type: 'button', title: 'one second back', text: '−1 s' });
  const fwd = el('button', { id: 'replay-forward', type: 'button', title: 'one second on', text: '+1 s' });
  document.querySelector('header').after(el('div', { id: 'replay-bar', class: 'replay-bar' }, el('strong', { text: 'Replay' }), back, play, speed, fwd, slider, time));

  // What the views show: everything up to `shown` (ms); -1 before the first seek.
  let shown = -1;
  let iTm = 0;
  let iEv = 0;
  let iBoard = 0;
  function seek(to) {
    const t = Math.max(0, Math.min(rec.endMs, Math.round(to)));
    const back = t < shown;
    if (back) {
      resetViews();
      iTm = iEv = iBoard = 0;
    }
    const [eTm, eEv, eBoard] = [after(rec.tm, t), after(rec.events, t), after(boardTm, t)];
    // A snapshot after a reset, so views that start again on one (limits, boards) do; a batch going forward.
    apply({ type: back ? 'snapshot' : 'batch', benchTimeMs: t, tm: rec.tm.slice(iTm, eTm), events: rec.events.slice(iEv, eEv), boardTm: boardTm.slice(iBoard, eBoard) });
    [iTm, iEv, iBoard, shown] = [eTm, eEv, eBoard, t];
    slider.value = String(t);
    time.textContent = `t = ${fmtS(t)} s of ${fmtS(rec.endMs)} s`;
    document.body.dataset.replayMs = String(t);
  }

  let timer = null;
  function pause() {
    clearInterval(timer);
    timer = null;
    play.textContent = '▶ play';
  }
  const TICK_MS = 100;
  play.addEventListener('click', () => {
    if (timer) return pause();
    if (shown >= rec.endMs) seek(0);
    play.textContent = '⏸ pause';
    timer = setInterval(() => {
      seek(shown + TICK_MS * Number(speed.value));
      if (shown >= rec.endMs) pause();
    }, TICK_MS);
  });
  slider.addEventListener('input', () => seek(Number(slider.value)));
  back.addEventListener('click', () => seek(shown - 1000));
  fwd.addEventListener('click', () => seek(shown + 1000));
  seek(0);
  return true;
}
