import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../hil/report/html.ts';
import { makeRunDir } from './fixture-run.ts';

/** The SVG following the plot titled `title` (vega writes the title as text in the SVG). */
function svgTitled(html: string, title: string): string {
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
  const svg = svgs.find((s) => s.includes(`>${title}</text>`));
  if (!svg) throw new Error(`no plot titled ${title}`);
  return svg;
}
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('the HTML report of a run', () => {
  const dir = makeRunDir();
  const html = readFileSync(buildReport(dir), 'utf8');

  it('has a section per suite that ran, with its tests, figures and benches', () => {
    expect([...html.matchAll(/<section class="suite" id="suite-([^"]+)"/g)].map((m) => m[1])).toEqual(['payload', 'passes']);
    const passes = html.slice(html.indexOf('id="suite-passes"'));
    expect(passes).toContain('nominal pass');
    expect(passes).toContain('<h3>Figures</h3>');
    expect(passes).toContain('Pass: nominal');
    expect(passes).toMatch(/finalKey<\/td><td class="num">39000<\/td><td>bits/);
  });

  it('opens with the run identity: commit and dirty flag, bench, ports, seed, boards, start, duration', () => {
    const head = html.slice(0, html.indexOf('<section'));
    for (const v of ['0123456789abcdef0123456789abcdef01234567', '<th>dirty</th><td>true', 'emulated', 'apt=tcp:127.0.0.1:7002', '<th>seed</th><td>7', '2026-11-30T12:00:00.000Z', '63.3', 'npm start -- --seed 7']) expect(head).toContain(v);
    expect(head).toContain('<td>apt</td><td>0x5102</td><td>1.1</td><td>2.3.0</td><td>3903176945</td><td>emulated</td>');
    expect(head).toMatch(/2 passed<\/span><span class="v-fail">1 failed<\/span><span class="v-skip">1 skipped/);
  });

  it('shows a skipped test as skipped (amber), not as passed', () => {
    expect(html).toMatch(/on real boards \[skipped: needs simulated time\]<\/td><td class="v-skip">skipped/);
    expect(html).toMatch(/RNG_HEALTH<\/td><td class="v-fail">FAIL: expected SAFE/);
  });

  it('collapses events by kind with counts and offers a severity and name filter', () => {
    expect(html).toContain('<summary><code>SOURCE_FRAME</code> × 750');
    expect(html.match(/<details class="evkind"/g)).toHaveLength(5); // SOURCE_FRAME, FAULT_..., MODE_CHANGED; MODE_CHANGED, FINE_LOCK_LOST
    expect(html).toContain('<select id="evsev">');
    expect(html).toContain('<input id="evname"');
    expect(html).toContain("querySelectorAll('details.evkind')");
    expect(html).toContain('data-name="fault_over_temperature" data-sev="high"');
  });

  it('prints float32 values at their precision', () => {
    expect(html).not.toContain('0.10000000149011612');
    expect(html).toMatch(/LINK_HK.berEstimate<\/td><td class="num">0.1<\/td>/);
    expect(html).toContain('berEstimate=0.1');
  });

  it('draws SVG plots with gridlines, units, key events on the time axis, and no flat series', () => {
    const spot = svgTitled(html, 'Pointing error on the tracking sensor');
    expect(spot).toContain('role-axis-grid');
    expect(texts(spot)).toContain('time (s)');
    expect(texts(spot)).toContain('Pointing error on the tracking sensor (µrad)');
    expect(texts(spot)).toContain('key events');
    expect(texts(spot)).toContain('FAULT_OVER_TEMPERATURE');
    expect(texts(spot)).toContain('mode → SAFE');
    const temp = svgTitled(html, 'Board temperature');
    expect(texts(temp)).toContain('qsrc.BOARD_TEMP_C');
    expect(texts(temp)).not.toContain('apt.BOARD_TEMP_C');
    expect(html).toContain('>Payload mode</text>');
  });

  it('starts the y axis at zero for QBER and key bits and never goes below it', () => {
    for (const title of ['QBER', 'Key']) {
      const svg = svgTitled(html, title);
      const ticks = texts(svg).map((t) => Number(t.replace('−', '-').replace(/,/g, ''))).filter((n) => Number.isFinite(n));
      expect(ticks).toContain(0);
      // Time ticks are >= 0 too: no label on either axis is negative.
      expect(Math.min(...ticks)).toBe(0);
    }
  });

  it('tolerates a run without run.json: bench, seed and timing from the suites and JUnit', () => {
    const bare = readFileSync(buildReport(makeRunDir(false)), 'utf8');
    const head = bare.slice(0, bare.indexOf('<section'));
    expect(head).toContain('<th>bench</th><td>emulated');
    expect(head).toContain('<th>startedAt</th><td>2026-11-30T12:00:01.000Z');
    expect(head).toContain('<th>durationS</th><td>12.5');
    expect(head).not.toContain('<th>commit</th>');
  });
});

describe('plot data', () => {
  it('thins a long series to about 1200 points keeping its peaks', async () => {
    const { thin } = await import('../../hil/report/plots.ts');
    const pts: [number, number][] = Array.from({ length: 20_000 }, (_, i) => [i, i === 12_345 ? 1000 : i === 777 ? -50 : Math.sin(i / 100)]);
    const out = thin(pts);
    expect(out.length).toBeLessThanOrEqual(1300);
    expect(out).toContainEqual([12_345, 1000]);
    expect(out).toContainEqual([777, -50]);
    expect(out.map((p) => p[0])).toEqual([...out.map((p) => p[0])].sort((a, b) => a - b));
  });
});
