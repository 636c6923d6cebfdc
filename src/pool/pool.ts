/**
 * Pool: Python's multiprocessing.Pool / concurrent.futures for TypeScript, over worker threads
 * (piscina) or child processes. A thin, validating face over the private PoolCore: options are
 * checked once here, arguments of each call here, everything else happens in core.ts.
 *
 *   const pool = new Pool({ workers: 4 });
 *   const squares = await pool.map((x: number) => x * x, [1, 2, 3]);
 *   for await (const r of pool.imapUnordered(slow, inputs)) console.log(r);
 *   const f = pool.submit(integrate, [0, 1]); console.log(await f.result());
 *   await pool.close();
 */
import { inspect } from 'node:util';
import { kToMimeBundle, type MimeBundle } from '../display/types.js';
import type { Call, Method } from './call.js';
import { PoolCore } from './core.js';
import { Errors } from './errors.js';
import { Future } from './future.js';
import { checkCallOptions, checkPoolOptions, checkProgressAfter, type Backend, type CallOptions, type PoolOptions } from './options.js';
import { formatStatus, type PoolStatus } from './status.js';

/** The calls of a pool; `pool.with(options)` gives them with fixed call options. */
export interface PoolCalls {
  /** fn(item) for every item, in parallel; results in input order (Pool.map). */
  map<T, R>(fn: (item: T) => R, items: Iterable<T>, options?: CallOptions): Promise<Awaited<R>[]>;
  /** fn(...args) for every argument list (Pool.starmap). */
  starmap<A extends readonly unknown[], R>(fn: (...args: A) => R, items: Iterable<A>, options?: CallOptions): Promise<Awaited<R>[]>;
  /** Results in input order as they become available (Pool.imap; chunksize 1 by default). */
  imap<T, R>(fn: (item: T) => R, items: Iterable<T>, options?: CallOptions): AsyncIterableIterator<Awaited<R>>;
  /** Results as they complete (Pool.imap_unordered). */
  imapUnordered<T, R>(fn: (item: T) => R, items: Iterable<T>, options?: CallOptions): AsyncIterableIterator<Awaited<R>>;
  /** fn(...args) on one worker (Pool.apply). */
  apply<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>>;
  /** fn(...args) on one worker, as a Future (Executor.submit). */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>>;
}

export class Pool implements PoolCalls {
  readonly #core: PoolCore;
  readonly #name: string;

  constructor(options?: PoolOptions) {
    const filled = checkPoolOptions(options);
    this.#name = filled.name;
    this.#core = new PoolCore(filled);
  }

  get backend(): Backend {
    return this.#core.backend;
  }

  /** Number of workers. */
  get workers(): number {
    return this.#core.workers;
  }

  get closed(): boolean {
    return this.#core.closed;
  }

  /** Seconds before a call starts reporting progress (-1: never); applies to calls started later. */
  get progressAfter(): number {
    return this.#core.progressAfter;
  }

  set progressAfter(seconds: number) {
    checkProgressAfter(seconds, 'progressAfter');
    this.#core.progressAfter = seconds;
  }

  map<T, R>(fn: (item: T) => R, items: Iterable<T>, options?: CallOptions): Promise<Awaited<R>[]> {
    return settle(() => this.with(options).map(fn, items));
  }

  starmap<A extends readonly unknown[], R>(fn: (...args: A) => R, items: Iterable<A>, options?: CallOptions): Promise<Awaited<R>[]> {
    return settle(() => this.with(options).starmap(fn, items));
  }

  imap<T, R>(fn: (item: T) => R, items: Iterable<T>, options?: CallOptions): AsyncIterableIterator<Awaited<R>> {
    try {
      return this.with(options).imap(fn, items);
    } catch (err) {
      return failing(err);
    }
  }

  imapUnordered<T, R>(fn: (item: T) => R, items: Iterable<T>, options?: CallOptions): AsyncIterableIterator<Awaited<R>> {
    try {
      return this.with(options).imapUnordered(fn, items);
    } catch (err) {
      return failing(err);
    }
  }

  apply<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
    return this.with(undefined).apply(fn, ...args);
  }

  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
    return this.with(undefined).submit(fn, ...args);
  }

  /** The calls with fixed options: `pool.with({ signal }).apply(f, x)`. Throws at once for bad options. */
  with(options: CallOptions | undefined): PoolCalls {
    const core = this.#core;
    const base = checkCallOptions(options);
    const merged = (extra: CallOptions | undefined): CallOptions => ({ ...base, ...checkCallOptions(extra) });
    const start = (method: Method, fn: unknown, items: ArrayLike<unknown>, star: boolean, opts: CallOptions): Call => {
      if (typeof fn !== 'function') throw Errors.NotAFunction(method);
      return core.start(method, fn, items, star, opts);
    };
    const settled = async (call: Call): Promise<unknown[]> => {
      await call.whenSettled();
      if (call.error) throw call.error;
      return call.results;
    };
    const iterate = (method: Method, fn: unknown, items: unknown, opts: CallOptions | undefined): AsyncIterableIterator<never> => {
      try {
        const call = start(method, fn, toItems(method, items, false), false, merged(opts));
        return (method === 'imap' ? call.ordered() : call.unordered()) as AsyncIterableIterator<never>;
      } catch (err) {
        return failing(err);
      }
    };
    return {
      map: async (fn, items, opts) => (await settled(start('map', fn, toItems('map', items, false), false, merged(opts)))) as never,
      starmap: async (fn, items, opts) =>
        (await settled(start('starmap', fn, toItems('starmap', items, true), true, merged(opts)))) as never,
      imap: (fn, items, opts) => iterate('imap', fn, items, opts),
      imapUnordered: (fn, items, opts) => iterate('imapUnordered', fn, items, opts),
      apply: async (fn, ...args) => (await settled(start('apply', fn, [args], true, base)))[0] as never,
      submit: (fn, ...args) => {
        let call: Call | undefined;
        let promise: Promise<never>;
        try {
          call = start('submit', fn, [args], true, base);
          const c = call;
          promise = settled(c).then((r) => r[0] as never);
        } catch (err) {
          promise = Promise.reject(err);
        }
        const future = new Future<unknown>({
          promise,
          started: () => call?.started ?? true,
          cancel: (error) => (call ? core.cancelUnstarted(call, error) : false),
        });
        return future as never;
      },
    };
  }

  /** Resolves when every worker has started (useful before timing, or to surface start-up errors). */
  ready(): Promise<void> {
    return this.#core.ready();
  }

  /** Grows or shrinks the pool. Shrinking lets the retiring workers finish their current batch. */
  resize(workers: number): Promise<void> {
    if (!Number.isInteger(workers) || workers <= 0) return Promise.reject(new TypeError('workers must be a positive integer'));
    return this.#core.resize(workers);
  }

  /** Cancels what is queued or running and stops every worker; resolves when they have exited. */
  close(): Promise<void> {
    return this.#core.close();
  }

  status(): PoolStatus {
    return this.#core.status();
  }

  toString(): string {
    return formatStatus(this.#name, this.status());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [kToMimeBundle](): MimeBundle {
    return { 'text/plain': this.toString() };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Items as an indexable list: typed arrays and arrays as they are, other iterables copied. */
function toItems(method: Method, items: unknown, argumentLists: boolean): ArrayLike<unknown> {
  let list: ArrayLike<unknown>;
  if (Array.isArray(items) || (ArrayBuffer.isView(items) && !(items instanceof DataView))) list = items as ArrayLike<unknown>;
  else if (items !== null && typeof items === 'object' && Symbol.iterator in items) list = Array.from(items as Iterable<unknown>);
  else throw Errors.NotIterable(method);
  if (argumentLists) {
    for (let i = 0; i < list.length; i++) if (!Array.isArray(list[i])) throw Errors.NotArgumentLists(method, i);
  }
  return list;
}

/** Errors of a promise-returning call arrive as rejections, whenever they are found. */
function settle<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (err) {
    return Promise.reject(err);
  }
}

function failing(error: unknown): AsyncIterableIterator<never> {
  let thrown = false;
  const iterator: AsyncIterableIterator<never> = {
    next: async () => {
      if (thrown) return { done: true, value: undefined };
      thrown = true;
      throw error;
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
