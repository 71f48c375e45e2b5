/** Small SVG line plots (no dependencies): time on x in seconds, one series per item. */
export interface Series {
  name: string;
  points: [number, number][];
}

const W = 720;
const H = 180;
const PAD = { l: 60, r: 10, t: 20, b: 28 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/** Downsamples to at most `max` points by keeping min and max of each bucket (peaks stay visible). */
function thin(points: [number, number][], max = 1500): [number, number][] {
  if (points.length <= max) return points;
  const per = Math.ceil(points.length / (max / 2));
  const out: [number, number][] = [];
  for (let i = 0; i < points.length; i += per) {
    const b = points.slice(i, i + per);
    let lo = b[0];
    let hi = b[0];
    for (const p of b) {
      if (p[1] < lo[1]) lo = p;
      if (p[1] > hi[1]) hi = p;
    }
    out.push(lo[0] <= hi[0] ? lo : hi, lo[0] <= hi[0] ? hi : lo);
  }
  return out;
}

/**
 * A line plot. `log`: a log10 y axis, so a transient of 1000 urad does not flatten the
 * 1 urad that matters; used only when no value is negative (zeros are drawn at the floor).
 */
export function linePlot(title: string, series: Series[], bands: { y: number; colour: string }[] = [], opts: { log?: boolean } = {}): string {
  let all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const positive = all.filter((p) => p[1] > 0).map((p) => p[1]);
  const useLog = !!opts.log && positive.length > 0 && all.every((p) => p[1] >= 0);
  if (useLog) {
    const floor = Math.min(...positive) / 2;
    const toLog = (pts: [number, number][]) => pts.map(([x, y]): [number, number] => [x, Math.log10(Math.max(y, floor))]);
    series = series.map((s) => ({ ...s, points: toLog(s.points) }));
    bands = bands.filter((b) => b.y > 0).map((b) => ({ ...b, y: Math.log10(b.y) }));
    all = series.flatMap((s) => s.points);
  }
  let x0 = Math.min(...all.map((p) => p[0]));
  let x1 = Math.max(...all.map((p) => p[0]));
  let y0 = Math.min(...all.map((p) => p[1]), ...bands.map((b) => b.y));
  let y1 = Math.max(...all.map((p) => p[1]), ...bands.map((b) => b.y));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 1;
    y1 += 1;
  }
  const m = (y1 - y0) * 0.05;
  y0 -= m;
  y1 += m;
  const sx = (x: number) => PAD.l + ((x - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const sy = (y: number) => H - PAD.b - ((y - y0) / (y1 - y0)) * (H - PAD.t - PAD.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<text x="${PAD.l}" y="13" font-weight="bold">${esc(title)}${useLog ? ' (log scale)' : ''}</text>`);
  parts.push(`<rect x="${PAD.l}" y="${PAD.t}" width="${W - PAD.l - PAD.r}" height="${H - PAD.t - PAD.b}" fill="none" stroke="#999"/>`);
  for (const f of [0, 0.5, 1]) {
    const y = y0 + f * (y1 - y0);
    parts.push(`<text x="${PAD.l - 4}" y="${sy(y) + 4}" text-anchor="end">${fmt(useLog ? 10 ** y : y)}</text>`);
    const x = x0 + f * (x1 - x0);
    parts.push(`<text x="${sx(x)}" y="${H - 10}" text-anchor="middle">${fmt(x / 1000)} s</text>`);
  }
  for (const b of bands) parts.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${sy(b.y)}" y2="${sy(b.y)}" stroke="${b.colour}" stroke-dasharray="4 3"/>`);
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    const d = thin(s.points)
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
      .join('');
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.2"/>`);
    parts.push(`<text x="${W - PAD.r - 4}" y="${PAD.t + 12 + 12 * i}" text-anchor="end" fill="${c}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A state timeline (e.g. payload mode): one coloured bar segment per state. */
export function timeline(title: string, points: [number, string][], endMs: number): string {
  if (points.length === 0) return '';
  const x0 = points[0][0];
  const x1 = Math.max(endMs, points[points.length - 1][0] + 1);
  const states = [...new Set(points.map((p) => p[1]))];
  const sx = (x: number) => PAD.l + ((x - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="86" font-family="sans-serif" font-size="11">`, `<text x="${PAD.l}" y="13" font-weight="bold">${esc(title)}</text>`];
  // A label goes under its segment only where it does not run into the previous one;
  // the legend names every state (short phases included) and each bar has a hover title.
  const CHAR_PX = 7.5; // capitals at 11 px
  let labelFreeFrom = -Infinity;
  for (let i = 0; i < points.length; i++) {
    const a = points[i];
    const b = points[i + 1]?.[0] ?? x1;
    if (i > 0 && points[i - 1][1] === a[1]) continue;
    let end = b;
    for (let j = i + 1; j < points.length && points[j][1] === a[1]; j++) end = points[j + 1]?.[0] ?? x1;
    const c = COLOURS[states.indexOf(a[1]) % COLOURS.length];
    parts.push(`<rect x="${sx(a[0]).toFixed(1)}" y="20" width="${Math.max(1, sx(end) - sx(a[0])).toFixed(1)}" height="22" fill="${c}"><title>${esc(a[1])}</title></rect>`);
    // Start at the segment, or after the previous label if that still fits the segment.
    const textPx = a[1].length * CHAR_PX;
    const lx = Math.min(Math.max(sx(a[0]) + 2, labelFreeFrom), W - textPx);
    if (lx >= labelFreeFrom && (lx <= sx(a[0]) + 2 || lx + textPx <= sx(end) || i === points.length - 1)) {
      parts.push(`<text x="${lx.toFixed(1)}" y="56">${esc(a[1])}</text>`);
      labelFreeFrom = lx + textPx + 10;
    }
  }
  let lx = PAD.l;
  for (const st of states) {
    const c = COLOURS[states.indexOf(st) % COLOURS.length];
    parts.push(`<rect x="${lx}" y="68" width="10" height="10" fill="${c}"/><text x="${lx + 13}" y="77">${esc(st)}</text>`);
    lx += 13 + st.length * CHAR_PX + 14;
  }
  parts.push('</svg>');
  return parts.join('');
}
