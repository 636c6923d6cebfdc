/**
 * Parallel loops from a plain Node program, without the %%parallel compiler: the body is a
 * self-contained function `(i, env) => …` (it may use globals and `env`, nothing it closes
 * over), shipped to the thread team by its source. Typed arrays in `env` are shared memory.
 */
import { createHash } from 'node:crypto';
import { ship } from '../ship/index.js';
import { loadShipment } from '../ship/load.js';
import { checkThreads, Errors } from './errors.js';
import { parallelRuntime } from './runtime/instance.js';
import type { ChunkFunction, LoopSpec, ReductionOp, ScheduleKind } from './spec.js';

export interface ParallelForOptions<E> {
  /** Team size, the calling thread included (default numThreads()). */
  readonly threads?: number;
  /** static (default): one block of iterations per thread; dynamic: chunks from a shared counter. */
  readonly schedule?: ScheduleKind;
  /** Iterations per chunk (dynamic default: about 16 chunks per thread). */
  readonly chunk?: number;
  /** Passed to every call of the body: numbers are copied, typed arrays shared, the rest cloned. */
  readonly env?: E;
  /** Loop step (default 1). */
  readonly step?: number;
}

export interface ParallelReduceOptions<E> extends ParallelForOptions<E> {
  /** How the body's values combine (default '+'). */
  readonly op?: ReductionOp;
  /** The starting value, combined once (default: the operator's identity). */
  readonly initial?: number;
}

interface LibraryLoop {
  readonly spec: LoopSpec;
  readonly chunk: ChunkFunction;
}

const loops = new Map<string, LibraryLoop>();

/** Runs body(i, env) for i in [start, stop) across the thread team; returns when all are done. */
export function parallelFor<E = undefined>(
  start: number,
  stop: number,
  body: (i: number, env: E) => void,
  options: ParallelForOptions<E> = {},
): void {
  const loop = libraryLoop(body, undefined, options);
  parallelRuntime().run(loop.spec, [options.env], [], [], start, stop, options.step ?? 1, loop.chunk);
}

/** Combines body(i, env) for i in [start, stop) with `op` across the thread team. */
export function parallelReduce<E = undefined>(
  start: number,
  stop: number,
  body: (i: number, env: E) => number,
  options: ParallelReduceOptions<E> = {},
): number {
  const op = options.op ?? '+';
  const loop = libraryLoop(body, op, options);
  const initial = options.initial ?? { '+': 0, '*': 1, max: -Infinity, min: Infinity }[op];
  const [result] = parallelRuntime().run(loop.spec, [options.env], [initial], [], start, stop, options.step ?? 1, loop.chunk);
  return result as number;
}

function libraryLoop(body: Function, op: ReductionOp | undefined, options: ParallelForOptions<unknown>): LibraryLoop {
  if (typeof body !== 'function') throw new TypeError('the loop body must be a function (i, env) => …');
  if (options.threads !== undefined) checkThreads(options.threads);
  if (options.schedule !== undefined && options.schedule !== 'static' && options.schedule !== 'dynamic') {
    throw Errors.BadSchedule(options.schedule);
  }
  const source = String(body);
  const key = JSON.stringify([source, op ?? null, options.threads ?? null, options.schedule ?? null, options.chunk ?? null]);
  let loop = loops.get(key);
  if (loop) return loop;
  const step = op === undefined ? '__body(__a + __k * __st, __e);' : `__acc = ${accumulate(op)};`;
  const code =
    `function (__lo, __hi, __a, __st, __env, __red, __sh, __ctx) { const __body = (${source}); const __e = __env[0]; ` +
    `let __acc = __red[0]; let __k = __lo; try { for (; __k < __hi; __k++) { ${step} } } ` +
    `catch (__err) { __ctx.at = __a + __k * __st; throw __err; } __red[0] = __acc; }`;
  // Loaded through src/ship on this thread too, so the body sees the same names everywhere
  // (require, globals) and a body that closes over variables fails here, with ship's message.
  const chunk = loadShipment(ship({ body: { code } }))['body'] as ChunkFunction;
  const spec: LoopSpec = {
    id: 'F' + createHash('sha1').update(key).digest('hex').slice(0, 16),
    line: 0,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
    ...(options.chunk === undefined ? {} : { chunk: options.chunk }),
    names: ['env'],
    writes: [],
    escapes: [0],
    reductions: op === undefined ? [] : [{ name: 'result', op }],
    shared: [],
  };
  loops.set(key, (loop = { spec, chunk }));
  return loop;
}

function accumulate(op: ReductionOp): string {
  const value = '__body(__a + __k * __st, __e)';
  switch (op) {
    case '+':
      return `__acc + ${value}`;
    case '*':
      return `__acc * ${value}`;
    case 'max':
      return `Math.max(__acc, ${value})`;
    case 'min':
      return `Math.min(__acc, ${value})`;
  }
}
