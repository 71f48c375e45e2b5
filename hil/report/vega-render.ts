/**
 * Renders Vega-Lite specs to SVG (vega's headless View.toSVG: no browser, no canvas).
 * Run as a child process by plots.ts, which stays synchronous: reads a JSON array of
 * Vega-Lite specs on stdin, writes a JSON array of SVG strings on stdout.
 */
import { readFileSync } from 'node:fs';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const specs = JSON.parse(readFileSync(0, 'utf8')) as TopLevelSpec[];
const out: string[] = [];
for (const s of specs) out.push(await renderSvg(s));
process.stdout.write(JSON.stringify(out));
