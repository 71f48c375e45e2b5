import { Bench, emulatedByBench } from './bench.ts';
import { describeBoardLine } from './config.ts';

export interface FreshBenchOptions {
  /** Repository root (emulator processes are spawned from it). Default: the working directory. */
  root?: string;
  /**
   * Capture files per board line. Default: only when a board runs in another process
   * (pty): an all-in-process pass runs its clock in a plain loop and a capture stream
   * would only drain after it (see BenchOptions.capture).
   */
  capture?: boolean;
}

/**
 * Runs `use` on a bench opened anew on the same resources as `like` (its config, seed and
 * boards), closed afterwards: in-process emulators created again, emulator processes
 * spawned again, the clock at 0. What a run planned on bench time from power-on (the
 * mission pass: the boards power up at 0, the payload 500 ms later) needs to start from
 * the same state whatever ran on `like` before, and whichever test runs alone. Only
 * boards the bench emulates itself can be opened twice: a real board's line or a TCP
 * port is held by `like`, so such a bench is refused naming the boards.
 */
export async function withFreshBench<T>(like: Bench, name: string, use: (bench: Bench) => Promise<T>, o: FreshBenchOptions = {}): Promise<T> {
  const boards = like.boards.map((b) => b.name);
  const held = boards.filter((n) => !emulatedByBench(like.config.boards[n]!));
  if (held.length > 0) {
    const lines = held.map((n) => `${n} ${describeBoardLine(like.config.boards[n]!)}`).join(', ');
    throw new Error(`no fresh bench like '${like.config.name}': ${lines} cannot be opened a second time (only boards the bench emulates itself, in-process or on a pty, start anew)`);
  }
  const bench = await Bench.open(like.config, {
    seed: like.seed,
    boards,
    runName: `${like.runName}-${name}`,
    root: o.root ?? process.cwd(),
    capture: o.capture ?? !like.inProcess,
  });
  try {
    return await use(bench);
  } finally {
    await bench.close();
  }
}
