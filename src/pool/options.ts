/**
 * Pool and call options: what callers may pass, the defaults (one kDefault… object), and the
 * checks, one message per field, done once in the public constructor / method.
 */
import * as os from 'node:os';
import type { DefinitionLookup } from '../ship/types.js';
import { currentContext, isProcessContext, type ProcessContext } from '../util/process-context.js';
import type { OutputCallback } from './output.js';
import type { ProgressCallback } from './progress.js';

export type Backend = 'threads' | 'processes';

/** As worker_threads' ResourceLimits. The processes backend supports maxOldGenerationSizeMb only. */
export interface ResourceLimits {
  readonly maxOldGenerationSizeMb?: number;
  readonly maxYoungGenerationSizeMb?: number;
  readonly codeRangeSizeMb?: number;
  readonly stackSizeMb?: number;
}

export interface PoolOptions {
  /** How the pool is called in status lines (the notebook variable); default 'pool'. */
  readonly name?: string;
  /** Number of workers; default: the number of CPU cores (os.availableParallelism()). */
  readonly workers?: number;
  /** 'threads' (worker threads, via piscina) or 'processes' (child processes, one pid each). */
  readonly backend?: Backend;
  /** The notebook's definitions, so that functions of earlier cells ship with what they use. */
  readonly definitions?: DefinitionLookup;
  /** Directory that workers resolve require() against; default definitions.cwd or process.cwd(). */
  readonly cwd?: string;
  /** Receives task output, whole lines prefixed `[worker N] `; default: process.stdout/stderr. */
  readonly onOutput?: OutputCallback;
  /** Receives progress of calls running longer than progressAfter; default: nothing. */
  readonly onProgress?: ProgressCallback;
  /** Seconds before a call starts reporting progress; -1: never. Default 2. */
  readonly progressAfter?: number;
  /** Memory limits per worker (out of memory then kills only that worker). */
  readonly resourceLimits?: ResourceLimits;
  /** Node options for the workers (e.g. ['--expose-gc']). */
  readonly execArgv?: readonly string[];
  /** Extra environment variables for process workers. */
  readonly env?: Readonly<Record<string, string>>;
  /** Cancel running calls on a kernel interrupt (src/util/interrupt.ts). Default true. */
  readonly interruptible?: boolean;
  /** Whose kernel interrupts cancel its calls (src/util/process-context.ts). Default: the current context. */
  readonly context?: ProcessContext;
  /**
   * Runs once in each worker before its first task, also in every replacement (Python's
   * initializer): per-worker state goes in the worker's global variables. If it throws, the pool is broken.
   */
  readonly initializer?: (...args: never[]) => unknown;
  /** Arguments of the initializer (structured clone). */
  readonly initargs?: readonly unknown[];
  /** A worker is replaced by a fresh one after this many tasks (chunks, as in Python); default: never. */
  readonly maxTasksPerChild?: number;
}

export interface FilledPoolOptions {
  readonly name: string;
  readonly workers: number;
  readonly backend: Backend;
  readonly definitions: DefinitionLookup | undefined;
  readonly cwd: string;
  readonly onOutput: OutputCallback | undefined;
  readonly onProgress: ProgressCallback | undefined;
  readonly progressAfter: number;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly execArgv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly interruptible: boolean;
  readonly context: ProcessContext;
  readonly initializer: Function | undefined;
  readonly initargs: readonly unknown[];
  readonly maxTasksPerChild: number | undefined;
}

export const kDefaultPoolOptions = {
  name: 'pool',
  workers: os.availableParallelism(),
  backend: 'threads' as Backend,
  progressAfter: 2,
  execArgv: [] as readonly string[],
  env: {} as Readonly<Record<string, string>>,
  interruptible: true,
} as const;

/** Options of one call (map, imap, …; apply and submit through pool.with(options)). */
export interface CallOptions {
  /** Items per chunk: the unit a worker takes at a time. Default: Python's choice (map) or 1 (imap). */
  readonly chunksize?: number;
  /** Aborting cancels the call: queued items are dropped, workers running its items are restarted. */
  readonly signal?: AbortSignal;
  /** Transfer (not copy) ArrayBuffers of typed-array arguments and results; the sender loses them. */
  readonly transfer?: boolean;
  /** Overrides the pool's progressAfter for this call. */
  readonly progressAfter?: number;
  /**
   * Seconds the call may take, from the moment it is made: then it fails with a TimeoutError
   * naming the input still running, and the workers running its tasks are replaced.
   */
  readonly timeout?: number;
}

const kResourceLimitKeys = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** A finite, positive number of seconds. */
export function isSeconds(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/** What progressAfter may be, in every message that checks it. */
export const kProgressAfterRule = 'a number of seconds >= 0, or -1 for never';

export function isProgressAfter(v: unknown): v is number {
  return typeof v === 'number' && (v === -1 || (Number.isFinite(v) && v >= 0));
}

/** Throws `<what> must be a number of seconds >= 0, or -1 for never` (TypeError). */
export function checkProgressAfter(v: unknown, what = 'options.progressAfter'): void {
  if (!isProgressAfter(v)) throw new TypeError(`${what} must be ${kProgressAfterRule}`);
}

/** Checks every field; throws TypeError (wrong type) or RangeError (conflicting options). */
export function checkPoolOptions(options: unknown): FilledPoolOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const o = options as Record<string, unknown>;
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) throw new TypeError('options.name must be a non-empty string');
  if (o.workers !== undefined && !isPositiveInteger(o.workers)) throw new TypeError('options.workers must be a positive integer');
  if (o.backend !== undefined && o.backend !== 'threads' && o.backend !== 'processes') {
    throw new TypeError("options.backend must be 'threads' or 'processes'");
  }
  const defs = o.definitions as { lookup?: unknown; cwd?: unknown } | undefined;
  if (defs !== undefined && (defs === null || typeof defs.lookup !== 'function' || typeof defs.cwd !== 'string')) {
    throw new TypeError('options.definitions must be a DefinitionLookup (lookup(name) and cwd)');
  }
  if (o.cwd !== undefined && typeof o.cwd !== 'string') throw new TypeError('options.cwd must be a string');
  if (o.onOutput !== undefined && typeof o.onOutput !== 'function') throw new TypeError('options.onOutput must be a function');
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new TypeError('options.onProgress must be a function');
  if (o.progressAfter !== undefined) checkProgressAfter(o.progressAfter);
  if (o.resourceLimits !== undefined) checkResourceLimits(o.resourceLimits, o.backend);
  if (o.execArgv !== undefined && !(Array.isArray(o.execArgv) && o.execArgv.every((a) => typeof a === 'string'))) {
    throw new TypeError('options.execArgv must be an array of strings');
  }
  if (o.env !== undefined && (o.env === null || typeof o.env !== 'object' || Object.values(o.env).some((v) => typeof v !== 'string'))) {
    throw new TypeError('options.env must be an object of strings');
  }
  if (o.interruptible !== undefined && typeof o.interruptible !== 'boolean') throw new TypeError('options.interruptible must be a boolean');
  if (o.context !== undefined && !isProcessContext(o.context)) throw new TypeError('options.context must be a ProcessContext (from currentContext())');
  if (o.initializer !== undefined && typeof o.initializer !== 'function') throw new TypeError('options.initializer must be a function');
  if (o.initargs !== undefined && !Array.isArray(o.initargs)) throw new TypeError('options.initargs must be an array of arguments');
  if (o.initargs !== undefined && o.initializer === undefined) {
    throw new TypeError('options.initargs needs options.initializer (the function they are passed to)');
  }
  if (o.initargs !== undefined) checkSendable(o.initargs as unknown[]);
  if (o.maxTasksPerChild !== undefined && !isPositiveInteger(o.maxTasksPerChild)) {
    throw new TypeError('options.maxTasksPerChild must be a positive integer (tasks before a worker is replaced)');
  }
  const definitions = o.definitions as DefinitionLookup | undefined;
  return {
    name: (o.name as string | undefined) ?? kDefaultPoolOptions.name,
    workers: (o.workers as number | undefined) ?? kDefaultPoolOptions.workers,
    backend: (o.backend as Backend | undefined) ?? kDefaultPoolOptions.backend,
    definitions,
    cwd: (o.cwd as string | undefined) ?? definitions?.cwd ?? process.cwd(),
    onOutput: o.onOutput as OutputCallback | undefined,
    onProgress: o.onProgress as ProgressCallback | undefined,
    progressAfter: (o.progressAfter as number | undefined) ?? kDefaultPoolOptions.progressAfter,
    resourceLimits: o.resourceLimits as ResourceLimits | undefined,
    execArgv: (o.execArgv as readonly string[] | undefined) ?? kDefaultPoolOptions.execArgv,
    env: (o.env as Readonly<Record<string, string>> | undefined) ?? kDefaultPoolOptions.env,
    interruptible: (o.interruptible as boolean | undefined) ?? kDefaultPoolOptions.interruptible,
    context: (o.context as ProcessContext | undefined) ?? currentContext(),
    initializer: o.initializer as Function | undefined,
    initargs: (o.initargs as readonly unknown[] | undefined) ?? [],
    maxTasksPerChild: o.maxTasksPerChild as number | undefined,
  };
}

/** initargs travel to every worker by structured clone: say so now rather than break the pool later. */
function checkSendable(initargs: readonly unknown[]): void {
  try {
    structuredClone(initargs);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new TypeError(`options.initargs cannot be sent to the workers (${detail}); pass plain data, and ship functions by using them from the initializer`);
  }
}

function checkResourceLimits(limits: unknown, backend: unknown): void {
  if (limits === null || typeof limits !== 'object') throw new TypeError('options.resourceLimits must be an object');
  for (const [key, value] of Object.entries(limits)) {
    if (!(kResourceLimitKeys as readonly string[]).includes(key)) {
      throw new TypeError(`options.resourceLimits.${key} is not a resource limit (use ${kResourceLimitKeys.join(', ')})`);
    }
    if (!isPositiveInteger(value)) throw new TypeError(`options.resourceLimits.${key} must be a positive integer`);
    if (backend === 'processes' && key !== 'maxOldGenerationSizeMb') {
      throw new RangeError(`{ backend: 'processes' } does not support resourceLimits.${key}; use maxOldGenerationSizeMb`);
    }
  }
}

export function checkCallOptions(options: unknown): CallOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const o = options as Record<string, unknown>;
  if (o.chunksize !== undefined && !isPositiveInteger(o.chunksize)) throw new TypeError('options.chunksize must be a positive integer');
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
  if (o.transfer !== undefined && typeof o.transfer !== 'boolean') throw new TypeError('options.transfer must be a boolean');
  if (o.progressAfter !== undefined) checkProgressAfter(o.progressAfter);
  if (o.timeout !== undefined && !isSeconds(o.timeout)) throw new TypeError('options.timeout must be a number of seconds > 0');
  return o as CallOptions;
}
