import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TopLevelSpec } from 'vega-lite';
import type { ItemValue } from './suite-data.ts';

/**
 * The report's plots as Vega-Lite specs (time on x in seconds, one series per item,
 * key events as vertical rules), rendered to SVG by vega without a browser.
 */
export interface Series {
  name: string;
  /** [t ms, value] */
  points: [number, number][];
}

/** An event worth seeing on the time axis (lock lost, fault, safe mode, mode change). */
export interface KeyMark {
  tMs: number;
  label: string;
}

export interface PlotGroup {
  title: string;
  unit: string;
  match: RegExp;
  /** The quantity cannot be negative: the y axis starts at 0. */
  nonNegative?: boolean;
  /** Log y axis (so a 1000 urad transient does not flatten the 1 urad that matters). */
  log?: boolean;
}

/** Plot groups in the order engineers look at them; items matching none are not plotted. */
export const PLOT_GROUPS: PlotGroup[] = [
  { title: 'Pointing error', unit: 'µrad', match: /^PAYLOAD_HK\.pointingError(Rms|Mean|Max)Urad$/, nonNegative: true, log: true },
  { title: 'Pointing error on the tracking sensor', unit: 'µrad', match: /^apt\.SPOT_[XY]_URAD$/ },
  { title: 'Mirror position', unit: 'µrad', match: /^(apt\.FSM_POS_[XY]_URAD|PAYLOAD_HK\.fsm[XY]Urad)$/ },
  { title: 'Body pointing error', unit: 'µrad', match: /^acs\.ATT_ERR_URAD$/, nonNegative: true },
  { title: 'Elevation', unit: 'deg', match: /^PAYLOAD_HK\.elevationDeg$/ },
  { title: 'Received power', unit: 'dBm', match: /^lct\.RX_POWER_DBM$/ },
  { title: 'Link loss', unit: 'dB', match: /^QKD_HK\.lossDb$/ },
  { title: 'Bit error ratio', unit: 'log10', match: /^lct\.BER_LOG10$/ },
  { title: 'Bit error ratio estimate', unit: 'ratio', match: /^LINK_HK\.berEstimate$/, nonNegative: true, log: true },
  { title: 'QBER', unit: 'ratio', match: /^QKD_HK\.qber$/i, nonNegative: true },
  { title: 'Key', unit: 'bits', match: /^QKD_HK\.(siftedBits|finalKeyBits|keyPoolBits)$/, nonNegative: true },
  { title: 'Distillation blocks', unit: 'count', match: /^QKD_HK\.blocks(Delivered|Aborted)$/, nonNegative: true },
  { title: 'Detections', unit: 'count', match: /^QKD_HK\.detections$/, nonNegative: true },
  { title: 'Link frames', unit: 'count', match: /^LINK_HK\.(downlinkFrames|uplinkFrames(Accepted|Rejected)|authFailures)$/, nonNegative: true },
  { title: 'Source monitor power', unit: 'µW', match: /^qsrc\.MONITOR_PD_UW$/, nonNegative: true },
  { title: 'Beacon laser power', unit: 'mW', match: /^apt\.BEACON_LASER_POWER_MW$/, nonNegative: true },
  { title: 'Laser temperature', unit: '°C', match: /^(qsrc\.LASER_TEMP_C|PAYLOAD_HK\.laserTempC)$/ },
  { title: 'Board temperature', unit: '°C', match: /^[a-z]+\.BOARD_TEMP_C$/ },
  { title: 'Supply voltage', unit: 'V', match: /^[a-z]+\.SUPPLY_V$/ },
];

const WIDTH_PX = 620;
const MAX_POINTS = 1200;

/** Downsamples to about `max` points keeping each bucket's min and max (peaks stay visible). */
export function thin(points: [number, number][], max = MAX_POINTS): [number, number][] {
  if (points.length <= max) return points;
  const per = Math.ceil(points.length / (max / 2));
  const out: [number, number][] = [];
  for (let i = 0; i < points.length; i += per) {
    let lo = points[i];
    let hi = points[i];
    for (let j = i; j < Math.min(points.length, i + per); j++) {
      if (points[j][1] < lo[1]) lo = points[j];
      if (points[j][1] > hi[1]) hi = points[j];
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo[0] <= hi[0] ? [lo, hi] : [hi, lo]));
  }
  return out;
}

/** The numeric series of `items` in `group`, without empty or flat ones (a board that did not move). */
export function groupSeries(group: PlotGroup, items: Record<string, [number, ItemValue][]>): Series[] {
  return Object.entries(items)
    .filter(([n]) => group.match.test(n))
    .map(([name, pts]) => ({ name, points: pts.filter((p): p is [number, number] => typeof p[1] === 'number' && Number.isFinite(p[1])) }))
    .filter((s) => s.points.length > 1 && s.points.some((p) => p[1] !== s.points[0][1]));
}

const CONFIG = {
  background: 'white',
  font: 'sans-serif',
  axis: { grid: true, gridColor: '#e3e3e3', labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal' as const },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 420 },
  title: { fontSize: 13, anchor: 'start' as const },
  view: { stroke: '#bbb' },
};

const timeAxis = (endS: number) => ({ field: 't', type: 'quantitative' as const, title: 'time (s)', scale: { domain: [0, Math.max(endS, 1e-3)], nice: true } });

/** Key events as vertical rules, labelled in their own legend (outside the data). */
function keyLayer(marks: KeyMark[]) {
  return {
    data: { values: marks.map((m) => ({ t: m.tMs / 1000, event: m.label })) },
    mark: { type: 'rule' as const, strokeDash: [4, 3], strokeWidth: 1.2 },
    encoding: {
      x: { field: 't', type: 'quantitative' as const },
      color: { field: 'event', type: 'nominal' as const, title: 'key events', scale: { scheme: 'dark2' }, legend: { orient: 'right' as const, symbolType: 'stroke' } },
    },
  };
}

/** A time plot of `series` with the key events marked; null when there is nothing to draw. */
export function timePlotSpec(group: PlotGroup, series: Series[], marks: KeyMark[], endMs: number): TopLevelSpec | null {
  if (series.length === 0) return null;
  const rows: { t: number; v: number; series: string }[] = [];
  const positive = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0);
  const useLog = !!group.log && positive.length > 0;
  // On a log axis zeros are drawn at half the smallest positive value (the floor).
  const floor = useLog ? Math.min(...positive) / 2 : 0;
  for (const s of series) for (const [t, v] of thin(s.points)) rows.push({ t: t / 1000, v: useLog ? Math.max(v, floor) : v, series: s.name });
  const endS = Math.max(endMs, ...series.map((s) => s.points.at(-1)![0])) / 1000;
  const line = {
    data: { values: rows },
    mark: { type: 'line' as const, strokeWidth: 1.3 },
    encoding: {
      x: timeAxis(endS),
      y: {
        field: 'v',
        type: 'quantitative' as const,
        title: `${group.title} (${group.unit}${useLog ? ', log scale' : ''})`,
        scale: useLog ? { type: 'log' as const } : { zero: !!group.nonNegative },
      },
      color: { field: 'series', type: 'nominal' as const, title: null, scale: { scheme: 'category10' }, legend: { orient: 'right' as const } },
    },
  };
  const spec = {
    width: WIDTH_PX,
    height: 170,
    title: group.title,
    config: CONFIG,
    layer: marks.length > 0 ? [line, keyLayer(marks)] : [line],
    resolve: { scale: { color: 'independent' as const }, legend: { color: 'independent' as const } },
  };
  return spec as unknown as TopLevelSpec;
}

/** A state timeline (payload mode): one bar segment per state, legend below. */
export function timelineSpec(title: string, points: [number, string][], endMs: number): TopLevelSpec | null {
  if (points.length === 0) return null;
  const segs: { from: number; to: number; state: string }[] = [];
  for (const [t, v] of points) {
    const last = segs.at(-1);
    if (last && last.state === v) continue;
    if (last) last.to = t / 1000;
    segs.push({ from: t / 1000, to: t / 1000, state: v });
  }
  const endS = Math.max(endMs, points.at(-1)![0]) / 1000;
  segs.at(-1)!.to = endS;
  return {
    width: WIDTH_PX,
    height: 22,
    title,
    config: CONFIG,
    data: { values: segs },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'from', type: 'quantitative', title: 'time (s)', scale: { domain: [0, Math.max(endS, 1e-3)], nice: true } },
      x2: { field: 'to' },
      color: { field: 'state', type: 'nominal', title: 'mode', scale: { scheme: 'tableau10' }, legend: { orient: 'bottom', direction: 'horizontal' } },
    },
  } as TopLevelSpec;
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * SVG for each spec. vega's toSVG is asynchronous and the report is built synchronously
 * (the runner builds it in its exit handler), so every plot of a report is rendered in
 * one child node process (vega-render.ts).
 */
export function renderSvgs(specs: TopLevelSpec[]): string[] {
  if (specs.length === 0) return [];
  const root = resolve(here, '..', '..');
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'vega-render.ts')], {
    cwd: root,
    input: JSON.stringify(specs),
    maxBuffer: 512 * 1024 * 1024,
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}
