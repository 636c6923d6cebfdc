/**
 * Who is running this code: inside a pool task, the worker's id (1, 2, …); 0 outside a pool
 * worker (the main thread). process.pid is the thread's process (the same for every thread
 * worker, its own for each process worker).
 *
 * The runner publishes the identity on globalThis under a Symbol.for key, so that every copy of
 * this package loaded in the worker (the shipped module may require 'tslab-parallel') agrees.
 */
const kWorkerIdentity = Symbol.for('tslab-parallel.worker');

export interface WorkerIdentity {
  readonly id: number;
}

export function workerId(): number {
  const identity = (globalThis as unknown as Record<symbol, WorkerIdentity | undefined>)[kWorkerIdentity];
  return identity?.id ?? 0;
}

/** Called once by the worker entry (runner). */
export function setWorkerIdentity(identity: WorkerIdentity): void {
  (globalThis as unknown as Record<symbol, WorkerIdentity>)[kWorkerIdentity] = identity;
}
