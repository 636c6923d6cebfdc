/**
 * The typed-array collectives Open MPI does natively (nonblocking: MPI_Ibarrier, MPI_Ibcast,
 * MPI_Iallreduce, MPI_Igatherv), on the collective context's MPI communicator. Allreduce
 * returns undefined — the comm layer then runs its own algorithm — for what MPI cannot do the
 * same way: user-defined Ops, MAXLOC/MINLOC pairs, Uint8ClampedArray, logical and bitwise ops
 * on floats, and send and receive arrays of different element types. That choice depends only
 * on arguments every rank passes alike, so all ranks take the same path.
 */
import { dtypeOf, type TypedArray } from '../buffers.js';
import { BAND, BOR, LAND, LOR, MAX, MIN, PROD, SUM, type Op } from '../ops.js';
import type { CommHandle, NativeCollectives } from '../transport.js';
import type { ContextTable } from './contexts.js';
import type { NativeMpi } from './native.js';

/** Op codes as native/src/collectives.cc numbers them. */
const kOpCodes = new Map<Op, number>([
  [SUM, 0],
  [PROD, 1],
  [MIN, 2],
  [MAX, 3],
  [LAND, 4],
  [LOR, 5],
  [BAND, 6],
  [BOR, 7],
]);
const kBitwise = new Set([4, 5, 6, 7]);
/**
 * Allreduce of fewer bytes than this runs on the comm layer's recursive doubling over this
 * transport's point-to-point, which beats Open MPI's nonblocking MPI_Iallreduce (libnbc, several
 * microseconds of schedule per call) for a handful of values; larger ones go to MPI. Measured
 * by bench/comm/mpi.ts; TSLAB_PARALLEL_MPI_NATIVE_ALLREDUCE_BYTES overrides (0: always MPI).
 */
const kNativeAllreduceBytes = Number(process.env.TSLAB_PARALLEL_MPI_NATIVE_ALLREDUCE_BYTES ?? 0);
const kClamped = 2;
const kFloat32 = 7;
const kFloat64 = 8;

/** Waits for a request; `buffers` (all MPI may touch meanwhile) are held until it completes. */
type AwaitRequest = (handle: number, what: () => string, buffers: readonly unknown[]) => Promise<void>;

export class MpiCollectives implements NativeCollectives {
  readonly #mpi: NativeMpi;
  readonly #contexts: ContextTable;
  readonly #await: AwaitRequest;

  constructor(mpi: NativeMpi, contexts: ContextTable, awaitRequest: AwaitRequest) {
    this.#mpi = mpi;
    this.#contexts = contexts;
    this.#await = awaitRequest;
  }

  #comm(comm: CommHandle): number {
    return this.#contexts.get(comm.context + 1).comm;
  }

  Barrier(comm: CommHandle): Promise<void> {
    return this.#await(this.#mpi.ibarrier(this.#comm(comm)), () => 'barrier()', []);
  }

  Bcast(comm: CommHandle, buf: TypedArray, root: number): Promise<void> {
    return this.#await(this.#mpi.ibcast(this.#comm(comm), buf, buf.byteLength, root), () => `Bcast(root=${root})`, [buf]);
  }

  Allreduce(comm: CommHandle, sendbuf: TypedArray, recvbuf: TypedArray, op: Op): Promise<void> | undefined {
    const code = kOpCodes.get(op);
    const dtype = dtypeOf(recvbuf);
    if (code === undefined || dtype === kClamped || sendbuf.constructor !== recvbuf.constructor) return undefined;
    if (recvbuf.byteLength < kNativeAllreduceBytes) return undefined;
    if (kBitwise.has(code) && (dtype === kFloat32 || dtype === kFloat64)) return undefined;
    const send = sendbuf === recvbuf ? null : sendbuf;
    const handle = this.#mpi.iallreduce(this.#comm(comm), send, recvbuf, recvbuf.length, dtype, code);
    return this.#await(handle, () => `Allreduce(op=${op.name})`, [sendbuf, recvbuf]);
  }

  Gatherv(
    comm: CommHandle,
    sendbuf: TypedArray,
    recvbuf: TypedArray | null,
    counts: readonly number[],
    displs: readonly number[],
    root: number,
  ): Promise<void> {
    const isRoot = comm.rank === root;
    const width = (isRoot && recvbuf ? recvbuf : sendbuf).BYTES_PER_ELEMENT;
    // MPI reads counts and displacements until the gather completes: held with the buffers.
    const byteCounts = isRoot ? Int32Array.from(counts, (c) => c * width) : null;
    const byteDispls = isRoot ? Int32Array.from(displs, (d) => d * width) : null;
    const sendBytes = isRoot ? byteCounts![root]! : sendbuf.byteLength;
    const handle = this.#mpi.igatherv(this.#comm(comm), sendbuf, sendBytes, isRoot ? recvbuf : null, byteCounts, byteDispls, root);
    return this.#await(handle, () => `Gatherv(root=${root})`, [sendbuf, recvbuf, byteCounts, byteDispls]);
  }
}
