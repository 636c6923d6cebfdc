/**
 * What a communicator is underneath its public face: a group of world ranks, two contexts
 * (one for point-to-point, one for collectives, so user messages never match collective ones)
 * and the transport. Collective algorithms and topologies are written against this.
 */
import { allocLike, type TypedArray } from './buffers.js';
import { PROC_NULL, ANY_TAG } from './constants.js';
import { OpRecord } from './engine.js';
import type { CommHandle, NativeCollectives, Transport, TransportOp } from './transport.js';

/** Context ids a rank has handed out; shared by every communicator of the rank. */
export interface ContextAllocator {
  next: number;
  /** Bumped by abandonTurns(): collectives queued before it hold up none started after. */
  turnEpoch?: number;
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
  /**
   * Added to the tags of collective messages. 0 for blocking collectives, which run one at a
   * time (inTurn); each nonblocking one runs on a view with its own base (see nonblockingView),
   * so two collectives in flight on one communicator never take each other's messages.
   */
  readonly collTagBase: number;
  #nonblocking = 0;
  #nativeOpen = true;
  /** Whether collective algorithms run on this core at once (see inTurn). */
  readonly #ownsTurn: boolean;
  /** The last blocking collective algorithm started or queued here, until it settles. */
  #tail: Promise<unknown> | null = null;
  /** contexts.turnEpoch when #tail was set. */
  #tailEpoch: number | undefined;
  /** The core those algorithms run on: made once, reused by each in turn. */
  #turnView: CommCore | undefined;

  constructor(transport: Transport, context: number, group: readonly number[], contexts: ContextAllocator, collTagBase = 0, ownsTurn = collTagBase !== 0) {
    this.transport = transport;
    this.context = context;
    this.collContext = context + 1;
    this.group = group;
    this.size = group.length;
    this.contexts = contexts;
    this.#local = new Int32Array(transport.size).fill(-1);
    group.forEach((world, local) => (this.#local[world] = local));
    this.rank = this.#local[transport.rank]!;
    this.collTagBase = collTagBase;
    this.#ownsTurn = ownsTurn;
  }

  /**
   * The transport's native collectives (MPI's), while this communicator may still start them.
   * MPI needs every rank to start collectives in one order, so a collective, blocking or
   * nonblocking, may start a native call only at the moment it is called (closeNative() after
   * that for a nonblocking one; a blocking one's algorithm runs on inTurn's view, closed): a
   * later step of its own algorithm (an Allreduce with a user Op ending in Bcast) could
   * otherwise come before or after another collective on different ranks, so those steps run
   * on point-to-point.
   */
  get native(): NativeCollectives | undefined {
    return this.#nativeOpen ? this.transport.collectives : undefined;
  }

  closeNative(): void {
    this.#nativeOpen = false;
  }

  /**
   * Runs a blocking collective's comm-layer algorithm: at once when no other one is in flight
   * on this communicator, else when those started before it have settled, so concurrent
   * blocking collectives (Promise.all of them) run one at a time in call order and never take
   * each other's messages (they all use tag base 0). `run` gets the core to run on: a view with
   * the native collectives closed and the turn held, so the collectives an algorithm is built
   * from (a user-Op Allreduce ending in a Bcast, the allreduce and allgather of a split) run
   * inside its turn instead of queueing behind it (which would deadlock). A native collective
   * (MPI's, the threads transport's shared-slot Allreduce) is never queued: it starts at the
   * call, as a nonblocking one does, so native calls start in call order on every rank however
   * long the queue is; whether the transport takes a call depends only on arguments every rank
   * passes alike. Nonblocking views run their algorithm at once: their tags are their own.
   */
  inTurn<T>(run: (core: CommCore) => Promise<T>): Promise<T> {
    if (this.#ownsTurn) return run(this);
    const view = (this.#turnView ??= this.#makeTurnView());
    const epoch = this.contexts.turnEpoch;
    const tail = this.#tailEpoch === epoch ? this.#tail : null;
    const started = tail ? tail.then(() => run(view), () => run(view)) : run(view);
    this.#tail = started;
    this.#tailEpoch = epoch;
    const settled = () => {
      if (this.#tail === started) this.#tail = null;
    };
    started.then(settled, settled);
    return started;
  }

  /**
   * Every communicator of this rank forgets the collectives in flight: a session cell that was
   * dropped may have left one waiting for ever (its receives withdrawn, a send nobody takes),
   * and the next cell's collectives must not queue behind it.
   */
  abandonTurns(): void {
    this.contexts.turnEpoch = (this.contexts.turnEpoch ?? 0) + 1;
  }

  /** Whether a collective algorithm may run on this core now (inTurn would run it at once). */
  get ownsTurn(): boolean {
    return this.#ownsTurn;
  }

  #makeTurnView(): CommCore {
    const view = new CommCore(this.transport, this.context, this.group, this.contexts, 0, true);
    view.#nativeOpen = false; // a native call started after an await could come in another order on another rank
    return view;
  }

  /**
   * The same communicator with collective tags of its own, for one nonblocking collective.
   * Every rank starts collectives in the same order (MPI's rule), so the n-th nonblocking one
   * gets the same tags on every rank. Tags wrap after kNonblockingTags collectives in flight.
   */
  nonblockingView(): CommCore {
    const n = this.#nonblocking;
    this.#nonblocking = (n + 1) % kNonblockingTags;
    return new CommCore(this.transport, this.context, this.group, this.contexts, kCollTagStride * (n + 1));
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
    return coll
      ? this.transport.sendObject(this.group[dest]!, this.collContext, tag + this.collTagBase, value)
      : this.transport.sendObject(this.group[dest]!, this.context, tag, value);
  }

  sendBuffer(dest: number, tag: number, view: TypedArray, coll = false): TransportOp {
    if (dest === PROC_NULL) return nullSend();
    return coll
      ? this.transport.sendBuffer(this.group[dest]!, this.collContext, tag + this.collTagBase, view)
      : this.transport.sendBuffer(this.group[dest]!, this.context, tag, view);
  }

  recv(source: number, tag: number, into: TypedArray | null, coll = false): TransportOp {
    if (source === PROC_NULL) return nullReceive();
    return coll
      ? this.transport.recv(this.toWorld(source), this.collContext, tag + this.collTagBase, into)
      : this.transport.recv(this.toWorld(source), this.context, tag, into);
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

/** Collective algorithms use tags below this (collectives/objects.ts); each nonblocking view adds a multiple. */
const kCollTagStride = 32;
/** Nonblocking collectives in flight on one communicator before tags repeat: the largest tag stays within 32767, MPI's smallest TAG_UB. */
const kNonblockingTags = 1022;

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
