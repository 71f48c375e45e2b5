import type { FlashProgress } from './flasher.ts';

/**
 * Flash progress for people: a redrawn bar on a terminal, plain lines otherwise (one
 * per phase and per quarter of the image), so logs of scripted runs stay readable.
 */
export function progressReporter(out: { write(s: string): unknown; isTTY?: boolean }, width = 30): { update(p: FlashProgress): void; end(): void } {
  let lastPhase = '';
  let lastQuarter = -1;
  let barShown = false;
  if (out.isTTY) {
    return {
      update(p) {
        const frac = p.totalBytes > 0 ? p.doneBytes / p.totalBytes : 0;
        const filled = Math.round(frac * width);
        const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`;
        out.write(`\r\x1b[2K${bar} ${p.phase}: ${p.message}`.slice(0, 200));
        barShown = true;
      },
      end() {
        if (barShown) out.write('\n');
      },
    };
  }
  return {
    update(p) {
      const quarter = p.totalBytes > 0 ? Math.floor((4 * p.doneBytes) / p.totalBytes) : -1;
      const retry = /retrying|page by page/.test(p.message);
      if (p.phase !== lastPhase || (p.phase === 'write' && quarter !== lastQuarter) || retry) {
        const pct = p.phase === 'write' && p.totalBytes > 0 ? ` ${Math.round((100 * p.doneBytes) / p.totalBytes)}%` : '';
        out.write(`flash: ${p.phase}${pct}: ${p.message}\n`);
      }
      lastPhase = p.phase;
      if (p.phase === 'write') lastQuarter = quarter;
    },
    end() {},
  };
}
