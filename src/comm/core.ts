/**
 * What a communicator is underneath its public face: a group of world ranks, two contexts
 * (one for point-to-point, one for collectives, so user messages never match collective ones)
 * and the transport. Collective algorithms and topologies are written against this.
 */
import { allocLike, type TypedArray } from './buffers.js';
import { PROC_NULL, ANY_TAG } from './constants.js';
import { OpRecord } from './engine.js';
import type { CommHandle, Transport, TransportOp } from './transport.js';

/** Context ids a rank has handed out; shared by every communicator of the rank. */
export interface ContextAllocator {
  next: number;
}

export class CommCore implements CommHandle {
  readonly transport: Transport;
  readonly context: number;
  readonly collContext: number;
  /** World rank of each member, in communicator rank order. */
  readonly group: readonly number[];
  readonly rank: number;
  readonly size: number;
  readonly contexts: ContextAllocator;
  /** Communicator rank of each world rank, -1 for non-members. */
  readonly #local: Int32Array;

  constructor(transport: Transport, context: number, group: readonly number[], contexts: ContextAllocator) {
    this.transport = transport;
    this.context = context;
    this.collContext = context + 1;
    this.group = group;
    this.size = group.length;
    this.contexts = contexts;
    this.#local = new Int32Array(transport.size).fill(-1);
    group.forEach((world, local) => (this.#local[world] = local));
    this.rank = this.#local[transport.rank]!;
  }

  #scratch: TypedArray | undefined;

  /**
   * A temporary array like `like` of `length` elements for a collective to receive into. The
   * last one returned is reused when it fits exactly (a loop of Allreduce calls allocates
   * nothing); one borrowed while it is out gets a fresh one.
   */
  borrowScratch(like: TypedArray, length: number): TypedArray {
    const s = this.#scratch;
    if (s && s.constructor === like.constructor && s.length === length) {
      this.#scratch = undefined;
      return s;
    }
    return allocLike(like, length);
  }

  returnScratch(scratch: TypedArray): void {
    if (scratch.length <= 1 << 16) this.#scratch = scratch; // keep small ones only: no memory held for long
  }

  static world(transport: Transport): CommCore {
    return new CommCore(transport, 0, Array.from({ length: transport.size }, (_, i) => i), { next: 2 });
  }

  /** World rank of a communicator rank; ANY_SOURCE passes through. */
  toWorld(rank: number): number {
    return rank < 0 ? rank : this.group[rank]!;
  }

  /** Communicator rank of a world rank (PROC_NULL passes through). */
  toLocal(world: number): number {
    return world < 0 ? world : this.#local[world]!;
  }

  // Point-to-point on this communicator; `coll` picks the collective context.

  sendObject(dest: number, tag: number, value: unknown, coll = false): TransportOp {
    if (dest === PROC_NULL) return nullSend();
    return this.transport.sendObject(this.group[dest]!, coll ? this.collContext : this.context, tag, value);
  }

  sendBuffer(dest: number, tag: number, view: TypedArray, coll = false): TransportOp {
    if (dest === PROC_NULL) return nullSend();
    return this.transport.sendBuffer(this.group[dest]!, coll ? this.collContext : this.context, tag, view);
  }

  recv(source: number, tag: number, into: TypedArray | null, coll = false): TransportOp {
    if (source === PROC_NULL) return nullReceive();
    return this.transport.recv(this.toWorld(source), coll ? this.collContext : this.context, tag, into);
  }

  /**
   * Null when `ready()` holds now or after the transport's short spin (no promise needed: a
   * hand-over between running ranks completes that way), else a promise of when it holds.
   */
  until(ready: () => boolean, waitingIn: () => string): Promise<void> | null {
    if (ready() || this.transport.spin?.(ready)) return null;
    return this.transport.wait(ready, waitingIn);
  }

  /** Waits for one op; throws its error, re-made here so the stack shows the caller. */
  async wait(op: TransportOp, waitingIn: () => string): Promise<void> {
    const pending = this.until(() => op.done, waitingIn);
    if (pending) await pending;
    if (op.error) throw rethrow(op.error);
  }

  async waitAll(ops: readonly TransportOp[], waitingIn: () => string): Promise<void> {
    const pending = this.until(() => ops.every(isDone), waitingIn);
    if (pending) await pending;
    const failed = ops.find((op) => op.error);
    if (failed) throw rethrow(failed.error!);
  }
}

const isDone = (op: TransportOp): boolean => op.done;

function nullSend(): TransportOp {
  const op = new OpRecord();
  op.done = true;
  return op;
}

/** A receive from PROC_NULL: done at once, nothing received (MPI). */
function nullReceive(): TransportOp {
  const op = new OpRecord();
  op.source = PROC_NULL;
  op.tag = ANY_TAG;
  op.done = true;
  return op;
}

/** The same error, created here so its stack runs through the awaiting caller. */
export function rethrow(error: Error): Error {
  const fresh = new (error.constructor as ErrorConstructor)(error.message);
  for (const key of Object.keys(error)) (fresh as unknown as Record<string, unknown>)[key] = (error as unknown as Record<string, unknown>)[key];
  return fresh;
}
