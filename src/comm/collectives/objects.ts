/**
 * Collectives on objects, built from point-to-point in the communicator's collective context.
 * Reductions keep rank order (left operand from lower ranks), so a non-commutative Op gives
 * MPI's answer and every rank of an allreduce gets bit-identical floating-point results. Each
 * runs in the communicator's turn (CommCore.inTurn): blocking collectives started together run
 * one at a time, in call order.
 */
import type { CommCore } from '../core.js';
import type { Op } from '../ops.js';
import type { TransportOp } from '../transport.js';

// One tag per collective, so a stray message is easy to trace; ordering comes from MPI's
// non-overtaking rule, since collectives never receive from ANY_SOURCE.
export const TAG_BARRIER = 1;
export const TAG_BCAST = 2;
export const TAG_SCATTER = 3;
export const TAG_GATHER = 4;
export const TAG_ALLTOALL = 5;
export const TAG_REDUCE = 6;
export const TAG_ALLREDUCE = 7;
export const TAG_SCAN = 8;
export const TAG_ALLGATHERV = 9;

export async function recvObject<T>(core: CommCore, source: number, tag: number, what: () => string): Promise<T> {
  const op = core.recv(source, tag, null, true);
  await core.wait(op, what);
  return op.value as T;
}

export async function sendObject(core: CommCore, dest: number, tag: number, value: unknown, what: () => string): Promise<void> {
  await core.wait(core.sendObject(dest, tag, value, true), what);
}

/** Dissemination barrier: log2(size) rounds of empty messages. */
export async function barrier(core: CommCore): Promise<void> {
  if (!core.ownsTurn) return core.inTurn(barrier);
  const { rank, size } = core;
  const what = () => 'barrier()';
  for (let k = 1; k < size; k *= 2) {
    const send = core.sendObject((rank + k) % size, TAG_BARRIER, undefined, true);
    const recv = core.recv((rank - k + size) % size, TAG_BARRIER, null, true);
    await core.waitAll([send, recv], what);
  }
}

/** Binomial tree from `root`: the parent this rank receives from, and the children it sends to. */
export function binomialTree(rank: number, size: number, root: number): { parent: number; children: number[] } {
  const vr = (rank - root + size) % size;
  let parent = -1;
  let mask = 1;
  while (mask < size) {
    if (vr & mask) {
      parent = (vr - mask + root) % size;
      break;
    }
    mask <<= 1;
  }
  const children: number[] = [];
  for (mask >>= 1; mask > 0; mask >>= 1) if (vr + mask < size) children.push((vr + mask + root) % size);
  return { parent, children };
}

export async function bcast<T>(core: CommCore, value: T, root: number): Promise<T> {
  if (!core.ownsTurn) return core.inTurn((c) => bcast(c, value, root));
  const what = () => `bcast(root=${root})`;
  const { parent, children } = binomialTree(core.rank, core.size, root);
  if (parent >= 0) value = await recvObject<T>(core, parent, TAG_BCAST, what);
  if (children.length > 0) await core.waitAll(children.map((c) => core.sendObject(c, TAG_BCAST, value, true)), what);
  return value;
}

export async function scatter<T>(core: CommCore, values: readonly T[] | null, root: number): Promise<T> {
  if (!core.ownsTurn) return core.inTurn((c) => scatter(c, values, root));
  const what = () => `scatter(root=${root})`;
  if (core.rank !== root) return recvObject<T>(core, root, TAG_SCATTER, what);
  const sends: TransportOp[] = [];
  for (let i = 0; i < core.size; i++) if (i !== root) sends.push(core.sendObject(i, TAG_SCATTER, values![i], true));
  await core.waitAll(sends, what);
  return values![root]!;
}

export async function gather<T>(core: CommCore, value: T, root: number): Promise<T[] | undefined> {
  if (!core.ownsTurn) return core.inTurn((c) => gather(c, value, root));
  const what = () => `gather(root=${root})`;
  if (core.rank !== root) {
    await sendObject(core, root, TAG_GATHER, value, what);
    return undefined;
  }
  const ops = Array.from({ length: core.size }, (_, i) => (i === root ? undefined : core.recv(i, TAG_GATHER, null, true)));
  await core.waitAll(ops.filter((op): op is TransportOp => op !== undefined), what);
  return ops.map((op) => (op ? (op.value as T) : value));
}

export async function allgather<T>(core: CommCore, value: T): Promise<T[]> {
  if (!core.ownsTurn) return core.inTurn((c) => allgather(c, value));
  const all = await gather(core, value, 0);
  return bcast(core, all as T[], 0);
}

export async function alltoall<T>(core: CommCore, values: readonly T[]): Promise<T[]> {
  if (!core.ownsTurn) return core.inTurn((c) => alltoall(c, values));
  const what = () => 'alltoall()';
  const { rank, size } = core;
  const sends: TransportOp[] = [];
  const recvs: (TransportOp | undefined)[] = [];
  for (let i = 0; i < size; i++) {
    recvs.push(i === rank ? undefined : core.recv(i, TAG_ALLTOALL, null, true));
    if (i !== rank) sends.push(core.sendObject(i, TAG_ALLTOALL, values[i], true));
  }
  await core.waitAll([...sends, ...recvs.filter((op): op is TransportOp => op !== undefined)], what);
  return recvs.map((op, i) => (op ? (op.value as T) : values[i]!));
}

/** Reduces in rank order onto rank 0 (binomial tree of contiguous blocks), then hands it to `root`. */
export async function reduce<T>(core: CommCore, value: T, op: Op, root: number): Promise<T | undefined> {
  if (!core.ownsTurn) return core.inTurn((c) => reduce(c, value, op, root));
  const what = () => `reduce(op=${op.name}, root=${root})`;
  const { rank, size } = core;
  let acc: unknown = value;
  for (let mask = 1; mask < size; mask <<= 1) {
    if (rank & mask) {
      await sendObject(core, rank - mask, TAG_REDUCE, acc, what);
      break;
    }
    if (rank + mask < size) acc = op.combine(acc, await recvObject(core, rank + mask, TAG_REDUCE, what));
  }
  if (root === 0) return rank === 0 ? (acc as T) : undefined;
  if (rank === 0) await sendObject(core, root, TAG_REDUCE, acc, what);
  return rank === root ? recvObject<T>(core, 0, TAG_REDUCE, what) : undefined;
}

const isPowerOfTwo = (n: number): boolean => (n & (n - 1)) === 0;

export async function allreduce<T>(core: CommCore, value: T, op: Op): Promise<T> {
  if (!core.ownsTurn) return core.inTurn((c) => allreduce(c, value, op));
  const { rank, size } = core;
  if (!isPowerOfTwo(size)) return bcast(core, (await reduce(core, value, op, 0)) as T, 0);
  const what = () => `allreduce(op=${op.name})`;
  // Recursive doubling: after round k every rank holds its block of 2^(k+1) ranks, combined
  // lower block first, so all ranks compute the same operations in the same order.
  let acc: unknown = value;
  for (let mask = 1; mask < size; mask <<= 1) {
    const partner = rank ^ mask;
    const recv = core.recv(partner, TAG_ALLREDUCE, null, true);
    await core.waitAll([core.sendObject(partner, TAG_ALLREDUCE, acc, true), recv], what);
    acc = partner < rank ? op.combine(recv.value, acc) : op.combine(acc, recv.value);
  }
  return acc as T;
}

/** Inclusive (`exclusive` false) or exclusive prefix reduction along the ranks. */
export async function scan<T>(core: CommCore, value: T, op: Op, exclusive: boolean): Promise<T | undefined> {
  if (!core.ownsTurn) return core.inTurn((c) => scan(c, value, op, exclusive));
  const what = () => `${exclusive ? 'exscan' : 'scan'}(op=${op.name})`;
  const { rank, size } = core;
  const before = rank > 0 ? await recvObject<T>(core, rank - 1, TAG_SCAN, what) : undefined;
  const inclusive = rank > 0 ? (op.combine(before, value) as T) : value;
  if (rank < size - 1) await sendObject(core, rank + 1, TAG_SCAN, inclusive, what);
  return exclusive ? before : inclusive;
}
