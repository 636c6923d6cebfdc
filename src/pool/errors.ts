/**
 * Errors of the pool, each from a named factory; each message says what happened and what to
 * do. Classes exist where callers test for the error (interrupts, aborts, dead workers,
 * cancelled futures). A task's own exception arrives as RemoteError (src/util/remote-error.ts).
 */
import { RemoteError, type SerializedError } from '../util/remote-error.js';
import type { Backend } from './options.js';
import { UserFacingError } from '../util/user-facing.js';

/** The kernel was interrupted while the call ran (Python: KeyboardInterrupt). */
export class PoolInterruptedError extends UserFacingError {
  override readonly name = 'PoolInterruptedError';
  readonly code = 'ERR_POOL_INTERRUPTED';
}

/** The call's AbortSignal fired. */
export class PoolAbortError extends UserFacingError {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
}

/** Future.cancel() cancelled the task before it started (concurrent.futures.CancelledError). */
export class CancelledError extends UserFacingError {
  override readonly name = 'CancelledError';
}

/**
 * A time limit passed (Python's TimeoutError): a call's `timeout` (the call failed and the
 * workers running it were replaced), or `future.result(timeout)` (the task keeps running).
 */
export class PoolTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly code = 'ERR_POOL_TIMEOUT';
  /** The limit, in seconds. */
  readonly timeout: number;
  /** The input still running when a call timed out (first of them), when known. */
  readonly index: number | undefined;
  readonly input: unknown;
  readonly worker: number | undefined;

  constructor(message: string, timeout: number, running?: RunningInput) {
    super(message);
    this.timeout = timeout;
    this.index = running?.index;
    this.input = running?.input;
    this.worker = running?.worker;
  }
}

/**
 * The pool's initializer failed in a worker (concurrent.futures' BrokenProcessPool): every call
 * fails with this error, and so does every later call; start a new pool. Its stack is the
 * initializer's, so the kernel shows the initializer's line.
 */
export class BrokenPoolError extends Error {
  override readonly name = 'BrokenPoolError';
  readonly code = 'ERR_POOL_BROKEN';
  readonly worker: number;

  constructor(remote: SerializedError, worker: number) {
    super(
      `the pool's initializer failed in worker ${worker}: ${remote.name}: ${remote.message.replace(/[.\s]+$/, '')}. ` +
        'The pool is broken and runs no more tasks: fix the initializer and start a new pool.',
    );
    this.worker = worker;
    const frames = (remote.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
    this.stack = `${this.name}: ${this.message}\n${frames.join('\n')}`;
  }
}

/** Which input a worker was running (for timeouts). */
export interface RunningInput {
  readonly worker: number;
  readonly pid: number | undefined;
  /** Exact when known; otherwise the batch. */
  readonly index?: number;
  readonly input?: unknown;
  readonly range?: readonly [number, number];
}

/** Why a worker stopped. */
export type WorkerLoss =
  | { readonly kind: 'exit'; readonly code: number | null; readonly signal: string | null }
  | { readonly kind: 'error'; readonly error: Error };

export interface WorkerDeathInfo {
  readonly worker: number;
  readonly pid: number | undefined;
  readonly backend: Backend;
  readonly loss: WorkerLoss;
  /** The input it was running, when known exactly. */
  readonly index?: number;
  readonly input?: unknown;
  /** Otherwise the inputs of the batch it was running. */
  readonly range?: readonly [number, number];
  readonly memoryLimitMb?: number;
}

/** A worker died (process.exit, out of memory, a crash) while running a task of this call. */
export class WorkerDiedError extends UserFacingError {
  override readonly name = 'WorkerDiedError';
  readonly worker: number;
  readonly pid: number | undefined;
  readonly index: number | undefined;
  readonly input: unknown;

  constructor(info: WorkerDeathInfo) {
    const who = info.backend === 'processes' && info.pid !== undefined ? `worker ${info.worker} (pid ${info.pid})` : `worker ${info.worker}`;
    const what =
      info.index !== undefined
        ? `input #${info.index} (${preview(info.input)})`
        : info.range
          ? info.range[1] - info.range[0] === 1
            ? `input #${info.range[0]}`
            : `one of inputs #${info.range[0]}–#${info.range[1] - 1}`
          : 'a task';
    super(
      `${who} died while running ${what}: ${describeLoss(info.loss, info.memoryLimitMb)}. ` +
        'The worker was replaced and the rest of this call was cancelled; the pool is ready for the next call.',
    );
    this.worker = info.worker;
    this.pid = info.pid;
    this.index = info.index;
    this.input = info.input;
  }
}

export function describeLoss(loss: WorkerLoss, memoryLimitMb: number | undefined): string {
  if (loss.kind === 'error') {
    const code = (loss.error as { code?: unknown }).code;
    if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
      const limit = memoryLimitMb !== undefined ? ` (resourceLimits.maxOldGenerationSizeMb = ${memoryLimitMb})` : '';
      return `it ran out of memory${limit}; use less memory per task or raise the limit`;
    }
    return `${loss.error.name}: ${loss.error.message}`;
  }
  if (loss.signal) return `it was killed by signal ${loss.signal}${loss.signal === 'SIGABRT' ? ' (a crash, e.g. out of memory)' : ''}`;
  return `it exited with code ${loss.code} (process.exit(${loss.code}) in the task, or a crash)`;
}

/** `input #3`, or `inputs #3–#7`. */
function inputs(range: readonly [number, number]): string {
  return range[1] - range[0] === 1 ? `input #${range[0]}` : `inputs #${range[0]}–#${range[1] - 1}`;
}

/** A detail as a sentence: one final period. */
function sentence(text: string): string {
  return `${text.replace(/[.\s]+$/, '')}.`;
}

/** A short, single-line rendering of an input for messages. */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export const Errors = {
  /** A task threw: the remote error, with the worker and the input. */
  TaskFailed: (error: SerializedError, worker: number, pid: number | undefined, backend: Backend, index: number, input: unknown) => {
    const who = backend === 'processes' && pid !== undefined ? `worker ${worker} (pid ${pid})` : `worker ${worker}`;
    const err = new RemoteError(error, who, `input #${index}: ${preview(input)}`);
    return Object.assign(err, { worker, pid, index, input });
  },
  /** Loading the shipped code failed in the worker (e.g. a module it imports is missing). */
  LoadFailed: (error: SerializedError, worker: number) =>
    Object.assign(new RemoteError(error, `worker ${worker}`, 'while loading the shipped code, before any input ran'), { worker }),
  /** A result could not be sent back (it held functions or handles). */
  ResultNotSendable: (worker: number, range: readonly [number, number], detail: string) =>
    new TypeError(
      `worker ${worker} could not send back the results of ${inputs(range)}: ${sentence(detail)} ` +
        'Return plain data (numbers, strings, arrays, plain objects, typed arrays), not functions or objects holding handles.',
    ),
  /** An input could not be sent to a worker. */
  InputNotSendable: (range: readonly [number, number], detail: string) =>
    new TypeError(
      `${inputs(range)} could not be sent to a worker: ${sentence(detail)} ` +
        'Pass plain data; ship functions by referring to them from the task function, or bind them with partial().',
    ),
  WorkerDied: (info: WorkerDeathInfo) => new WorkerDiedError(info),
  Interrupted: (method: string) =>
    new PoolInterruptedError(`${method} was interrupted: its queued tasks were dropped and the workers running its tasks were restarted`),
  Aborted: (method: string, reason: unknown) =>
    new PoolAbortError(`${method} was aborted: its queued tasks were dropped and the workers running its tasks were restarted`, { cause: reason }),
  Cancelled: () => new CancelledError('the task was cancelled before it started'),
  /** A call's `timeout` passed; `running` is what its workers were running (they are replaced). */
  CallTimedOut: (method: string, seconds: number, running: readonly RunningInput[], backend: Backend, notStarted: number) => {
    const first = running[0];
    let what: string;
    if (!first) what = `none of its ${notStarted} remaining inputs had started (the workers were busy with earlier calls)`;
    else {
      const who = backend === 'processes' && first.pid !== undefined ? `worker ${first.worker} (pid ${first.pid})` : `worker ${first.worker}`;
      const input = first.index !== undefined ? `input #${first.index} (${preview(first.input)})` : `one of ${inputs(first.range ?? [0, 0])}`;
      const others = running.length > 1 ? ` and ${running.length - 1} other worker${running.length > 2 ? 's' : ''}` : '';
      what = `${who} was still running ${input}${others}; ${running.length > 1 ? 'they were' : 'it was'} stopped and replaced`;
    }
    return new PoolTimeoutError(
      `pool.${method} timed out after ${seconds} s: ${what}. Its other tasks were cancelled; raise options.timeout if the work needs longer.`,
      seconds,
      first,
    );
  },
  /** future.result(timeout) / exception(timeout) gave up waiting. */
  ResultTimedOut: (seconds: number) =>
    new PoolTimeoutError(
      `the future's result was not ready within ${seconds} s; the task keeps running (wait again, or future.cancel() before it starts)`,
      seconds,
    ),
  /** asCompleted(futures, timeout) passed its timeout. */
  NotCompletedInTime: (pending: number, total: number, seconds: number) =>
    new PoolTimeoutError(`asCompleted: ${pending} of ${total} futures were not done within ${seconds} s; they keep running`, seconds),
  Broken: (remote: SerializedError, worker: number) => new BrokenPoolError(remote, worker),
  PoolClosed: () => new Error('the pool is closed; start a new one (new Pool(), or %pool in a notebook)'),
  NotAFunction: (method: string) => new TypeError(`pool.${method}(fn, …) needs a function as its first argument`),
  NotIterable: (method: string) => new TypeError(`pool.${method}(fn, items) needs an iterable of items (an array, a typed array, a Set, a generator …)`),
  NotArgumentLists: (method: string, index: number) =>
    new TypeError(`pool.${method}(fn, items) needs each item to be an array of arguments; item #${index} is not`),
};
