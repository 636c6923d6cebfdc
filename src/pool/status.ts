/** What `%pool` (no arguments) shows: backend, workers, tasks done and queued, utilisation. */
import type { Backend } from './options.js';

export interface PoolStatus {
  readonly backend: Backend;
  readonly closed: boolean;
  readonly workers: number;
  readonly workerIds: readonly number[];
  /** One pid per worker (processes), or the pool's own pid (threads). */
  readonly pids: readonly (number | undefined)[];
  readonly busyWorkers: number;
  /** Calls not finished yet. */
  readonly calls: number;
  readonly tasksDone: number;
  readonly tasksQueued: number;
  readonly tasksRunning: number;
  /** Busy time of the workers over their lifetime, 0 … 1. */
  readonly utilisation: number;
}

export function formatStatus(name: string, s: PoolStatus): string {
  if (s.closed) return `${name}: closed`;
  const ids = s.workerIds.length > 0 ? ` (ids ${s.workerIds.join(', ')})` : '';
  const pids = s.backend === 'processes' ? `, pids ${s.pids.join(', ')}` : `, pid ${s.pids[0] ?? '?'}`;
  return (
    `${name}: ${s.workers} ${s.backend === 'threads' ? 'thread' : 'process'} worker${s.workers === 1 ? '' : 's'}${ids}${pids}\n` +
    `  ${s.busyWorkers} busy, ${s.tasksRunning} tasks running, ${s.tasksQueued} queued, ${s.tasksDone} done, ` +
    `utilisation ${(100 * s.utilisation).toFixed(0)}%`
  );
}
