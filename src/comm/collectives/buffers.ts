/**
 * Collectives on typed arrays, filled in place, built from point-to-point in the collective
 * context unless the transport has a native one (Open MPI maps Allreduce/Bcast/Gatherv onto
 * its own). Receives go straight into slices of the caller's buffer: no staging arrays.
 */
import { allocLike, setElements, type TypedArray } from '../buffers.js';
import type { CommCore } from '../core.js';
import type { Op } from '../ops.js';
import type { TransportOp } from '../transport.js';
import { binomialTree, TAG_ALLREDUCE, TAG_BCAST, TAG_GATHER, TAG_REDUCE, TAG_SCATTER } from './objects.js';

export async function Bcast(core: CommCore, buf: TypedArray, root: number): Promise<void> {
  const native = core.transport.collectives?.Bcast?.(core, buf, root);
  if (native) return native;
  const what = () => `Bcast(root=${root})`;
  const { parent, children } = binomialTree(core.rank, core.size, root);
  if (parent >= 0) await core.wait(core.recv(parent, TAG_BCAST, buf, true), what);
  if (children.length > 0) await core.waitAll(children.map((c) => core.sendBuffer(c, TAG_BCAST, buf, true)), what);
}

/** Reduce into `acc` (this rank's contribution, overwritten) in rank order onto rank 0, then to root. */
export async function Reduce(core: CommCore, acc: TypedArray, recvbuf: TypedArray | null, op: Op, root: number): Promise<void> {
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
  return core.transport.collectives?.Allreduce?.(core, sendbuf, recvbuf, op) ?? allreducePointToPoint(core, sendbuf, recvbuf, op);
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
  const native = core.transport.collectives?.Gatherv?.(core, sendbuf, recvbuf, counts, displs, root);
  if (native) return native;
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
  if (core.rank !== root) return core.wait(core.recv(root, TAG_SCATTER, recvbuf, true), what);
  const ops: TransportOp[] = [];
  for (let i = 0; i < core.size; i++) {
    const slot = sendbuf!.subarray(displs[i]!, displs[i]! + counts[i]!);
    if (i === root) setElements(recvbuf, slot);
    else ops.push(core.sendBuffer(i, TAG_SCATTER, slot, true));
  }
  await core.waitAll(ops, what);
}
