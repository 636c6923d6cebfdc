/**
 * Who is running this code: inside a pool task, the worker's id (1, 2, …); 0 outside a pool
 * worker (the main thread). process.pid is the thread's process (the same for every thread
 * worker, its own for each process worker).
 *
 * The runner publishes the identity on the worker's global object under the shared symbol
 * `tslab-parallel.worker` (util/global-object.ts), so that every copy of this package loaded in
 * the worker agrees (the shipped module may require 'tslab-parallel') and a task can read it
 * without the package. It is set once per thread and never disposed, so it is not a slot of the
 * process context.
 */
import { publishShared, readShared } from '../util/global-object.js';

export interface WorkerIdentity {
  readonly id: number;
}

export function workerId(): number {
  return (readShared('worker') as WorkerIdentity | undefined)?.id ?? 0;
}

/** Called once by the worker entry (runner). */
export function setWorkerIdentity(identity: WorkerIdentity): void {
  publishShared('worker', identity);
}
