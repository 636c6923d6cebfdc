/**
 * Collectives on typed arrays, filled in place, built from point-to-point in the collective
 * context unless the transport has a native one (Open MPI maps each onto its own MPI_I* call).
 * Receives go straight into slices of the caller's buffer: no staging arrays. A null sendbuf
 * means IN_PLACE: this rank's data is in recvbuf. A transport's native collective starts at
 * the call; the comm layer's algorithm runs in the communicator's turn (CommCore.inTurn), so
 * blocking collectives started together run one at a time, in call order.
 */
import { allocLike, setElements, type TypedArray } from '../buffers.js';
import type { CommCore } from '../core.js';
import type { Op } from '../ops.js';
import type { TransportOp } from '../transport.js';
import { binomialTree, TAG_ALLGATHERV, TAG_ALLREDUCE, TAG_ALLTOALL, TAG_BCAST, TAG_GATHER, TAG_REDUCE, TAG_SCAN, TAG_SCATTER } from './objects.js';

export async function Bcast(core: CommCore, buf: TypedArray, root: number): Promise<void> {
  const native = core.native?.Bcast?.(core, buf, root);
  if (native) return native;
  if (!core.ownsTurn) return core.inTurn((c) => Bcast(c, buf, root));
  const what = () => `Bcast(root=${root})`;
  const { parent, children } = binomialTree(core.rank, core.size, root);
  if (parent >= 0) await core.wait(core.recv(parent, TAG_BCAST, buf, true), what);
  if (children.length > 0) await core.waitAll(children.map((c) => core.sendBuffer(c, TAG_BCAST, buf, true)), what);
}

/** Reduce into `acc` (this rank's contribution, overwritten) in rank order onto rank 0, then to root. */
export async function Reduce(core: CommCore, acc: TypedArray, recvbuf: TypedArray | null, op: Op, root: number): Promise<void> {
  if (!core.ownsTurn) return core.inTurn((c) => Reduce(c, acc, recvbuf, op, root));
  const what = () => `Reduce(op=${op.name}, root=${root})`;
  const { rank, size } = core;
  let scratch: TypedArray | undefined;
  for (let mask = 1; mask < size; mask <<= 1) {
    if (rank & mask) {
      await core.wait(core.sendBuffer(rank - mask, TAG_REDUCE, acc, true), what);
      break;
    }
    if (rank + mask < size) {
      scratch ??= allocLike(acc, acc.length);
      await core.wait(core.recv(rank + mask, TAG_REDUCE, scratch, true), what);
      op.combineInto(acc, scratch, false);
    }
  }
  if (rank === 0 && root === 0) {
    if (recvbuf !== acc) setElements(recvbuf!, acc);
  } else if (rank === 0) await core.wait(core.sendBuffer(root, TAG_REDUCE, acc, true), what);
  else if (rank === root) await core.wait(core.recv(0, TAG_REDUCE, recvbuf, true), what);
}

/**
 * Element-wise `op` of every rank's `sendbuf` into `recvbuf` (the same array for IN_PLACE).
 * Not async, so the transport's own promise (often one already resolved) reaches the caller as
 * it is: a small Allreduce costs no extra microtasks.
 */
export function Allreduce(core: CommCore, sendbuf: TypedArray, recvbuf: TypedArray, op: Op): Promise<void> {
  return (
    core.native?.Allreduce?.(core, sendbuf, recvbuf, op) ??
    (core.ownsTurn ? allreducePointToPoint(core, sendbuf, recvbuf, op) : core.inTurn((c) => allreducePointToPoint(c, sendbuf, recvbuf, op)))
  );
}

async function allreducePointToPoint(core: CommCore, sendbuf: TypedArray, recvbuf: TypedArray, op: Op): Promise<void> {
  if (sendbuf !== recvbuf) setElements(recvbuf, sendbuf);
  const { rank, size } = core;
  if ((size & (size - 1)) !== 0) {
    await Reduce(core, recvbuf, recvbuf, op, 0);
    return Bcast(core, recvbuf, 0);
  }
  const what = () => `Allreduce(op=${op.name})`;
  const scratch = core.borrowScratch(recvbuf, recvbuf.length);
  for (let mask = 1; mask < size; mask <<= 1) {
    const partner = rank ^ mask;
    const recv = core.recv(partner, TAG_ALLREDUCE, scratch, true);
    const send = core.sendBuffer(partner, TAG_ALLREDUCE, recvbuf, true);
    await core.waitAll([send, recv], what);
    op.combineInto(recvbuf, scratch, partner < rank);
  }
  core.returnScratch(scratch);
}

/** Element offsets from counts when no displacements are given: packed in rank order. */
export function packedDispls(counts: readonly number[]): number[] {
  const displs: number[] = [];
  let at = 0;
  for (const c of counts) {
    displs.push(at);
    at += c;
  }
  return displs;
}

export async function Gatherv(
  core: CommCore,
  sendbuf: TypedArray,
  recvbuf: TypedArray | null,
  counts: readonly number[],
  displs: readonly number[],
  root: number,
  what: () => string,
): Promise<void> {
  const native = core.native?.Gatherv?.(core, sendbuf, recvbuf, counts, displs, root);
  if (native) return native;
  if (!core.ownsTurn) return core.inTurn((c) => Gatherv(c, sendbuf, recvbuf, counts, displs, root, what));
  if (core.rank !== root) return core.wait(core.sendBuffer(root, TAG_GATHER, sendbuf, true), what);
  const ops: TransportOp[] = [];
  for (let i = 0; i < core.size; i++) {
    const slot = recvbuf!.subarray(displs[i]!, displs[i]! + counts[i]!);
    if (i === root) setElements(slot, sendbuf.subarray(0, counts[i]!));
    else ops.push(core.recv(i, TAG_GATHER, slot, true));
  }
  await core.waitAll(ops, what);
}

export async function Scatterv(
  core: CommCore,
  sendbuf: TypedArray | null,
  counts: readonly number[],
  displs: readonly number[],
  recvbuf: TypedArray,
  root: number,
  what: () => string,
): Promise<void> {
  if (!core.ownsTurn) return core.inTurn((c) => Scatterv(c, sendbuf, counts, displs, recvbuf, root, what));
  if (core.rank !== root) return core.wait(core.recv(root, TAG_SCATTER, recvbuf, true), what);
  const ops: TransportOp[] = [];
  for (let i = 0; i < core.size; i++) {
    const slot = sendbuf!.subarray(displs[i]!, displs[i]! + counts[i]!);
    if (i === root) setElements(recvbuf, slot);
    else ops.push(core.sendBuffer(i, TAG_SCATTER, slot, true));
  }
  await core.waitAll(ops, what);
}

const slot = (buf: TypedArray, displ: number, count: number): TypedArray => buf.subarray(displ, displ + count);

/** Every pair of ranks exchanges its blocks at once; the own block is copied. */
export async function Alltoallv(
  core: CommCore,
  sendbuf: TypedArray | null,
  sendCounts: readonly number[],
  sendDispls: readonly number[],
  recvbuf: TypedArray,
  recvCounts: readonly number[],
  recvDispls: readonly number[],
  what: () => string,
): Promise<void> {
  const native = core.native?.Alltoallv?.(core, sendbuf, sendCounts, sendDispls, recvbuf, recvCounts, recvDispls);
  if (native) return native;
  if (!core.ownsTurn) return core.inTurn((c) => Alltoallv(c, sendbuf, sendCounts, sendDispls, recvbuf, recvCounts, recvDispls, what));
  // In place, the blocks to send are overwritten by the ones received: send from a copy.
  const send = sendbuf ?? recvbuf.slice();
  const ops: TransportOp[] = [];
  for (let i = 0; i < core.size; i++) {
    if (i === core.rank) setElements(slot(recvbuf, recvDispls[i]!, recvCounts[i]!), slot(send, sendDispls[i]!, sendCounts[i]!));
    else {
      ops.push(core.recv(i, TAG_ALLTOALL, slot(recvbuf, recvDispls[i]!, recvCounts[i]!), true));
      ops.push(core.sendBuffer(i, TAG_ALLTOALL, slot(send, sendDispls[i]!, sendCounts[i]!), true));
    }
  }
  await core.waitAll(ops, what);
}

export function Alltoall(core: CommCore, sendbuf: TypedArray | null, recvbuf: TypedArray, count: number, what: () => string): Promise<void> {
  const native = core.native?.Alltoall?.(core, sendbuf, recvbuf, count);
  if (native) return native;
  const counts = Array<number>(core.size).fill(count);
  const displs = packedDispls(counts);
  return Alltoallv(core, sendbuf, counts, displs, recvbuf, counts, displs, what);
}

/** Every rank sends its block straight to every other: slots between the blocks stay as they were. */
export async function Allgatherv(
  core: CommCore,
  sendbuf: TypedArray | null,
  recvbuf: TypedArray,
  counts: readonly number[],
  displs: readonly number[],
  what: () => string,
): Promise<void> {
  const native = core.native?.Allgatherv?.(core, sendbuf, recvbuf, counts, displs);
  if (native) return native;
  if (!core.ownsTurn) return core.inTurn((c) => Allgatherv(c, sendbuf, recvbuf, counts, displs, what));
  const { rank, size } = core;
  const mine = slot(recvbuf, displs[rank]!, counts[rank]!);
  if (sendbuf) setElements(mine, sendbuf.subarray(0, counts[rank]!));
  const ops: TransportOp[] = [];
  for (let i = 0; i < size; i++) {
    if (i === rank) continue;
    ops.push(core.recv(i, TAG_ALLGATHERV, slot(recvbuf, displs[i]!, counts[i]!), true));
    ops.push(core.sendBuffer(i, TAG_ALLGATHERV, mine, true));
  }
  await core.waitAll(ops, what);
}

/** Reduce (rank order kept) of the whole vector onto rank 0, then scatter of its pieces. */
export async function Reduce_scatter(
  core: CommCore,
  sendbuf: TypedArray | null,
  recvbuf: TypedArray,
  counts: readonly number[],
  op: Op,
  block: boolean,
  what: () => string,
): Promise<void> {
  const native = core.native?.Reduce_scatter?.(core, sendbuf, recvbuf, counts, op, block);
  if (native) return native;
  if (!core.ownsTurn) return core.inTurn((c) => Reduce_scatter(c, sendbuf, recvbuf, counts, op, block, what));
  const total = counts.reduce((a, c) => a + c, 0);
  const acc = allocLike(recvbuf, total);
  setElements(acc, (sendbuf ?? recvbuf).subarray(0, total));
  await Reduce(core, acc, core.rank === 0 ? acc : null, op, 0);
  await Scatterv(core, core.rank === 0 ? acc : null, counts, packedDispls(counts), recvbuf.subarray(0, counts[core.rank]!), 0, what);
}

/**
 * Prefix reduction along the ranks: rank i receives the reduction of ranks 0..i-1 from i-1,
 * combines its own on the right, passes it on. Exclusive leaves rank 0's recvbuf as it was.
 */
export async function Scan(core: CommCore, sendbuf: TypedArray | null, recvbuf: TypedArray, op: Op, exclusive: boolean, what: () => string): Promise<void> {
  const native = core.native?.Scan?.(core, sendbuf, recvbuf, op, exclusive);
  if (native) return native;
  if (!core.ownsTurn) return core.inTurn((c) => Scan(c, sendbuf, recvbuf, op, exclusive, what));
  const { rank, size } = core;
  const n = recvbuf.length;
  const inclusive = allocLike(recvbuf, n);
  setElements(inclusive, (sendbuf ?? recvbuf).subarray(0, n));
  if (rank > 0) {
    const before = allocLike(recvbuf, n);
    await core.wait(core.recv(rank - 1, TAG_SCAN, before, true), what);
    if (exclusive) setElements(recvbuf, before);
    op.combineInto(inclusive, before, true);
  }
  if (rank < size - 1) await core.wait(core.sendBuffer(rank + 1, TAG_SCAN, inclusive, true), what);
  if (!exclusive) setElements(recvbuf, inclusive);
}
