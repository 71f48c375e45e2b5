// Opt-in instrumentation for the console benchmark (npm run bench -- console): opened
// with ?measure=1 the page records, for every housekeeping packet it applied to its views,
// the packet and the wall time (performance.timeOrigin + now, ms: the clock the benchmark's
// Node side stamps packets with), plus long tasks and the longest gap between frames.
// Without ?measure=1 it does nothing. The benchmark reads window.__consoleMeasure.

const on = new URLSearchParams(location.search).get('measure') === '1';
const wallNowMs = () => performance.timeOrigin + performance.now();

const state = {
  /** [packet name, frameNumber (or null), wall ms applied] per applied packet. */
  applied: [],
  longTaskCount: 0,
  longTaskMaxMs: 0,
  maxFrameGapMs: 0,
  now: wallNowMs,
};

if (on) {
  window.__consoleMeasure = state;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        state.longTaskCount++;
        state.longTaskMaxMs = Math.max(state.longTaskMaxMs, e.duration);
      }
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    state.longTaskCount = -1; // no Long Tasks API in this browser
  }
  let last = performance.now();
  const frame = (t) => {
    state.maxFrameGapMs = Math.max(state.maxFrameGapMs, t - last);
    last = t;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

/** Called by app.js once a message's packets are in every view. */
export function recordApplied(msg) {
  if (!on) return;
  const at = wallNowMs();
  for (const p of msg.tm) state.applied.push([p.packet, p.fields.frameNumber ?? null, at]);
}
