/**
 * Futures, as in Python's concurrent.futures: pool.submit(fn, ...args) returns one at once;
 * `await future.result(timeout?)` waits for the value; asCompleted(futures) yields them as they
 * finish; wait(futures, returnWhen, timeout?) splits them into done and not done.
 * A Future is deliberately not thenable, so that async iteration yields the futures themselves.
 */
import { Errors } from './errors.js';

type State = 'pending' | 'running' | 'finished' | 'failed' | 'cancelled';

export interface FutureControl<T> {
  readonly promise: Promise<T>;
  /** Whether the task has been sent to a worker. */
  started(): boolean;
  /** Cancels the task if it has not started; returns whether it did. */
  cancel(error: Error): boolean;
}

export class Future<T> {
  readonly #control: FutureControl<T>;
  #state: State = 'pending';
  #value: T | undefined;
  #error: unknown;
  readonly #callbacks: ((f: Future<T>) => void)[] = [];

  /** @internal Made by pool.submit(). */
  constructor(control: FutureControl<T>) {
    this.#control = control;
    control.promise.then(
      (value) => this.#settle('finished', value, undefined),
      (error: unknown) => this.#settle(this.#state === 'cancelled' ? 'cancelled' : 'failed', undefined, error),
    );
  }

  /**
   * The task's value; rejects with its error (or CancelledError). With `timeout` (seconds),
   * rejects with a TimeoutError if the task has not finished by then; the task keeps running.
   */
  result(timeout?: number): Promise<T> {
    if (timeout === undefined) return this.#control.promise;
    if (!isTimeout(timeout)) return Promise.reject(badTimeout('future.result(timeout)'));
    return withTimeout(this.#control.promise, timeout);
  }

  /** The task's error, or undefined if it succeeded; `timeout` as for result(). */
  async exception(timeout?: number): Promise<unknown> {
    if (timeout !== undefined && !isTimeout(timeout)) throw badTimeout('future.exception(timeout)');
    const settled = this.#control.promise.then(
      () => undefined,
      (err: unknown) => err,
    );
    return timeout === undefined ? settled : withTimeout(settled, timeout);
  }

  done(): boolean {
    return this.#state === 'finished' || this.#state === 'failed' || this.#state === 'cancelled';
  }

  running(): boolean {
    return !this.done() && this.#control.started();
  }

  cancelled(): boolean {
    return this.#state === 'cancelled';
  }

  /** Cancels the task if it has not started yet (as concurrent.futures does). */
  cancel(): boolean {
    if (this.#state === 'cancelled') return true;
    if (this.done() || this.#control.started()) return false;
    this.#state = 'cancelled';
    return this.#control.cancel(Errors.Cancelled());
  }

  /** Calls `fn(future)` when it is done (at once if it is). */
  addDoneCallback(fn: (future: Future<T>) => void): void {
    if (this.done()) fn(this);
    else this.#callbacks.push(fn);
  }

  #settle(state: State, value: T | undefined, error: unknown): void {
    this.#state = state;
    this.#value = value;
    this.#error = error;
    for (const fn of this.#callbacks.splice(0)) {
      try {
        fn(this);
      } catch {
        // as in Python, a failing callback does not affect others
      }
    }
  }

  /** The settled value, synchronously (undefined until finished). */
  get value(): T | undefined {
    return this.#value;
  }

  /** The settled error, synchronously (undefined unless failed or cancelled). */
  get error(): unknown {
    return this.#error;
  }
}

/**
 * Yields each future as it completes (successfully or not), like concurrent.futures.as_completed.
 * With `timeout` (seconds, counted from this call), the iteration throws a TimeoutError once it
 * passes with futures still pending; they keep running.
 */
export function asCompleted<T>(futures: Iterable<Future<T>>, timeout?: number): AsyncIterableIterator<Future<T>> {
  if (timeout !== undefined && !isTimeout(timeout)) throw badTimeout('asCompleted(futures, timeout)');
  const pending = new Set(futures);
  const total = pending.size;
  const finished: Future<T>[] = [];
  const deadline = timeout === undefined ? Infinity : performance.now() + timeout * 1000;
  let wake: (() => void) | undefined;
  for (const f of pending) {
    f.addDoneCallback(() => {
      finished.push(f);
      wake?.();
    });
  }
  const iterator: AsyncIterableIterator<Future<T>> = {
    async next(): Promise<IteratorResult<Future<T>>> {
      while (finished.length === 0 && pending.size > 0) {
        const left = deadline - performance.now();
        if (left <= 0) throw Errors.NotCompletedInTime(pending.size, total, timeout as number);
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (left !== Infinity) timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
      const f = finished.shift();
      if (!f) return { done: true, value: undefined };
      pending.delete(f);
      return { done: false, value: f };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

export type ReturnWhen = 'FIRST_COMPLETED' | 'FIRST_EXCEPTION' | 'ALL_COMPLETED';

export interface WaitResult<T> {
  readonly done: Set<Future<T>>;
  readonly notDone: Set<Future<T>>;
}

const kReturnWhen: readonly ReturnWhen[] = ['FIRST_COMPLETED', 'FIRST_EXCEPTION', 'ALL_COMPLETED'];

/**
 * Waits for futures like concurrent.futures.wait: until one finishes ('FIRST_COMPLETED'), one
 * fails ('FIRST_EXCEPTION'; all finishing counts too), or all finish ('ALL_COMPLETED', the
 * default), or `timeout` seconds pass. Resolves with the futures done and not done; never rejects
 * for the futures' errors (read them with f.exception()).
 */
export async function wait<T>(futures: Iterable<Future<T>>, returnWhen: ReturnWhen = 'ALL_COMPLETED', timeout?: number): Promise<WaitResult<T>> {
  if (futures === null || typeof (futures as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') {
    throw new TypeError('wait(futures, …) needs an iterable of futures (e.g. an array of pool.submit(…) results)');
  }
  const all = new Set(futures);
  for (const f of all) if (!(f instanceof Future)) throw new TypeError('wait(futures, …) needs futures (from pool.submit), got ' + describe(f));
  if (!kReturnWhen.includes(returnWhen)) {
    throw new TypeError(`wait(futures, returnWhen): returnWhen must be 'FIRST_COMPLETED', 'FIRST_EXCEPTION' or 'ALL_COMPLETED'; got ${describe(returnWhen)}`);
  }
  if (timeout !== undefined && !isTimeout(timeout)) throw badTimeout('wait(futures, returnWhen, timeout)');
  const split = (): WaitResult<T> => {
    const done = new Set<Future<T>>();
    const notDone = new Set<Future<T>>();
    for (const f of all) (f.done() ? done : notDone).add(f);
    return { done, notDone };
  };
  const failed = (f: Future<T>): boolean => f.done() && !f.cancelled() && f.error !== undefined;
  const satisfied = (): boolean => {
    const { done, notDone } = split();
    if (notDone.size === 0) return true;
    if (returnWhen === 'FIRST_COMPLETED') return done.size > 0;
    return returnWhen === 'FIRST_EXCEPTION' && [...done].some(failed);
  };
  if (satisfied() || timeout === 0) return split();
  await new Promise<void>((resolve) => {
    const timer = timeout === undefined ? undefined : setTimeout(resolve, timeout * 1000);
    for (const f of all) {
      f.addDoneCallback(() => {
        if (!satisfied()) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
  return split();
}

function isTimeout(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function badTimeout(where: string): TypeError {
  return new TypeError(`${where}: timeout must be a number of seconds >= 0 (or left out to wait as long as it takes)`);
}

/** The promise's outcome, or a TimeoutError after `seconds`; the work behind it goes on. */
function withTimeout<T>(promise: Promise<T>, seconds: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(Errors.ResultTimedOut(seconds)), seconds * 1000);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  return Object.prototype.toString.call(v);
}
