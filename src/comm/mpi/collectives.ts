/**
 * The typed-array collectives Open MPI does natively, each as its nonblocking MPI call
 * (MPI_Ibarrier, MPI_Ibcast, MPI_Ireduce, MPI_Iallreduce, MPI_Igatherv, MPI_Iallgatherv,
 * MPI_Ialltoall, MPI_Ialltoallv, MPI_Ireduce_scatter(_block), MPI_Iscan, MPI_Iexscan), on the
 * collective context's MPI communicator (a small Allreduce on a power-of-two communicator runs
 * on the addon's allreduceSmall instead, native/src/small-allreduce.cc); the comm layer's
 * nonblocking collectives (Ibcast ...) reach the same calls. Reductions return undefined — the comm layer then runs its own
 * algorithm — for what MPI cannot do the same way: user-defined Ops, MAXLOC/MINLOC pairs,
 * Uint8ClampedArray, logical and bitwise ops on floats, and send and receive arrays of
 * different element types. That choice depends only on arguments every rank passes alike, so
 * all ranks take the same path.
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
/**
 * Allreduce of at most this many bytes on a power-of-two communicator runs on the addon's
 * allreduceSmall (recursive doubling over MPI point-to-point, spun on in C): about a third of
 * MPI_Iallreduce's time for one double (bench/comm/mpi.ts). The addon's limit is 4096;
 * TSLAB_PARALLEL_MPI_SMALL_ALLREDUCE_BYTES=0 sends everything to MPI_Iallreduce.
 */
const kSmallAllreduceBytes = Math.min(4096, Number(process.env.TSLAB_PARALLEL_MPI_SMALL_ALLREDUCE_BYTES ?? 4096));
const kClamped = 2;
const kFloat32 = 7;
const kFloat64 = 8;

/** Waits for a request; `buffers` (all MPI may touch meanwhile) are held until it completes. */
type AwaitRequest = (handle: number, what: () => string, buffers: readonly unknown[]) => Promise<void>;

export class MpiCollectives implements NativeCollectives {
  readonly #mpi: NativeMpi;
  readonly #contexts: ContextTable;
  readonly #await: AwaitRequest;
  /** How long allreduceSmall spins in C before it leaves the rest to progress(). */
  readonly #spinNs: number;
  // An addon built before a call was added lacks it (optional below): that collective then runs
  // on the comm layer's algorithm until `npm run build:mpi` rebuilds the addon.

  constructor(mpi: NativeMpi, contexts: ContextTable, awaitRequest: AwaitRequest, spinNs: number) {
    this.#mpi = mpi;
    this.#contexts = contexts;
    this.#await = awaitRequest;
    this.#spinNs = spinNs;
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
    const r = reduction(op, recvbuf, sendbuf);
    if (!r || recvbuf.byteLength < kNativeAllreduceBytes) return undefined;
    const send = sendbuf === recvbuf ? null : sendbuf;
    const small = this.#mpi.allreduceSmall && recvbuf.byteLength <= kSmallAllreduceBytes && isPowerOfTwo(comm.group.length);
    const handle = small
      ? this.#mpi.allreduceSmall!(this.#comm(comm), send, recvbuf, recvbuf.length, r.dtype, r.code, this.#spinNs)
      : this.#mpi.iallreduce(this.#comm(comm), send, recvbuf, recvbuf.length, r.dtype, r.code);
    return this.#await(handle, () => `Allreduce(op=${op.name})`, [sendbuf, recvbuf]);
  }

  Reduce(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray | null, op: Op, root: number): Promise<void> | undefined {
    if (!this.#mpi.ireduce) return undefined;
    const data = (sendbuf ?? recvbuf)!;
    const r = reduction(op, data, recvbuf ?? data);
    if (!r) return undefined;
    const handle = this.#mpi.ireduce(this.#comm(comm), sendbuf, recvbuf, data.length, r.dtype, r.code, root);
    return this.#await(handle, () => `Reduce(op=${op.name}, root=${root})`, [sendbuf, recvbuf]);
  }

  Alltoall(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray, count: number): Promise<void> | undefined {
    if (!this.#mpi.ialltoall) return undefined;
    const handle = this.#mpi.ialltoall(this.#comm(comm), sendbuf, recvbuf, count * recvbuf.BYTES_PER_ELEMENT);
    return this.#await(handle, () => 'Alltoall()', [sendbuf, recvbuf]);
  }

  Alltoallv(
    comm: CommHandle,
    sendbuf: TypedArray | null,
    sendCounts: readonly number[],
    sendDispls: readonly number[],
    recvbuf: TypedArray,
    recvCounts: readonly number[],
    recvDispls: readonly number[],
  ): Promise<void> | undefined {
    if (!this.#mpi.ialltoallv) return undefined;
    const w = recvbuf.BYTES_PER_ELEMENT;
    const sc = sendbuf && bytes(sendCounts, w);
    const sd = sendbuf && bytes(sendDispls, w);
    const rc = bytes(recvCounts, w);
    const rd = bytes(recvDispls, w);
    const handle = this.#mpi.ialltoallv(this.#comm(comm), sendbuf, sc, sd, recvbuf, rc, rd);
    return this.#await(handle, () => 'Alltoallv()', [sendbuf, recvbuf, sc, sd, rc, rd]);
  }

  Allgatherv(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray, counts: readonly number[], displs: readonly number[]): Promise<void> | undefined {
    if (!this.#mpi.iallgatherv) return undefined;
    const w = recvbuf.BYTES_PER_ELEMENT;
    const c = bytes(counts, w);
    const d = bytes(displs, w);
    const handle = this.#mpi.iallgatherv(this.#comm(comm), sendbuf, c[comm.rank]!, recvbuf, c, d);
    return this.#await(handle, () => 'Allgatherv()', [sendbuf, recvbuf, c, d]);
  }

  Reduce_scatter(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray, counts: readonly number[], op: Op, block: boolean): Promise<void> | undefined {
    const r = reduction(op, recvbuf, sendbuf ?? recvbuf);
    if (!r || !this.#mpi.ireduceScatter) return undefined;
    const c = block ? counts[0]! : Int32Array.from(counts);
    const handle = this.#mpi.ireduceScatter(this.#comm(comm), sendbuf, recvbuf, c, r.dtype, r.code, block);
    return this.#await(handle, () => `Reduce_scatter${block ? '_block' : ''}(op=${op.name})`, [sendbuf, recvbuf, c]);
  }

  Scan(comm: CommHandle, sendbuf: TypedArray | null, recvbuf: TypedArray, op: Op, exclusive: boolean): Promise<void> | undefined {
    const r = reduction(op, recvbuf, sendbuf ?? recvbuf);
    if (!r || !this.#mpi.iscan) return undefined;
    const handle = this.#mpi.iscan(this.#comm(comm), sendbuf, recvbuf, recvbuf.length, r.dtype, r.code, exclusive);
    return this.#await(handle, () => `${exclusive ? 'Exscan' : 'Scan'}(op=${op.name})`, [sendbuf, recvbuf]);
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

/** The MPI datatype and op codes of a reduction MPI does as we do, or undefined (see the top). */
function reduction(op: Op, recvbuf: TypedArray, sendbuf: TypedArray): { dtype: number; code: number } | undefined {
  const code = kOpCodes.get(op);
  const dtype = dtypeOf(recvbuf);
  if (code === undefined || dtype === kClamped || sendbuf.constructor !== recvbuf.constructor) return undefined;
  if (kBitwise.has(code) && (dtype === kFloat32 || dtype === kFloat64)) return undefined;
  return { dtype, code };
}

/** Element counts or offsets as the byte counts MPI_BYTE transfers take (held until completion). */
const bytes = (elements: readonly number[], width: number): Int32Array => Int32Array.from(elements, (e) => e * width);

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
