/**
 * What a trace holds: typed intervals, one per piece of work or waiting, each on a row (a pool
 * worker, a team thread, a rank). Times are trace-clock milliseconds (clock.ts).
 */

interface IntervalBase {
  /** The Gantt row: 'worker 1', 'thread 0', 'rank 2'. */
  readonly row: string;
  /** Shown on the bar and on hover. */
  readonly label: string;
  readonly start: number;
  readonly end: number;
}

/** One pool task (one input of a map, or one apply/submit), as its worker ran it. */
export interface PoolTaskRecord extends IntervalBase {
  readonly kind: 'task';
  readonly worker: number;
  /** The pool call (map, apply…) it belongs to. */
  readonly call: number;
  readonly method: string;
  /** The input's position in the call. */
  readonly index: number;
  /** When the call was made (the task waited from here until its batch was sent). */
  readonly queued: number;
  /** The batch the task travelled in. */
  readonly batch: number;
}

/**
 * Moving a pool batch: 'send' from dispatch until the worker starts its first item (cloning
 * the items and the code, the message hop), 'return' from its last item until the results are
 * back on the main thread.
 */
export interface PoolTransferRecord extends IntervalBase {
  readonly kind: 'transfer';
  readonly direction: 'send' | 'return';
  readonly worker: number;
  readonly call: number;
  readonly batch: number;
  /** Tasks in the batch. */
  readonly items: number;
}

/** Iterations lo … hi-1 of a prange loop, run by one thread (several chunks merged if many). */
export interface ChunkRecord extends IntervalBase {
  readonly kind: 'chunk';
  readonly thread: number;
  /** 1, 2, … per trace: which loop run. */
  readonly loop: number;
  /** The loop's line in its cell. */
  readonly line: number;
  readonly lo: number;
  readonly hi: number;
  /** Chunks this record stands for (more than 1 only when a thread ran very many). */
  readonly chunks: number;
}

/** A team thread waiting at a loop's barrier for the others (after its last chunk). */
export interface IdleRecord extends IntervalBase {
  readonly kind: 'idle';
  readonly thread: number;
  readonly loop: number;
}

/** One prange loop run, from dispatch to its barrier. */
export interface LoopRecord extends IntervalBase {
  readonly kind: 'loop';
  readonly loop: number;
  readonly line: number;
  readonly threads: number;
  readonly iterations: number;
}

/** A communicator call on a rank: point to point, a wait, or a collective. */
export interface CommRecord extends IntervalBase {
  readonly kind: 'comm';
  readonly rank: number;
  /** send or recv (a message posted, matched by seq), or wait (the rank blocked in a call, named by label). */
  readonly call: string;
  /** The other rank of a point-to-point call; -1 for collectives. */
  readonly peer: number;
  readonly tag: number;
  /** Payload bytes (serialised size for objects). */
  readonly bytes: number;
  /** The n-th message from rank → peer with this tag: pairs a send with the receive that matched it. */
  readonly seq: number;
  /** A message of a collective operation (its algorithm's own point-to-point traffic). */
  readonly collective?: true;
  /** A nonblocking receive whose request was never waited for or tested to completion. */
  readonly unwaited?: boolean;
}

/** Compute on a rank: the time between its communication calls. */
export interface ComputeRecord extends IntervalBase {
  readonly kind: 'compute';
  readonly rank: number;
}

export type TraceRecord = PoolTaskRecord | PoolTransferRecord | ChunkRecord | IdleRecord | LoopRecord | CommRecord | ComputeRecord;
export type TraceKind = TraceRecord['kind'];

/** Kinds that count as a row's work in the summaries. */
export const kBusyKinds: ReadonlySet<TraceKind> = new Set<TraceKind>(['task', 'chunk', 'compute']);
