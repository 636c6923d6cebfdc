/**
 * %%parallel: Numba's parallel=True for a notebook cell. The cell is compiled (src/parallel)
 * so that every `for (const i of prange(…))` loop — at the top level or in functions the cell
 * defines — runs across a team of threads sharing memory; everything else runs as usual, and
 * the cell's functions stay parallel when later cells call them.
 */
import {
  compileParallelCell,
  formatMessage,
  kMaxThreads,
  numThreads,
  ParallelCompileError,
  parallelRuntime,
  prange,
  shared,
  shutdownParallel,
  threadId,
  type Schedule,
} from '../parallel/index.js';
import { checkBody } from './args.js';
import type { ArgumentSpec, MagicContext, MagicSpec } from './types.js';

const parallelArgs: readonly ArgumentSpec[] = [
  {
    kind: 'option',
    name: 'threads',
    aliases: ['n'],
    type: 'integer',
    min: 1,
    max: kMaxThreads,
    metavar: 'N',
    help: 'threads per loop, the kernel thread included (default: numThreads(), the number of CPU cores).',
  },
  {
    kind: 'option',
    name: 'schedule',
    type: 'string',
    default: 'static',
    metavar: 'KIND[,CHUNK]',
    pattern: {
      regex: /^(static|dynamic)(,0*[1-9]\d*)?$/,
      expected: 'a schedule',
      fix: 'use static, dynamic, static,CHUNK or dynamic,CHUNK (e.g. --schedule dynamic,64)',
    },
    help:
      'static: one block of iterations per thread (default; static,CHUNK deals chunks round robin); ' +
      'dynamic: threads take chunks of CHUNK iterations from a shared counter (for uneven iterations).',
  },
];

/** Names cells use with %%parallel, bound in the notebook unless a cell defined its own. */
const kBindings: readonly { name: string; value: unknown; type: string }[] = [
  { name: 'prange', value: prange, type: 'typeof import("tslab-parallel").prange' },
  { name: 'shared', value: shared, type: 'typeof import("tslab-parallel").shared' },
  { name: 'numThreads', value: numThreads, type: '() => number' },
  { name: 'threadId', value: threadId, type: '() => number' },
];

export const parallelCell: MagicSpec = {
  name: 'parallel',
  kind: 'cell',
  description:
    'Run the prange loops of the cell on a team of threads sharing memory (Numba parallel=True). ' +
    'Each `for (const i of prange(a, b))` loop, in the cell or in functions it defines, is split across the threads; ' +
    'the rest of the cell runs as usual. Variables declared in the body are private; outer numbers that are only read ' +
    'are copied; `x += e`, `x -= e`, `x *= e`, `x /= e`, `x = Math.max(x, e)`, `x = Math.min(x, e)` are reductions ' +
    '(each thread starts from 0, 1 or ±Infinity; the starting value is combined once); any other write to an outer ' +
    'number is shared and races, with a warning. Typed arrays are the caller\'s own: every write reaches them (an ordinary ' +
    'array is copied into shared memory and back on each run; allocate with shared(Float64Array, n) to share it without copies). ' +
    'An array every thread updates, such as a histogram, is a declared reduction: prange(n).reduction(\'+\', h) gives each ' +
    'thread a private copy, combined into h in thread order at the end (operators + * max min). ' +
    'Functions the body calls are sent to the threads. numThreads() and threadId() tell a body where it runs.',
  examples: [
    '%%parallel -n 2',
    'function integrateExp(x0: number, x1: number, dx: number): number { … for (const i of prange(1, n - 1)) tot += … }',
    '%timeit integrateExp(0, 1, 1e-8)',
    '%%parallel --schedule dynamic,64',
    'for (const i of prange(x.length).reduction(\'+\', h)) h[bin(x[i])] += 1;',
  ],
  args: parallelArgs,
  bodyHolds: 'the code with its prange loops',
  handler: runParallelCell,
};

async function runParallelCell(ctx: MagicContext): Promise<unknown> {
  checkBody(ctx.spec, ctx.body); // the kernel checked it; this handler also runs without one (its tests)
  const threads = ctx.args.threads as number | undefined;
  const schedule = parseSchedule(String(ctx.args.schedule ?? 'static'));

  const runtime = parallelRuntime();
  runtime.configure({ definitions: ctx.definitions });
  ctx.state('parallel', () => {
    ctx.onShutdown(() => shutdownParallel());
    return true;
  });
  for (const b of kBindings) {
    if (!ctx.definitions.lookup(b.name)) ctx.setVariable(b.name, b.value, b.type);
  }

  const lineOffset = ctx.bodyLine - 1;
  const compiled = compileParallelCell(ctx.body, {
    ...(threads === undefined ? {} : { threads }),
    schedule,
    lineOffset,
    isNotebookName: (name) => ctx.definitions.lookup(name) !== undefined,
  });
  for (const m of compiled.messages) if (m.severity !== 'error') ctx.stderr(`${formatMessage(m)}\n`);
  if (compiled.hasErrors) throw new ParallelCompileError(compiled.messages);
  return ctx.execute(compiled.code, { lineOffset });
}

/** `static`, `dynamic`, `static,64`, `dynamic,8`: a value that --schedule's pattern accepted. */
export function parseSchedule(text: string): Schedule {
  const [kind, chunk] = text.trim().split(',');
  return { kind: kind as Schedule['kind'], chunk: chunk === undefined ? 0 : Number(chunk) };
}
