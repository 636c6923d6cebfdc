/**
 * tslab-parallel's pool: usable from any Node program, and behind %pool in the notebook.
 * The lead's src/index.ts re-exports this module.
 */
export { Pool, type PoolCalls } from './pool.js';
export { Future, asCompleted, wait, type ReturnWhen, type WaitResult } from './future.js';
export { partial } from '../ship/partial.js';
export { workerId } from './worker-id.js';
export { defaultChunksize } from './batching.js';
export { kDefaultPoolOptions, type Backend, type CallOptions, type PoolOptions, type ResourceLimits } from './options.js';
export { formatProgress, type ProgressCallback, type ProgressReport } from './progress.js';
export type { OutputCallback as PoolOutputCallback } from './output.js';
export { formatStatus, type PoolStatus } from './status.js';
export {
  BrokenPoolError,
  CancelledError,
  PoolAbortError,
  PoolInterruptedError,
  PoolTimeoutError,
  WorkerDiedError,
  Errors as PoolErrors,
} from './errors.js';
export { RemoteError } from '../util/remote-error.js';
export { UnshippableError } from '../ship/errors.js';
