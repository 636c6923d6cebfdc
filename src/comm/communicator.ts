/**
 * The Communicator: mpi4py's Comm for JavaScript. A thin, validating face over a private core
 * (group, contexts, transport); the algorithms live in collectives/ and topology.ts.
 *
 * Naming follows mpi4py: lower-case methods move any structured-clone value and resolve with
 * what was received; Upper-case methods move typed arrays, filling the caller's buffers in
 * place; the prefix I marks calls that return a Request. Every communication returns a promise,
 * so the rank's event loop stays free to forward output and to be stopped (README.md, "Why
 * promises").
 */
import { allocLike, setElements, type TypedArray } from './buffers.js';
import * as C from './checks.js';
import { ANY_SOURCE, ANY_TAG, IN_PLACE, PROC_NULL, UNDEFINED, type InPlace } from './constants.js';
import { CommCore } from './core.js';
import * as B from './collectives/buffers.js';
import * as O from './collectives/objects.js';
import { Errors } from './errors.js';
import { toOp, type OpLike } from './ops.js';
import { Request } from './request.js';
import { Status } from './status.js';
import { cartCore, splitCore, type CartTopology } from './topology.js';
import type { BackendName, Transport } from './transport.js';

/** Receive side of Gatherv / send side of Scatterv: [buffer, counts] or [buffer, counts, displs], in elements. */
export type VectorSpec<T extends TypedArray = TypedArray> = readonly [T, readonly number[]] | readonly [T, readonly number[], readonly number[]];

/** The promise of every send that completed at once (a small message handed over). */
const kDone: Promise<void> = Promise.resolve();

const src = (s: number): string => (s === ANY_SOURCE ? 'ANY_SOURCE' : String(s));
const tg = (t: number): string => (t === ANY_TAG ? 'ANY_TAG' : String(t));

export class Communicator {
  readonly #core: CommCore;

  /** @internal Communicators come from COMM_WORLD, dup(), split() and createCart(). */
  constructor(core: CommCore) {
    this.#core = core;
  }

  /** @internal The world communicator of a rank, over its transport. */
  static world(transport: Transport): Communicator {
    return new Communicator(CommCore.world(transport));
  }

  /** @internal */
  get core(): CommCore {
    return this.#core;
  }

  /** This rank's number in the communicator, 0 to size-1. */
  get rank(): number {
    return this.#core.rank;
  }
  /** How many ranks the communicator has. */
  get size(): number {
    return this.#core.size;
  }
  /** Which transport carries the messages: 'threads', 'processes', 'self' (one rank) or 'mpi'. */
  get backend(): BackendName {
    return this.#core.transport.backend;
  }
  Get_rank(): number {
    return this.rank;
  }
  Get_size(): number {
    return this.size;
  }

  // ==== Point-to-point, objects ================================================================

  /** Sends a structured-clone value to `dest`; resolves when the value may be changed again. */
  send(obj: unknown, dest: number, tag = 0): Promise<void> {
    try {
      const req = this.isend(obj, dest, tag);
      return req.done ? kDone : req.wait();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Receives a value; `status` (optional) is filled with source, tag and count. The value is
   * typed `any` unless you say (`recv<number>(0)`), so `ans = ans + await comm.recv(i)` compiles.
   */
  recv<T = any>(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<T> {
    try {
      return this.#irecv<T>('recv', source, tag).wait(status);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  isend(obj: unknown, dest: number, tag = 0): Request<void> {
    const core = this.#core;
    C.checkDest('isend', dest, core.size);
    C.checkSendTag('isend', tag);
    return new Request(core, core.sendObject(dest, tag, obj), 'send', 'isend', dest, tag);
  }

  irecv<T = any>(source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<T> {
    return this.#irecv<T>('irecv', source, tag);
  }

  #irecv<T>(method: string, source: number, tag: number): Request<T> {
    const core = this.#core;
    C.checkSource(method, source, core.size);
    C.checkRecvTag(method, tag);
    return new Request<T>(core, core.recv(source, tag, null), 'object', method, source, tag);
  }

  /** Sends `sendobj` to `dest` and receives from `source` at the same time (no deadlock in a ring). */
  async sendrecv<T = any>(
    sendobj: unknown,
    dest: number,
    sendtag = 0,
    source: number = ANY_SOURCE,
    recvtag: number = ANY_TAG,
    status?: Status,
  ): Promise<T> {
    const recv = this.#irecv<T>('sendrecv', source, recvtag);
    const send = this.isend(sendobj, dest, sendtag);
    await Request.waitall([send, recv]);
    return recv.wait(status);
  }

  /** Waits until a matching message has arrived and describes it, without receiving it. */
  async probe(source: number = ANY_SOURCE, tag: number = ANY_TAG): Promise<Status> {
    let found = this.iprobe(source, tag);
    const pending = this.#core.until(
      () => (found ??= this.iprobe(source, tag)) !== undefined,
      () => `probe(source=${src(source)}, tag=${tg(tag)})`,
    );
    if (pending) await pending;
    return found!;
  }

  /** Describes a matching message that has arrived, or returns undefined; never waits. */
  iprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG): Status | undefined {
    const core = this.#core;
    C.checkSource('iprobe', source, core.size);
    C.checkRecvTag('iprobe', tag);
    if (source === PROC_NULL) return new Status().set(PROC_NULL, ANY_TAG, 0);
    const info = core.transport.probe(core.toWorld(source), core.context, tag);
    return info && new Status().set(core.toLocal(info.source), info.tag, info.bytes);
  }

  // ==== Point-to-point, typed arrays ===========================================================

  /** Sends the elements of a typed array; resolves when the array may be changed again. */
  Send(buf: TypedArray, dest: number, tag = 0): Promise<void> {
    try {
      const req = this.Isend(buf, dest, tag);
      return req.done ? kDone : req.wait();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Receives into `buf` (it must be large enough: else MPI_ERR_TRUNCATE); resolves with the Status. */
  Recv(buf: TypedArray, source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): Promise<Status> {
    try {
      return this.#Irecv('Recv', buf, source, tag).wait(status);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  Isend(buf: TypedArray, dest: number, tag = 0): Request<void> {
    const core = this.#core;
    C.checkBuffer('Isend', 'buf', buf);
    C.checkDest('Isend', dest, core.size);
    C.checkSendTag('Isend', tag);
    return new Request(core, core.sendBuffer(dest, tag, buf), 'send', 'Isend', dest, tag);
  }

  Irecv(buf: TypedArray, source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<Status> {
    return this.#Irecv('Irecv', buf, source, tag);
  }

  #Irecv(method: string, buf: TypedArray, source: number, tag: number): Request<Status> {
    const core = this.#core;
    C.checkBuffer(method, 'buf', buf);
    C.checkSource(method, source, core.size);
    C.checkRecvTag(method, tag);
    return new Request<Status>(core, core.recv(source, tag, buf), 'buffer', method, source, tag, buf.BYTES_PER_ELEMENT);
  }

  async Sendrecv(
    sendbuf: TypedArray,
    dest: number,
    sendtag: number,
    recvbuf: TypedArray,
    source: number = ANY_SOURCE,
    recvtag: number = ANY_TAG,
    status?: Status,
  ): Promise<Status> {
    const recv = this.#Irecv('Sendrecv', recvbuf, source, recvtag);
    const send = this.Isend(sendbuf, dest, sendtag);
    await Request.waitall([send, recv]);
    return recv.wait(status);
  }

  // ==== Collectives, objects ===================================================================

  /** Waits until every rank has called barrier(). */
  barrier(): Promise<void> {
    return this.#native('Barrier') ?? O.barrier(this.#core);
  }
  /** mpi4py spells it both ways; the lectures use Barrier(). */
  Barrier(): Promise<void> {
    return this.barrier();
  }

  /** The root's `obj` on every rank. */
  async bcast<T = any>(obj: T | null | undefined, root = 0): Promise<T> {
    return O.bcast(this.#core, obj as T, C.checkRoot('bcast', root, this.size));
  }

  /** Rank i gets `values[i]` of the root (values is ignored elsewhere). */
  async scatter<T = any>(values: readonly T[] | null | undefined, root = 0): Promise<T> {
    const core = this.#core;
    C.checkRoot('scatter', root, core.size);
    if (core.rank === root) C.checkArray('scatter', 'values', values, core.size);
    return O.scatter(core, values ?? null, root);
  }

  /** Every rank's `obj`, in rank order, on the root; undefined elsewhere. */
  async gather<T = any>(obj: T, root = 0): Promise<T[] | undefined> {
    return O.gather(this.#core, obj, C.checkRoot('gather', root, this.size));
  }

  /** Every rank's `obj`, in rank order, on every rank. */
  async allgather<T = any>(obj: T): Promise<T[]> {
    return O.allgather(this.#core, obj);
  }

  /** Rank j sends `values[i]` to rank i and gets back what every rank sent it, in rank order. */
  async alltoall<T = any>(values: readonly T[]): Promise<T[]> {
    C.checkArray('alltoall', 'values', values, this.size);
    return O.alltoall(this.#core, values);
  }

  /** Combines every rank's `obj` with `op` (in rank order) onto the root; undefined elsewhere. */
  async reduce<T = any>(obj: T, op?: OpLike, root = 0): Promise<T | undefined> {
    return O.reduce(this.#core, obj, toOp(op), C.checkRoot('reduce', root, this.size));
  }

  /** Combines every rank's `obj` with `op`; every rank gets the same result. */
  async allreduce<T = any>(obj: T, op?: OpLike): Promise<T> {
    return O.allreduce(this.#core, obj, toOp(op));
  }

  /** Rank i gets obj(0) op ... op obj(i). */
  async scan<T = any>(obj: T, op?: OpLike): Promise<T> {
    return (await O.scan(this.#core, obj, toOp(op), false)) as T;
  }

  /** Rank i gets obj(0) op ... op obj(i-1); rank 0 gets undefined. */
  async exscan<T = any>(obj: T, op?: OpLike): Promise<T | undefined> {
    return O.scan(this.#core, obj, toOp(op), true);
  }

  // ==== Collectives, typed arrays ==============================================================

  // The collectives that have a nonblocking twin check their arguments before anything starts,
  // under #name(): on a nonblocking view (#start) a bad argument throws at the I-call, named after it.

  /** Fills `buf` on every rank with the root's `buf`. */
  Bcast(buf: TypedArray, root = 0): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Bcast');
      C.checkBuffer(m, 'buf', buf);
      return B.Bcast(this.#core, buf, C.checkRoot(m, root, this.size));
    });
  }

  /** Element-wise `op` of every rank's `sendbuf` into the root's `recvbuf` (null elsewhere). */
  Reduce(sendbuf: TypedArray | InPlace, recvbuf: TypedArray | null, op?: OpLike, root = 0): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Reduce');
      const core = this.#core;
      C.checkRoot(m, root, core.size);
      const isRoot = core.rank === root;
      const recv = C.checkRootBuffer(m, 'recvbuf', recvbuf, isRoot);
      const send = sendbuf === IN_PLACE && recv ? recv : C.checkBuffer(m, 'sendbuf', sendbuf);
      if (recv) C.checkLength(m, 'recvbuf', recv, send.length);
      const reduction = toOp(op);
      const native = core.native?.Reduce?.(core, send === recv ? null : send, recv && recv.subarray(0, send.length), reduction, root);
      if (native) return native;
      const acc = allocLike(send, send.length);
      setElements(acc, send);
      return B.Reduce(core, acc, recv, reduction, root);
    });
  }

  /** Element-wise `op` of every rank's `sendbuf` into every rank's `recvbuf`; `sendbuf` may be IN_PLACE. */
  Allreduce(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op?: OpLike): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Allreduce');
      const recv = C.checkBuffer(m, 'recvbuf', recvbuf);
      const send = sendbuf === IN_PLACE ? recv : C.checkBuffer(m, 'sendbuf', sendbuf);
      if (send !== recv) C.checkLength(m, 'recvbuf', recv, send.length);
      return B.Allreduce(this.#core, send, send.length === recv.length ? recv : recv.subarray(0, send.length), toOp(op));
    });
  }

  /** Every rank's `sendbuf`, one after another in rank order, into the root's `recvbuf`. */
  Gather(sendbuf: TypedArray, recvbuf: TypedArray | null, root = 0): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Gather');
      const core = this.#core;
      C.checkBuffer(m, 'sendbuf', sendbuf);
      C.checkRoot(m, root, core.size);
      const recv = C.checkRootBuffer(m, 'recvbuf', recvbuf, core.rank === root);
      const n = sendbuf.length;
      if (recv) C.checkLength(m, 'recvbuf', recv, n * core.size);
      const counts = Array<number>(core.size).fill(n);
      return B.Gatherv(core, sendbuf, recv, counts, B.packedDispls(counts), root, () => `Gather(root=${root})`);
    });
  }

  /** Like Gather, with per-rank counts (and optional displacements) in elements: `[recvbuf, counts, displs?]`. */
  Gatherv(sendbuf: TypedArray, recv: VectorSpec | null, root = 0): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Gatherv');
      const core = this.#core;
      C.checkBuffer(m, 'sendbuf', sendbuf);
      C.checkRoot(m, root, core.size);
      if (core.rank !== root) {
        return B.Gatherv(core, sendbuf, null, [], [], root, () => `Gatherv(root=${root})`);
      }
      const [buf, counts, displs] = this.#vector(m, 'recv', recv);
      if (counts[root]! > sendbuf.length) throw Errors.BufferSize(m, 'sendbuf', counts[root]!, sendbuf.length);
      return B.Gatherv(core, sendbuf, buf, counts, displs, root, () => `Gatherv(root=${root})`);
    });
  }

  /** Rank i gets the i-th block of `recvbuf.length` elements of the root's `sendbuf`. */
  Scatter(sendbuf: TypedArray | null, recvbuf: TypedArray, root = 0): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Scatter');
      const core = this.#core;
      C.checkBuffer(m, 'recvbuf', recvbuf);
      C.checkRoot(m, root, core.size);
      const send = C.checkRootBuffer(m, 'sendbuf', sendbuf, core.rank === root);
      const n = recvbuf.length;
      if (send) C.checkLength(m, 'sendbuf', send, n * core.size);
      const counts = Array<number>(core.size).fill(n);
      return B.Scatterv(core, send, counts, B.packedDispls(counts), recvbuf, root, () => `Scatter(root=${root})`);
    });
  }

  /** Like Scatter, with per-rank counts (and optional displacements): `[sendbuf, counts, displs?]` on the root. */
  Scatterv(send: VectorSpec | null, recvbuf: TypedArray, root = 0): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Scatterv');
      const core = this.#core;
      C.checkBuffer(m, 'recvbuf', recvbuf);
      C.checkRoot(m, root, core.size);
      if (core.rank !== root) return B.Scatterv(core, null, [], [], recvbuf, root, () => `Scatterv(root=${root})`);
      const [buf, counts, displs] = this.#vector(m, 'send', send);
      C.checkLength(m, 'recvbuf', recvbuf, counts[root]!);
      return B.Scatterv(core, buf, counts, displs, recvbuf, root, () => `Scatterv(root=${root})`);
    });
  }

  /** Every rank's `sendbuf`, in rank order, into every rank's `recvbuf`. */
  Allgather(sendbuf: TypedArray, recvbuf: TypedArray): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Allgather');
      const core = this.#core;
      C.checkBuffer(m, 'sendbuf', sendbuf);
      C.checkBuffer(m, 'recvbuf', recvbuf);
      const n = sendbuf.length;
      C.checkLength(m, 'recvbuf', recvbuf, n * core.size);
      const counts = Array<number>(core.size).fill(n);
      const native = core.native?.Allgatherv?.(core, sendbuf, recvbuf, counts, B.packedDispls(counts));
      if (native) return native;
      // Both steps in one turn: another collective queued between them could go first on some ranks only.
      return core.inTurn((c) =>
        B.Gatherv(c, sendbuf, recvbuf, counts, B.packedDispls(counts), 0, () => 'Allgather()').then(() => B.Bcast(c, recvbuf.subarray(0, n * c.size), 0)),
      );
    });
  }

  /** Block i of `sendbuf` (recvbuf.length / size elements) goes to rank i; block j of `recvbuf` comes from rank j. */
  Alltoall(sendbuf: TypedArray | InPlace, recvbuf: TypedArray): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Alltoall');
      const size = this.size;
      const recv = C.checkBuffer(m, 'recvbuf', recvbuf);
      if (recv.length % size !== 0) throw this.#notBlocks(m, 'recvbuf', recv);
      const count = recv.length / size;
      const send = sendbuf === IN_PLACE ? null : C.checkBuffer(m, 'sendbuf', sendbuf);
      if (send) C.checkLength(m, 'sendbuf', send, count * size);
      return B.Alltoall(this.#core, send && send.subarray(0, count * size), recv, count, () => 'Alltoall()');
    });
  }

  /** Alltoall with per-rank counts (and optional displacements): `[buf, counts, displs?]` on both sides. */
  Alltoallv(send: VectorSpec | InPlace, recv: VectorSpec): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Alltoallv');
      const [rbuf, rcounts, rdispls] = this.#vector(m, 'recv', recv);
      const [sbuf, scounts, sdispls] = send === IN_PLACE ? [null, rcounts, rdispls] : this.#vector(m, 'send', send);
      return B.Alltoallv(this.#core, sbuf, scounts, sdispls, rbuf, rcounts, rdispls, () => 'Alltoallv()');
    });
  }

  /** Allgather with per-rank counts (and optional displacements): `recv` is `[buf, counts, displs?]`. */
  Allgatherv(sendbuf: TypedArray | InPlace, recv: VectorSpec): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Allgatherv');
      const [buf, counts, displs] = this.#vector(m, 'recv', recv);
      const send = sendbuf === IN_PLACE ? null : C.checkBuffer(m, 'sendbuf', sendbuf);
      if (send) C.checkLength(m, 'sendbuf', send, counts[this.rank]!);
      return B.Allgatherv(this.#core, send, buf, counts, displs, () => 'Allgatherv()');
    });
  }

  /**
   * Element-wise `op` of every rank's `sendbuf` (size blocks of recvbuf.length elements); rank i
   * gets block i. IN_PLACE: the input is in recvbuf and block i lands at its start.
   */
  Reduce_scatter_block(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op?: OpLike): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Reduce_scatter_block');
      const size = this.size;
      const recv = C.checkBuffer(m, 'recvbuf', recvbuf);
      let send: TypedArray | null = null;
      let count = recv.length;
      if (sendbuf === IN_PLACE) {
        if (recv.length % size !== 0) throw this.#notBlocks(m, 'recvbuf', recv);
        count = recv.length / size;
      } else {
        send = C.checkBuffer(m, 'sendbuf', sendbuf);
        C.checkLength(m, 'sendbuf', send, count * size);
        send = send.subarray(0, count * size);
      }
      const counts = Array<number>(size).fill(count);
      return B.Reduce_scatter(this.#core, send, recv, counts, toOp(op), true, () => 'Reduce_scatter_block()');
    });
  }

  /**
   * Element-wise `op` of every rank's `sendbuf`; rank i gets `recvcounts[i]` elements, in order.
   * Without recvcounts each rank's recvbuf.length is its count (mpi4py). IN_PLACE needs recvcounts.
   */
  Reduce_scatter(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, recvcounts: readonly number[] | null = null, op?: OpLike): Promise<void> {
    return this.#checked(() => {
      const m = this.#name('Reduce_scatter');
      const core = this.#core;
      const recv = C.checkBuffer(m, 'recvbuf', recvbuf);
      const send = sendbuf === IN_PLACE ? null : C.checkBuffer(m, 'sendbuf', sendbuf);
      const reduction = toOp(op);
      const run = (counts: readonly number[], on: CommCore): Promise<void> => {
        const total = counts.reduce((a, c) => a + c, 0);
        C.checkLength(m, send ? 'sendbuf' : 'recvbuf', send ?? recv, total);
        C.checkLength(m, 'recvbuf', recv, counts[core.rank]!);
        return B.Reduce_scatter(on, send && send.subarray(0, total), recv, counts, reduction, false, () => 'Reduce_scatter()');
      };
      if (recvcounts !== null) return run(C.checkCounts(m, 'recvcounts', recvcounts, core.size), core);
      if (!send) throw Errors.BadArgument(m, 'IN_PLACE without recvcounts', 'pass recvcounts, one element count per rank');
      // The counts' allgather and the reduction in one turn (see Allgather).
      return core.inTurn((c) => O.allgather(c, recv.length).then((counts) => run(counts, c)));
    });
  }

  /** Rank i's `recvbuf` gets sendbuf(0) op ... op sendbuf(i), element by element. */
  Scan(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op?: OpLike): Promise<void> {
    return this.#checked(() => this.#scan(this.#name('Scan'), sendbuf, recvbuf, op, false));
  }

  /** Rank i's `recvbuf` gets sendbuf(0) op ... op sendbuf(i-1); rank 0's is left as it was. */
  Exscan(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op?: OpLike): Promise<void> {
    return this.#checked(() => this.#scan(this.#name('Exscan'), sendbuf, recvbuf, op, true));
  }

  #scan(method: string, sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op: OpLike | undefined, exclusive: boolean): Promise<void> {
    const recv = C.checkBuffer(method, 'recvbuf', recvbuf);
    const send = sendbuf === IN_PLACE ? null : C.checkBuffer(method, 'sendbuf', sendbuf);
    if (send) C.checkLength(method, 'recvbuf', recv, send.length);
    const target = send ? recv.subarray(0, send.length) : recv;
    const reduction = toOp(op);
    return B.Scan(this.#core, send, target, reduction, exclusive, () => `${exclusive ? 'Exscan' : 'Scan'}(op=${reduction.name})`);
  }

  #notBlocks(method: string, arg: string, buf: TypedArray): Error {
    return Errors.BadArgument(method, `${arg} has ${buf.length} elements, not a multiple of the ${this.size} ranks`, `give ${arg} one equal block per rank`);
  }

  // ==== Nonblocking collectives: Requests ======================================================

  /**
   * Starts a collective on its own tags (CommCore.nonblockingView) and returns its Request.
   * It runs the blocking method's code, so arguments and results are the same.
   */
  #start(call: string, run: (view: Communicator) => Promise<void>): Request<void> {
    const view = new Communicator(this.#core.nonblockingView());
    view.#nonblocking = true;
    const started = run(view);
    view.#core.closeNative(); // its native MPI call, if any, has started: later steps use point-to-point
    return Request.collective(this.#core, started, call);
  }

  /** Set on the view a nonblocking collective runs on. */
  #nonblocking = false;

  /** 'Bcast' as the user called it: 'Ibcast' on a nonblocking view. */
  #name(blocking: string): string {
    return this.#nonblocking ? `I${blocking[0]!.toLowerCase()}${blocking.slice(1)}` : blocking;
  }

  /** Runs `start`; a bad argument rejects the blocking call's promise, but throws at a nonblocking one. */
  #checked(start: () => Promise<void>): Promise<void> {
    if (this.#nonblocking) return start();
    try {
      return start();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  Ibarrier(): Request<void> {
    return this.#start('Ibarrier()', (c) => c.barrier());
  }
  Ibcast(buf: TypedArray, root = 0): Request<void> {
    return this.#start(`Ibcast(root=${root})`, (c) => c.Bcast(buf, root));
  }
  Ireduce(sendbuf: TypedArray | InPlace, recvbuf: TypedArray | null, op?: OpLike, root = 0): Request<void> {
    return this.#start(`Ireduce(root=${root})`, (c) => c.Reduce(sendbuf, recvbuf, op, root));
  }
  Iallreduce(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op?: OpLike): Request<void> {
    return this.#start('Iallreduce()', (c) => c.Allreduce(sendbuf, recvbuf, op));
  }
  Igather(sendbuf: TypedArray, recvbuf: TypedArray | null, root = 0): Request<void> {
    return this.#start(`Igather(root=${root})`, (c) => c.Gather(sendbuf, recvbuf, root));
  }
  Iallgather(sendbuf: TypedArray, recvbuf: TypedArray): Request<void> {
    return this.#start('Iallgather()', (c) => c.Allgather(sendbuf, recvbuf));
  }
  Ialltoall(sendbuf: TypedArray | InPlace, recvbuf: TypedArray): Request<void> {
    return this.#start('Ialltoall()', (c) => c.Alltoall(sendbuf, recvbuf));
  }
  // The rest of mpi4py's nonblocking collectives, for code pasted from Python.
  Igatherv(sendbuf: TypedArray, recv: VectorSpec | null, root = 0): Request<void> {
    return this.#start(`Igatherv(root=${root})`, (c) => c.Gatherv(sendbuf, recv, root));
  }
  Iscatter(sendbuf: TypedArray | null, recvbuf: TypedArray, root = 0): Request<void> {
    return this.#start(`Iscatter(root=${root})`, (c) => c.Scatter(sendbuf, recvbuf, root));
  }
  Iscatterv(send: VectorSpec | null, recvbuf: TypedArray, root = 0): Request<void> {
    return this.#start(`Iscatterv(root=${root})`, (c) => c.Scatterv(send, recvbuf, root));
  }
  Iallgatherv(sendbuf: TypedArray | InPlace, recv: VectorSpec): Request<void> {
    return this.#start('Iallgatherv()', (c) => c.Allgatherv(sendbuf, recv));
  }
  Ialltoallv(send: VectorSpec | InPlace, recv: VectorSpec): Request<void> {
    return this.#start('Ialltoallv()', (c) => c.Alltoallv(send, recv));
  }
  Ireduce_scatter_block(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op?: OpLike): Request<void> {
    return this.#start('Ireduce_scatter_block()', (c) => c.Reduce_scatter_block(sendbuf, recvbuf, op));
  }
  Ireduce_scatter(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, recvcounts: readonly number[] | null = null, op?: OpLike): Request<void> {
    return this.#start('Ireduce_scatter()', (c) => c.Reduce_scatter(sendbuf, recvbuf, recvcounts, op));
  }
  Iscan(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op?: OpLike): Request<void> {
    return this.#start('Iscan()', (c) => c.Scan(sendbuf, recvbuf, op));
  }
  Iexscan(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op?: OpLike): Request<void> {
    return this.#start('Iexscan()', (c) => c.Exscan(sendbuf, recvbuf, op));
  }

  #vector(method: string, arg: string, spec: VectorSpec | null): [TypedArray, readonly number[], readonly number[]] {
    if (!Array.isArray(spec) || spec.length < 2) {
      throw Errors.BadArgument(method, `${arg} must be [buffer, counts] or [buffer, counts, displs] on the root`, 'e.g. [new Float64Array(10), [4, 6]]');
    }
    const size = this.size;
    const buf = C.checkBuffer(method, `${arg}[0]`, spec[0]);
    const counts = C.checkCounts(method, `${arg}[1] (counts)`, spec[1], size);
    const displs = spec[2] === undefined ? B.packedDispls(counts) : C.checkCounts(method, `${arg}[2] (displs)`, spec[2], size);
    const end = Math.max(0, ...counts.map((c, i) => displs[i]! + c));
    C.checkLength(method, `${arg}[0]`, buf, end);
    return [buf, counts, displs];
  }

  #native(name: 'Barrier'): Promise<void> | undefined {
    return this.#core.native?.[name]?.(this.#core);
  }

  // ==== Communicators and topologies ===========================================================

  /** A new communicator with the same ranks, whose messages never mix with this one's. */
  async dup(): Promise<Communicator> {
    return new Communicator((await splitCore(this.#core, 0, this.rank))!);
  }

  /**
   * Ranks that pass the same `color` form a new communicator, ordered by `key` (then by rank).
   * Ranks passing UNDEFINED get null. Every rank of this communicator must call it.
   */
  async split(color: number, key: number = this.rank): Promise<Communicator | null> {
    if (!Number.isInteger(color) || (color < 0 && color !== UNDEFINED)) {
      throw Errors.BadArgument('split', `color=${String(color)} is not a non-negative integer`, 'pass a colour >= 0, or UNDEFINED to join no communicator');
    }
    if (!Number.isInteger(key)) throw Errors.BadArgument('split', `key=${String(key)} is not an integer`, 'pass an integer key (the order within the new communicator)');
    const core = await splitCore(this.#core, color, key);
    return core && new Communicator(core);
  }

  /**
   * A Cartesian grid over the first product(dims) ranks (row-major, like MPI); other ranks get
   * null. `periods[d]` makes dimension d wrap around. A 0 in dims is filled in (MPI_Dims_create).
   */
  async createCart(dims: readonly number[], periods: boolean | readonly (boolean | number)[] = false): Promise<CartComm | null> {
    const made = await cartCore(this.#core, dims, periods);
    return made && new CartComm(made.core, made.topology);
  }

  // mpi4py's spellings of the same calls, with its arguments and defaults.

  /** mpi4py's `Dup()`: dup(). */
  Dup(): Promise<Communicator> {
    return this.dup();
  }
  /** mpi4py's `Split(color=0, key=0)`: split(); ties in `key` keep rank order; UNDEFINED gives null. */
  Split(color = 0, key = 0): Promise<Communicator | null> {
    return this.split(color, key);
  }
  /**
   * mpi4py's `Create_cart(dims, periods=None, reorder=False)`: createCart(). Ranks keep their
   * order (MPI allows ignoring `reorder`).
   */
  Create_cart(dims: readonly number[], periods: readonly (boolean | number)[] | boolean | null = null, reorder = false): Promise<CartComm | null> {
    void reorder;
    return this.createCart(dims, periods ?? false);
  }

  /** Stops every rank of the world with `code` (MPI_Abort): the launcher reports it. */
  abort(code = 1): never {
    return this.#core.transport.abort(code);
  }
  Abort(code = 1): never {
    return this.abort(code);
  }
}

/** A communicator whose ranks sit on a Cartesian grid (createCart). */
export class CartComm extends Communicator {
  readonly #topology: CartTopology;

  /** @internal */
  constructor(core: CommCore, topology: CartTopology) {
    super(core);
    this.#topology = topology;
  }

  get dims(): readonly number[] {
    return this.#topology.dims;
  }
  get periods(): readonly boolean[] {
    return this.#topology.periods;
  }
  /** This rank's coordinates. */
  get coords(): number[] {
    return this.#topology.coordsOf(this.rank);
  }
  getCoords(rank: number): number[] {
    C.checkDest('getCoords', rank, this.size);
    return this.#topology.coordsOf(rank);
  }
  /** The rank at `coords` (periodic dimensions wrap; off the grid: PROC_NULL). */
  getCartRank(coords: readonly number[]): number {
    return this.#topology.rankAt(coords);
  }
  /**
   * Neighbours for a halo exchange along `direction`: `[source, dest]`, the ranks
   * `displacement` steps behind and ahead; PROC_NULL past a non-periodic edge, so sends and
   * receives there do nothing.
   */
  shift(direction: number, displacement = 1): [source: number, dest: number] {
    return this.#topology.shift(this.rank, direction, displacement);
  }

  // mpi4py's Cartcomm spellings.

  /** The number of dimensions (mpi4py `Get_dim()`, `ndim`). */
  get ndim(): number {
    return this.#topology.dims.length;
  }
  Get_dim(): number {
    return this.ndim;
  }
  /** `[dims, periods, coords]` of this rank (mpi4py `Get_topo()`, `topo`). */
  get topo(): [dims: number[], periods: boolean[], coords: number[]] {
    return [[...this.dims], [...this.periods], this.coords];
  }
  Get_topo(): [dims: number[], periods: boolean[], coords: number[]] {
    return this.topo;
  }
  Get_coords(rank: number): number[] {
    return this.getCoords(rank);
  }
  Get_cart_rank(coords: readonly number[]): number {
    return this.getCartRank(coords);
  }
  /** mpi4py's `Shift(direction, disp)` → `[source, dest]`. */
  Shift(direction: number, disp: number): [source: number, dest: number] {
    return this.shift(direction, disp);
  }
}
