/**
 * src/parallel — shared-memory parallel loops: the %%parallel compiler (prange loops → thread
 * team) and its runtime, usable from a notebook or from any Node program.
 */
import type { CompileOptions, CompileResult } from './compiler/index.js';
import { parallelRuntime } from './runtime/instance.js';
import { numThreads as currentNumThreads } from './runtime/thread-state.js';

export { prange, iterationCount } from './range.js';
export { shared, isSharedView, type TypedArray, type TypedArrayConstructor } from './shared.js';
export { threadId, forceThreads } from './runtime/thread-state.js';
export { parallelFor, parallelReduce, type ParallelForOptions, type ParallelReduceOptions } from './library.js';
export { parallelRuntime, shutdownParallel } from './runtime/instance.js';
export { ParallelRuntime, type ParallelRuntimeOptions } from './runtime/runtime.js';
export { ensureSerialRuntime, installSerialRuntime, kRuntimeGlobal, type CompiledLoopRunner } from './runtime/serial-runtime.js';
export { formatMessage, categoryOf, type CompileMessage, type MessageCode, type Severity } from './compiler/messages.js';
export type { CompileOptions, CompileResult, CompiledLoop } from './compiler/index.js';
export { ParallelCompileError, Errors as ParallelErrors } from './errors.js';
export { kMaxThreads } from './runtime/control.js';
export type { LoopSpec, ChunkFunction, ThreadContext, ReductionOp, Schedule, ScheduleKind } from './spec.js';

/** Threads of the running loop; outside a loop, the team size a loop gets by default. */
export function numThreads(): number {
  return currentNumThreads();
}

/** Sets the team size of loops that do not give one (`%%parallel` without -n). */
export function setNumThreads(threads: number): void {
  parallelRuntime().defaultThreads = threads;
}

/** The runtime that compiled %%parallel code calls (also installed as the global __tsp_parallel). */
export function __parallelRuntime(): ReturnType<typeof parallelRuntime> {
  return parallelRuntime();
}

/**
 * Compiles a %%parallel cell. The compiler (and typescript) load on the first call: importing
 * this package, as every pool worker and rank does, must not pay for them.
 */
export function compileParallelCell(source: string, options?: CompileOptions): CompileResult {
  return (require('./compiler/index.js') as typeof import('./compiler/index.js')).compileParallelCell(source, options);
}
