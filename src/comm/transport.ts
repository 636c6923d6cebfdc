/**
 * The one interface every transport implements (threads, processes, self; Open MPI later).
 *
 * A transport moves messages between the ranks of one world. It knows world ranks and
 * integer contexts (one per communicator and purpose), never communicators: the Communicator
 * layer translates ranks, checks arguments and builds every collective from point-to-point
 * unless the transport offers a native one (`collectives`). See README.md, "Writing a transport".
 *
 * Rules every transport keeps (MPI's):
 * - Non-overtaking: two messages from one sender that a receive could both match are received
 *   in the order they were sent; receives are matched in the order they were posted.
 * - A send completes when its buffer may be reused; it may complete before the receive does.
 * - Nothing here blocks the event loop for long: `wait` spins at most briefly, then sleeps on a
 *   promise, so the rank can still forward output and be stopped.
 */
import type { TypedArray } from './buffers.js';
import type { Op } from './ops.js';

export type BackendName = 'threads' | 'processes' | 'self' | 'mpi';

/** A send or receive in flight. Fields are final once `done` is true. */
export interface TransportOp {
  readonly done: boolean;
  /** Set when the operation failed (e.g. truncation); `done` is true then too. */
  readonly error: Error | undefined;
  /** Receives: the object received (undefined for typed-array receives). */
  readonly value: unknown;
  /** Receives: world rank of the sender, the message tag, and the bytes received. */
  readonly source: number;
  readonly tag: number;
  readonly bytes: number;
  /** Receives: true when the message was sent from a typed array (Send), false for send(). */
  readonly isBuffer: boolean;
  /** Receives of a typed-array message with recv(): the element-type code (see buffers.ts). */
  readonly dtype: number;
}

/** What probe learns about the next matching message, without receiving it. */
export interface ProbeInfo {
  readonly source: number;
  readonly tag: number;
  readonly bytes: number;
  readonly isBuffer: boolean;
}

/** A communicator as transports see it: its context and members (world ranks, in rank order). */
export interface CommHandle {
  readonly context: number;
  readonly group: readonly number[];
  /** This rank's rank in the communicator. */
  readonly rank: number;
}

/**
 * Collectives a transport can do better than point-to-point (Open MPI's tuned collectives).
 * Each returns undefined to let the Communicator run its own algorithm for these arguments
 * (e.g. a user-defined Op that the native library cannot call).
 */
export interface NativeCollectives {
  Barrier?(comm: CommHandle): Promise<void> | undefined;
  Bcast?(comm: CommHandle, buf: TypedArray, root: number): Promise<void> | undefined;
  Allreduce?(comm: CommHandle, sendbuf: TypedArray, recvbuf: TypedArray, op: Op): Promise<void> | undefined;
  /** recvbuf, counts and displs (in elements) are only meaningful on the root. */
  Gatherv?(
    comm: CommHandle,
    sendbuf: TypedArray,
    recvbuf: TypedArray | null,
    counts: readonly number[],
    displs: readonly number[],
    root: number,
  ): Promise<void> | undefined;
  // Counts and displacements are in elements; a null sendbuf is IN_PLACE (the data is in recvbuf).
  /** recvbuf is null off the root; sendbuf null only on the root. */
  Reduce?(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray | null, op: Op, root: number): Promise<void> | undefined;
  /** `count` elements to and from each rank. */
  Alltoall?(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray, count: number): Promise<void> | undefined;
  Alltoallv?(
    comm: CommHandle,
    sendbuf: TypedArray | null,
    sendCounts: readonly number[],
    sendDispls: readonly number[],
    recvbuf: TypedArray,
    recvCounts: readonly number[],
    recvDispls: readonly number[],
  ): Promise<void> | undefined;
  Allgatherv?(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray, counts: readonly number[], displs: readonly number[]): Promise<void> | undefined;
  /** Rank i gets `counts[i]` elements of the reduction (all counts equal: MPI_Reduce_scatter_block). */
  Reduce_scatter?(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray, counts: readonly number[], op: Op, block: boolean): Promise<void> | undefined;
  /** Inclusive (MPI_Scan) or exclusive (MPI_Exscan) prefix reduction. */
  Scan?(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray, op: Op, exclusive: boolean): Promise<void> | undefined;
}

export interface Transport {
  readonly backend: BackendName;
  /** This rank's world rank, and the world's size. */
  readonly rank: number;
  readonly size: number;

  /** Sends a structured-clone value. `dest` is a world rank (never PROC_NULL). */
  sendObject(dest: number, context: number, tag: number, value: unknown): TransportOp;
  /** Sends a typed array's bytes; the array must not change until the op is done. */
  sendBuffer(dest: number, context: number, tag: number, view: TypedArray): TransportOp;
  /**
   * Posts a receive. `source` is a world rank or ANY_SOURCE, `tag` a tag or ANY_TAG. With `into`,
   * a typed-array message is copied into it (too small: the op fails with MPI_ERR_TRUNCATE) and an
   * object message fails; without, the message is returned as `value` (typed-array messages as a
   * new array of the sender's type).
   */
  recv(source: number, context: number, tag: number, into: TypedArray | null): TransportOp;
  /**
   * Optional: takes back a receive posted here that no message has matched yet, so that it
   * never takes a message meant for a later receive (a dropped %mpirun session cell's). It
   * fails with Withdrawn, or completes as usual when it was matched already; false then.
   */
  withdraw?(op: TransportOp): boolean;
  /** Looks for a matching message that has arrived, making progress once first; never blocks. */
  probe(source: number, context: number, tag: number): ProbeInfo | undefined;

  /** Makes whatever progress is possible now, without waiting. */
  poll(): void;
  /**
   * Optional: polls for a short while without yielding; true if `ready()` became true. Lets a
   * hand-over that completes within the spin resolve without any promise in between.
   */
  spin?(ready: () => boolean): boolean;
  /**
   * Resolves once `ready()` is true, making progress meanwhile. While it sleeps, the rank is
   * reported as waiting in `waitingIn()` (e.g. "recv(source=0, tag=7)") for deadlock reports.
   */
  wait(ready: () => boolean, waitingIn: () => string): Promise<void>;

  /** Collectives done natively; absent means all are built from point-to-point. */
  readonly collectives?: NativeCollectives;
  /**
   * Called on every rank of `parent` after dup/split/createCart made `child` (null on ranks
   * left out), so a transport can make its own counterpart (MPI_Comm_split).
   */
  commCreated?(child: CommHandle | null, parent: CommHandle): Promise<void> | void;

  /** Completes outstanding sends before the rank finishes (MPI_Finalize). */
  finalize(): Promise<void>;
  /** Stops every rank of the world with `code` (MPI_Abort); does not return. */
  abort(code: number): never;
}
