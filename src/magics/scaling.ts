/**
 * %scaling: how a %%parallel function's time falls with the thread count. EXPR runs at each
 * count (every prange loop it reaches uses that many threads, whatever its -n), best of R runs,
 * rounds interleaved so that drift in the machine hits every count alike; then a table
 * (threads, time, speed-up, efficiency), the Amdahl serial fraction fitted to the speed-ups,
 * and a figure against the ideal line and the machine's ceiling (bare threads, src/trace/ceiling.ts).
 */
import { availableParallelism } from 'node:os';
import { plotly } from '../display/plotly.js';
import { table } from '../display/table.js';
import { forceThreads, kMaxThreads } from '../parallel/index.js';
import { machineCeiling } from '../trace/ceiling.js';
import { ScalingResult } from '../trace/scaling.js';
import { secondsIn } from './format-time.js';
import { UsageError, type MagicContext, type MagicSpec } from './types.js';


export const scalingLine: MagicSpec = {
  name: 'scaling',
  kind: 'line',
  resultType: 'import("tslab-parallel").ScalingResult',
  description:
    'Measure how an expression that calls %%parallel functions speeds up with the number of threads. ' +
    'EXPR runs at each thread count of -n (every prange loop it reaches uses that many threads), the best of R runs kept; ' +
    'a table gives time, speed-up and efficiency per count, and a figure draws the speed-up against the ideal line, ' +
    "Amdahl's law fitted to the points (1/S = f + (1 - f)/n; the serial fraction f is printed) and this machine's ceiling: " +
    'the same kind of loop on bare threads, measured once per kernel. Below Amdahl: overhead; below the ceiling: the machine. ' +
    'A run on 1 thread (the baseline) is always included. `x = %scaling …` binds the result (rows, serialFraction, figure()).',
  examples: ['%scaling integrateExp(0, 1, 1e-8)', '%scaling -n 1,2,4 -r 5 integrateExp(0, 1, 1e-8)', 'const s = %scaling -n 1,2 diffuse(u, 10)'],
  args: [
    { kind: 'option', name: 'threads', aliases: ['n'], type: 'string', metavar: 'N,N,…', help: 'thread counts (default: 1, 2, 4 … up to the number of CPU cores).' },
    { kind: 'option', name: 'repeat', aliases: ['r'], type: 'integer', min: 1, default: 3, metavar: 'R', help: 'runs at each count; the best is kept.' },
    { kind: 'flag', name: 'no-ceiling', dest: 'noCeiling', help: "skip measuring the machine's ceiling." },
    { kind: 'rest', name: 'expression', help: 'an expression to time (it may await).' },
  ],
  handler: runScaling,
};

/** `1,2,4` → [1, 2, 4] (1 added, sorted, unique); default: powers of two up to the cores, and the cores. */
export function parseThreadCounts(text: string | undefined, cores = availableParallelism()): number[] {
  if (text === undefined) {
    const counts = [1];
    for (let n = 2; n <= cores; n *= 2) counts.push(n);
    if (counts.at(-1) !== cores) counts.push(cores);
    return counts;
  }
  const parts = text.split(',').map((p) => p.trim());
  const counts = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (parts.length === 0 || counts.some((n) => !(n >= 1 && n <= kMaxThreads))) {
    throw new UsageError(`%scaling: -n ${text} is not a list of thread counts; use numbers from 1 to ${kMaxThreads} separated by commas (e.g. -n 1,2,4)`);
  }
  return [...new Set([1, ...counts])].sort((a, b) => a - b);
}

async function runScaling(ctx: MagicContext): Promise<ScalingResult> {
  const expression = String(ctx.args.expression ?? '').trim();
  if (!expression) throw new UsageError('%scaling needs an expression to time (e.g. %scaling -n 1,2 integrateExp(0, 1, 1e-8))');
  const counts = parseThreadCounts(ctx.args.threads === undefined ? undefined : String(ctx.args.threads));
  const repeat = Number(ctx.args.repeat);
  const fn = await ctx.compile(expression, { lineOffset: ctx.bodyLine - 1 });
  const runAt = async (threads: number): Promise<number> => {
    const restore = forceThreads(threads);
    try {
      const t0 = performance.now();
      const value = fn();
      if (value instanceof Promise) await value;
      return (performance.now() - t0) / 1000;
    } finally {
      restore();
    }
  };
  await runAt(Math.max(...counts)); // warm-up: starts the team's threads, compiles the bodies
  const timings = new Map<number, number[]>(counts.map((n) => [n, []]));
  for (let r = 0; r < repeat && !ctx.signal.aborted; r++) {
    for (const n of counts) timings.get(n)!.push(await runAt(n));
  }
  const ceiling = ctx.args.noCeiling ? undefined : machineCeiling(counts);
  const result = new ScalingResult(timings, ceiling);
  ctx.display(plotly(result.figure(`Scaling of ${expression.length > 60 ? `${expression.slice(0, 57)}…` : expression}`)));
  ctx.display(table(result.tableRows(secondsIn(result.rows[0]!.seconds)), { caption: result.describe() }));
  ctx.stdout(`${result.describe()}\n`);
  return result;
}
