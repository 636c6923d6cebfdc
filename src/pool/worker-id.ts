/**
 * Who is running this code: inside a pool task, the worker's id (1, 2, …); 0 outside a pool
 * worker (the main thread). process.pid is the thread's process (the same for every thread
 * worker, its own for each process worker).
 *
 * The runner publishes the identity in the worker's process context (util/process-context.ts),
 * which every copy of this package loaded in the worker shares (the shipped module may require
 * 'tslab-parallel').
 */
import { currentContext, defineSlot } from '../util/process-context.js';

export interface WorkerIdentity {
  readonly id: number;
}

const kWorkerSlot = defineSlot<WorkerIdentity | undefined>('pool.workerIdentity', () => undefined);

export function workerId(): number {
  return currentContext().peek(kWorkerSlot)?.id ?? 0;
}

/** Called once by the worker entry (runner). */
export function setWorkerIdentity(identity: WorkerIdentity): void {
  currentContext().set(kWorkerSlot, identity);
}
