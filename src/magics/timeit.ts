/**
 * %timeit / %%timeit with IPython's semantics: the statement runs in loops of `-n` calls,
 * `-r` times; without -n the loop count grows by tenfold until a loop takes at least 0.2 s.
 * Reports "mean ± std. dev. per loop (mean ± std. dev. of R runs, N loops each)".
 * A statement that awaits is awaited on each call.
 */
import { inspect } from 'node:util';
import { formatSeconds } from './format-time.js';
import { UsageError, type MagicContext, type MagicSpec } from './types.js';

/** What -o returns: the measured times, as IPython's TimeitResult. */
export class TimeitResult {
  constructor(
    readonly loops: number,
    readonly repeat: number,
    /** Seconds per loop, one per run. */
    readonly timings: readonly number[],
    readonly precision: number,
  ) {}

  get average(): number {
    return this.timings.reduce((a, b) => a + b, 0) / this.timings.length;
  }

  get stdev(): number {
    const mean = this.average;
    return Math.sqrt(this.timings.reduce((a, t) => a + (t - mean) ** 2, 0) / this.timings.length);
  }

  get best(): number {
    return Math.min(...this.timings);
  }

  get worst(): number {
    return Math.max(...this.timings);
  }

  /** Shown as its one-line report (a cell ending with it, console.log). */
  [inspect.custom](): string {
    return this.toString();
  }

  toString(): string {
    const runs = `${this.repeat} run${this.repeat === 1 ? '' : 's'}`;
    const loops = `${this.loops.toLocaleString('en-US')} loop${this.loops === 1 ? '' : 's'} each`;
    return `${formatSeconds(this.average, this.precision)} ± ${formatSeconds(this.stdev, this.precision)} per loop (mean ± std. dev. of ${runs}, ${loops})`;
  }
}

const kMinRunSeconds = 0.2;
const kMaxAutoLoops = 1e9;

const options: MagicSpec['args'] = [
  { kind: 'option', name: 'number', aliases: ['n'], type: 'integer', min: 1, metavar: 'N', help: 'Loops per run (default: chosen so that a run takes at least 0.2 s).' },
  { kind: 'option', name: 'repeat', aliases: ['r'], type: 'integer', min: 1, default: 7, metavar: 'R', help: 'Number of runs.' },
  { kind: 'option', name: 'precision', aliases: ['p'], type: 'integer', min: 1, default: 3, metavar: 'P', help: 'Significant digits in the report.' },
  { kind: 'flag', name: 'quiet', aliases: ['q'], help: 'Print nothing.' },
  { kind: 'flag', name: 'output', aliases: ['o'], help: 'Return a TimeitResult (its fields: loops, repeat, timings, average, stdev, best, worst).' },
];

async function timeit(ctx: MagicContext, statement: string, lineOffset: number): Promise<unknown> {
  if (!statement.trim()) throw new UsageError(`${ctx.spec.kind === 'cell' ? '%%' : '%'}timeit needs a statement to time (e.g. %timeit integrate(0, 1, 1e-6))`);
  const fn = await ctx.compile(statement, { lineOffset });
  const once = fn();
  const isAsync = once instanceof Promise;
  if (isAsync) await once;

  const runLoops = async (loops: number): Promise<number> => {
    // One turn of the event loop before each run, outside the timing: what the runs before left
    // for finalizers (workers' copies of large shared arrays: src/parallel/shared.ts) is let go
    // of, as it would be between cells, instead of piling up over the whole %timeit.
    await new Promise((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    if (isAsync) for (let i = 0; i < loops; i++) await fn();
    else for (let i = 0; i < loops; i++) fn();
    return (performance.now() - t0) / 1000;
  };

  const repeat = Number(ctx.args.repeat);
  let loops = ctx.args.number === undefined ? 0 : Number(ctx.args.number);
  if (!loops) {
    for (loops = 1; loops < kMaxAutoLoops; loops *= 10) {
      if ((await runLoops(loops)) >= kMinRunSeconds) break;
      if (ctx.signal.aborted) break;
    }
  }
  const timings: number[] = [];
  for (let r = 0; r < repeat && !ctx.signal.aborted; r++) timings.push((await runLoops(loops)) / loops);
  const result = new TimeitResult(loops, timings.length, timings, Number(ctx.args.precision));
  if (!ctx.args.quiet) ctx.stdout(`${result}\n`);
  return ctx.args.output ? result : undefined;
}

export const timeitLine: MagicSpec = {
  name: 'timeit',
  kind: 'line',
  resultType: 'import("tslab-parallel").TimeitResult | undefined',
  description: "Time a statement precisely: many loops, several runs, mean ± standard deviation (IPython's %timeit).",
  examples: ['%timeit integrateExp(0, 1, 1e-8)', '%timeit -n 10 -r 3 serialSum(1e6)', 'const t = %timeit -o -q integrateExp(0, 1, 1e-8)'],
  args: [...options, { kind: 'rest', name: 'statement', help: 'a statement to time.' }],
  handler: (ctx) => timeit(ctx, String(ctx.args.statement ?? ''), ctx.bodyLine - 1),
};

export const timeitCell: MagicSpec = {
  name: 'timeit',
  kind: 'cell',
  description:
    "Time the cell's body precisely (IPython's %%timeit). Code after the options on the magic line is setup: it runs once, before timing, in the notebook.",
  examples: ['%%timeit -r 3\nconst s = shared(Float64Array, 1e6);\ndiffuse(s, 10);'],
  args: [...options, { kind: 'rest', name: 'setup', optional: true, help: 'setup code run once before timing.' }],
  handler: async (ctx) => {
    const setup = String(ctx.args.setup ?? '').trim();
    if (setup) await ctx.execute(setup, { lineOffset: 0 });
    return timeit(ctx, ctx.body, ctx.bodyLine - 1);
  },
};
