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

  /** Fills `buf` on every rank with the root's `buf`. */
  async Bcast(buf: TypedArray, root = 0): Promise<void> {
    C.checkBuffer('Bcast', 'buf', buf);
    return B.Bcast(this.#core, buf, C.checkRoot('Bcast', root, this.size));
  }

  /** Element-wise `op` of every rank's `sendbuf` into the root's `recvbuf` (null elsewhere). */
  async Reduce(sendbuf: TypedArray | InPlace, recvbuf: TypedArray | null, op?: OpLike, root = 0): Promise<void> {
    const core = this.#core;
    C.checkRoot('Reduce', root, core.size);
    const isRoot = core.rank === root;
    const recv = C.checkRootBuffer('Reduce', 'recvbuf', recvbuf, isRoot);
    const send = sendbuf === IN_PLACE && recv ? recv : C.checkBuffer('Reduce', 'sendbuf', sendbuf);
    if (recv) C.checkLength('Reduce', 'recvbuf', recv, send.length);
    const acc = allocLike(send, send.length);
    setElements(acc, send);
    await B.Reduce(core, acc, recv, toOp(op), root);
  }

  /** Element-wise `op` of every rank's `sendbuf` into every rank's `recvbuf`; `sendbuf` may be IN_PLACE. */
  Allreduce(sendbuf: TypedArray | InPlace, recvbuf: TypedArray, op?: OpLike): Promise<void> {
    try {
      const recv = C.checkBuffer('Allreduce', 'recvbuf', recvbuf);
      const send = sendbuf === IN_PLACE ? recv : C.checkBuffer('Allreduce', 'sendbuf', sendbuf);
      if (send !== recv) C.checkLength('Allreduce', 'recvbuf', recv, send.length);
      return B.Allreduce(this.#core, send, send.length === recv.length ? recv : recv.subarray(0, send.length), toOp(op));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Every rank's `sendbuf`, one after another in rank order, into the root's `recvbuf`. */
  async Gather(sendbuf: TypedArray, recvbuf: TypedArray | null, root = 0): Promise<void> {
    const core = this.#core;
    C.checkBuffer('Gather', 'sendbuf', sendbuf);
    C.checkRoot('Gather', root, core.size);
    const recv = C.checkRootBuffer('Gather', 'recvbuf', recvbuf, core.rank === root);
    const n = sendbuf.length;
    if (recv) C.checkLength('Gather', 'recvbuf', recv, n * core.size);
    const counts = Array<number>(core.size).fill(n);
    return B.Gatherv(core, sendbuf, recv, counts, B.packedDispls(counts), root, () => `Gather(root=${root})`);
  }

  /** Like Gather, with per-rank counts (and optional displacements) in elements: `[recvbuf, counts, displs?]`. */
  async Gatherv(sendbuf: TypedArray, recv: VectorSpec | null, root = 0): Promise<void> {
    const core = this.#core;
    C.checkBuffer('Gatherv', 'sendbuf', sendbuf);
    C.checkRoot('Gatherv', root, core.size);
    if (core.rank !== root) {
      return B.Gatherv(core, sendbuf, null, [], [], root, () => `Gatherv(root=${root})`);
    }
    const [buf, counts, displs] = this.#vector('Gatherv', 'recv', recv);
    if (counts[root]! > sendbuf.length) throw Errors.BufferSize('Gatherv', 'sendbuf', counts[root]!, sendbuf.length);
    return B.Gatherv(core, sendbuf, buf, counts, displs, root, () => `Gatherv(root=${root})`);
  }

  /** Rank i gets the i-th block of `recvbuf.length` elements of the root's `sendbuf`. */
  async Scatter(sendbuf: TypedArray | null, recvbuf: TypedArray, root = 0): Promise<void> {
    const core = this.#core;
    C.checkBuffer('Scatter', 'recvbuf', recvbuf);
    C.checkRoot('Scatter', root, core.size);
    const send = C.checkRootBuffer('Scatter', 'sendbuf', sendbuf, core.rank === root);
    const n = recvbuf.length;
    if (send) C.checkLength('Scatter', 'sendbuf', send, n * core.size);
    const counts = Array<number>(core.size).fill(n);
    return B.Scatterv(core, send, counts, B.packedDispls(counts), recvbuf, root, () => `Scatter(root=${root})`);
  }

  /** Like Scatter, with per-rank counts (and optional displacements): `[sendbuf, counts, displs?]` on the root. */
  async Scatterv(send: VectorSpec | null, recvbuf: TypedArray, root = 0): Promise<void> {
    const core = this.#core;
    C.checkBuffer('Scatterv', 'recvbuf', recvbuf);
    C.checkRoot('Scatterv', root, core.size);
    if (core.rank !== root) return B.Scatterv(core, null, [], [], recvbuf, root, () => `Scatterv(root=${root})`);
    const [buf, counts, displs] = this.#vector('Scatterv', 'send', send);
    C.checkLength('Scatterv', 'recvbuf', recvbuf, counts[root]!);
    return B.Scatterv(core, buf, counts, displs, recvbuf, root, () => `Scatterv(root=${root})`);
  }

  /** Every rank's `sendbuf`, in rank order, into every rank's `recvbuf`. */
  async Allgather(sendbuf: TypedArray, recvbuf: TypedArray): Promise<void> {
    const core = this.#core;
    C.checkBuffer('Allgather', 'sendbuf', sendbuf);
    C.checkBuffer('Allgather', 'recvbuf', recvbuf);
    const n = sendbuf.length;
    C.checkLength('Allgather', 'recvbuf', recvbuf, n * core.size);
    const counts = Array<number>(core.size).fill(n);
    await B.Gatherv(core, sendbuf, recvbuf, counts, B.packedDispls(counts), 0, () => 'Allgather()');
    await B.Bcast(core, recvbuf.subarray(0, n * core.size), 0);
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
    return this.#core.transport.collectives?.[name]?.(this.#core);
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
