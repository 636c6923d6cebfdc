/**
 * The Node-API addon (native/, built by `npm run build:mpi`), loaded on first use only: the
 * package works without it, and only a rank of the 'mpi' backend ever starts MPI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MpiErrors } from './errors.js';

/** What init() learned about the world and the library. */
export interface NativeInfo {
  readonly rank: number;
  readonly size: number;
  readonly tagUb: number;
  /** MPI_THREAD_* level provided (0 single ... 3 multiple); we ask for SERIALIZED (2). */
  readonly threadLevel: number;
  /** The libmpi made global (RTLD_GLOBAL) before MPI_Init_thread, '' when none was needed/found. */
  readonly library: string;
  /** MPI_Get_library_version. */
  readonly version: string;
}

/**
 * The addon's functions. Communicators are indices (0 is MPI_COMM_WORLD); ranks are ranks of
 * that communicator; source and tag -1 mean MPI_ANY_SOURCE / MPI_ANY_TAG. Operations return a
 * request handle (> 0) that completes through progress(), or 0 when already complete.
 */
export interface NativeMpi {
  /** `completions` receives kCompletionInts int32 per completed request: handle, source, tag, bytes, error, copied. */
  init(completions: Int32Array, probeStatus: Int32Array): NativeInfo;
  finalize(): void;
  abort(code: number): never;
  wtime(): number;
  errorString(code: number): string;
  state(): { initialized: boolean; finalized: boolean };
  readonly mpiVersion: string;

  commDup(comm: number): number;
  commSplit(comm: number, color: number, key: number): number;
  commFree(comm: number): void;

  isend(comm: number, dest: number, tag: number, view: ArrayBufferView, bytes: number): number;
  /** A small message: header [word0, 0, payload bytes, 0] and a copy of the payload (≤ kInlinePayload bytes). */
  isendInline(comm: number, dest: number, tag: number, word0: number, payload: ArrayBufferView): number;
  /** The header of a large message, [word0, sequence, total]: the payload follows on the data communicator. */
  isendHeader(comm: number, dest: number, tag: number, word0: number, sequence: number, total: number): number;
  /** With `into`, a small typed-array message that fits is copied there (completion field `copied`). */
  irecv(comm: number, source: number, tag: number, view: ArrayBufferView, bytes: number, into?: ArrayBufferView | null): number;
  improbe(comm: number, source: number, tag: number, view: ArrayBufferView, capacity: number): number;
  /**
   * MPI_Cancel on a request in flight; it completes later, with error kCancelled when the
   * cancel won. Absent in an addon built before it (receives are then never withdrawn).
   */
  cancel?(handle: number): boolean;

  progress(): number;
  progressSpin(maxNs: number): number;
  startProgress(onWake: () => void): void;
  /** `streaming`: a large transfer is in flight; the thread polls without sleeping. */
  park(watches: Int32Array | null, streaming: boolean): void;
  unpark(): void;
  setBackoff(spinNs: number, yieldNs: number, maxSleepNs: number): void;

  ibarrier(comm: number): number;
  ibcast(comm: number, view: ArrayBufferView, bytes: number, root: number): number;
  iallreduce(comm: number, send: ArrayBufferView | null, recv: ArrayBufferView, count: number, dtype: number, op: number): number;
  /**
   * Allreduce of at most 4096 bytes on a power-of-two communicator by recursive doubling over
   * point-to-point, spun on in C for up to spinNs: 0 when done by then, else a request handle.
   */
  allreduceSmall?(comm: number, send: ArrayBufferView | null, recv: ArrayBufferView, count: number, dtype: number, op: number, spinNs: number): number;
  igatherv(
    comm: number,
    send: ArrayBufferView,
    sendBytes: number,
    recv: ArrayBufferView | null,
    counts: Int32Array | null,
    displs: Int32Array | null,
    root: number,
  ): number;
  // A null send buffer is MPI_IN_PLACE. Counts and displacements: bytes, except ireduceScatter's (elements).
  ireduce?(comm: number, send: ArrayBufferView | null, recv: ArrayBufferView | null, count: number, dtype: number, op: number, root: number): number;
  ialltoall?(comm: number, send: ArrayBufferView | null, recv: ArrayBufferView, blockBytes: number): number;
  ialltoallv?(
    comm: number,
    send: ArrayBufferView | null,
    sendCounts: Int32Array | null,
    sendDispls: Int32Array | null,
    recv: ArrayBufferView,
    recvCounts: Int32Array,
    recvDispls: Int32Array,
  ): number;
  iallgatherv?(comm: number, send: ArrayBufferView | null, sendBytes: number, recv: ArrayBufferView, counts: Int32Array, displs: Int32Array): number;
  /** `block`: MPI_Ireduce_scatter_block with `counts` the one count; else MPI_Ireduce_scatter with an Int32Array. */
  ireduceScatter?(comm: number, send: ArrayBufferView | null, recv: ArrayBufferView, counts: Int32Array | number, dtype: number, op: number, block: boolean): number;
  iscan?(comm: number, send: ArrayBufferView | null, recv: ArrayBufferView, count: number, dtype: number, op: number, exclusive: boolean): number;
}

/** Int32 per completion in the shared array (native/src/runtime.h). */
export const kCompletionInts = 6;
/** The error of a completion whose request was cancelled (native/src/runtime.h). */
export const kCancelled = -1;

/** dist/src/comm/mpi → the package root. */
const kRoot = path.resolve(__dirname, '..', '..', '..', '..');

/** Where the addon is: TSLAB_PARALLEL_MPI_ADDON overrides (tests, custom builds). */
export function addonPath(): string {
  return process.env.TSLAB_PARALLEL_MPI_ADDON || path.join(kRoot, 'native', 'build', 'Release', 'tslab_mpi.node');
}

/** Whether the addon file exists (without loading it). */
export function addonBuilt(): boolean {
  return fs.existsSync(addonPath());
}

let loaded: NativeMpi | undefined;

export function loadNative(): NativeMpi {
  if (loaded) return loaded;
  const file = addonPath();
  if (!fs.existsSync(file)) throw MpiErrors.AddonMissing(file);
  try {
    loaded = require(file) as NativeMpi;
  } catch (err) {
    throw MpiErrors.AddonBroken(file, err instanceof Error ? err.message : String(err));
  }
  return loaded;
}
