/**
 * What the %%parallel compiler tells the runtime about one prange loop. The compiler writes it
 * as an object literal into the compiled cell; the runtime reads it once per loop id.
 */
export type ReductionOp = '+' | '*' | 'max' | 'min';

export interface ArrayReduction {
  readonly k: number;
  readonly op: ReductionOp;
}

export type ScheduleKind = 'static' | 'dynamic';

export interface Schedule {
  readonly kind: ScheduleKind;
  /** Iterations per chunk; 0 means the default (static: one block per thread). */
  readonly chunk: number;
}

export interface LoopSpec {
  /** Same id ⇔ same compiled body: workers cache the body by it. */
  readonly id: string;
  /** Line of the loop in its cell, for messages. */
  readonly line: number;
  /** Team size from `%%parallel -n`; absent: the runtime's default (numThreads()). */
  readonly threads?: number;
  readonly schedule?: ScheduleKind;
  readonly chunk?: number;
  /** Outer names the body reads, in the order of the `captured` argument of run(). */
  readonly names: readonly string[];
  /** Indexes into names: written through an element or a mutating method (xs[i] = …, xs.fill()). */
  readonly writes: readonly number[];
  /** Indexes into names: passed somewhere that may write them (f(xs), const v = xs). */
  readonly escapes: readonly number[];
  readonly reductions: readonly { readonly name: string; readonly op: ReductionOp }[];
  /** Typed arrays declared reductions (`prange(…).reduction(op, h)`): index into names, operator. */
  readonly arrayReductions?: readonly ArrayReduction[];
  /** Outer scalars written in the body: one shared slot each, raced on by the threads. */
  readonly shared: readonly string[];
  /** A top-level name of the loop's cell, so the runtime can find the loop in that cell's code. */
  readonly anchor?: string;
}

/**
 * The body's parameter that holds the captured values; each is read as `__tspEnv[k]`. The
 * runtime finds these names in a body's code to compile copies of it (runtime/body-copies.ts).
 */
export const kEnvParam = '__tspEnv';
/** The parameter after it: the reduction accumulators. */
export const kRedParam = '__tspRed';

/**
 * A compiled loop body: runs iterations k in [lo, hi) of the loop, i = start + k * step.
 * `env` holds the captured values in `names` order, `red` the private reduction accumulators
 * (read at entry, written back at exit), `shared` the shared scalar slots.
 */
export type ChunkFunction = (
  lo: number,
  hi: number,
  start: number,
  step: number,
  env: unknown[],
  red: unknown[],
  shared: Float64Array,
  thread: ThreadContext,
) => void;

/** Per-thread helpers a body can call, and the iteration where it failed. */
export interface ThreadContext {
  readonly threadId: () => number;
  readonly numThreads: () => number;
  readonly shared: unknown;
  readonly prange: unknown;
  /** [start, count, step] of a nested (serial) prange. */
  readonly range: (start: number, stop?: number, step?: number) => [number, number, number];
  /** Set by the body when an iteration throws. */
  at: number | undefined;
}
