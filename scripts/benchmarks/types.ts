/** One figure a benchmark prints: `key` is the --json contract named by the issues. */
export interface Figure {
  key: string;
  label: string;
  value: number;
  unit: string;
  /** Optional target, printed beside the figure (e.g. ">= 1000000"). */
  target?: string;
}

export interface BenchContext {
  /** Progress for long benchmarks; goes to stderr so stdout stays the figures. */
  progress(message: string): void;
}

export type Benchmark = (ctx: BenchContext) => Promise<Figure[]>;
