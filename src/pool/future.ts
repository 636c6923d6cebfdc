/**
 * Futures, as in Python's concurrent.futures: pool.submit(fn, ...args) returns one at once;
 * `await future.result()` waits for the value; asCompleted(futures) yields them as they finish.
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

  /** The task's value; rejects with its error (or CancelledError). */
  result(): Promise<T> {
    return this.#control.promise;
  }

  /** The task's error, or undefined if it succeeded. */
  async exception(): Promise<unknown> {
    try {
      await this.#control.promise;
      return undefined;
    } catch (err) {
      return err;
    }
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

/** Yields each future as it completes (successfully or not), like concurrent.futures.as_completed. */
export function asCompleted<T>(futures: Iterable<Future<T>>): AsyncIterableIterator<Future<T>> {
  const pending = new Set(futures);
  const finished: Future<T>[] = [];
  let wake: (() => void) | undefined;
  for (const f of pending) {
    f.addDoneCallback(() => {
      finished.push(f);
      wake?.();
    });
  }
  const iterator: AsyncIterableIterator<Future<T>> = {
    async next(): Promise<IteratorResult<Future<T>>> {
      while (finished.length === 0 && pending.size > 0) await new Promise<void>((resolve) => (wake = resolve));
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
