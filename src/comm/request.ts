/**
 * A nonblocking operation (mpi4py's Request): returned by isend/irecv/Isend/Irecv and the
 * nonblocking collectives (Ibarrier, Ibcast, ...). `wait()` resolves with the result (the object
 * for irecv, a Status for Irecv, undefined for sends and collectives); `test()` makes progress
 * once and says whether it is done.
 *
 * A point-to-point request is one transport operation, completed by the transport's progress.
 * A collective request is an algorithm running on its own (a promise that makes its own
 * progress and reports its own waits to the deadlock watchdog): waiting for it means awaiting
 * that promise, since the transport would not wake a waiter when the algorithm's last step runs.
 */
import { ANY_SOURCE, ANY_TAG, UNDEFINED } from './constants.js';
import { rethrow, type CommCore } from './core.js';
import { OpRecord } from './engine.js';
import { Status } from './status.js';
import type { TransportOp } from './transport.js';

/** How a request turns its finished op into its result. */
export type RequestKind = 'send' | 'object' | 'buffer' | 'collective';

// Received objects are `any` unless typed (recv<number>()), as in mpi4py.
export class Request<T = any> {
  readonly #core: CommCore;
  readonly #op: TransportOp;
  readonly #kind: RequestKind;
  readonly #call: string;
  readonly #peer: number;
  readonly #tag: number;
  readonly #elementBytes: number;
  /** Collective requests: settles (never rejects; the error goes to the op) when the algorithm ends. */
  #settled: Promise<void> | undefined;
  /** Its completion was handed out: waitany, waitsome and testany skip it (mpi4py's inactive request). */
  #inactive = false;

  /**
   * @internal Made by the Communicator. `call` names the method ('irecv'), `peer` and `tag` its
   * arguments (the description is only built for deadlock reports); `elementBytes` of the
   * receive buffer turns bytes into Status.count.
   */
  constructor(core: CommCore, op: TransportOp, kind: RequestKind, call: string, peer: number, tag: number, elementBytes = 1) {
    this.#core = core;
    this.#op = op;
    this.#kind = kind;
    this.#call = call;
    this.#peer = peer;
    this.#tag = tag;
    this.#elementBytes = elementBytes;
  }

  /**
   * @internal A request for a nonblocking collective: `run` is the collective already started
   * (on its own tags, CommCore.nonblockingView), `call` how deadlock reports name it.
   */
  static collective(core: CommCore, run: Promise<void>, call: string): Request<void> {
    const op = new OpRecord();
    const req = new Request<void>(core, op, 'collective', call, 0, 0);
    req.#settled = run.then(
      () => void (op.done = true),
      (err: unknown) => op.fail(err instanceof Error ? err : new Error(String(err))),
    );
    return req;
  }

  /** Whether the operation has finished (without making progress; see test()). */
  get done(): boolean {
    return this.#op.done;
  }

  /** Resolves when the operation is done, with its result; fills `status` for receives. */
  wait(status?: Status): Promise<T> {
    const op = this.#op;
    if (this.#settled && !op.done) return this.#settled.then(() => this.#result(status));
    const pending = this.#core.until(() => op.done, () => this.toString());
    if (pending) return pending.then(() => this.#result(status));
    try {
      return Promise.resolve(this.#result(status));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Makes progress once; `[true, result]` when done, `[false, undefined]` when not yet. A
   * collective also moves on while the rank awaits anything, so test it between awaits.
   */
  test(status?: Status): [boolean, T | undefined] {
    if (!this.#op.done) this.#core.transport.poll();
    return this.#op.done ? [true, this.#result(status)] : [false, undefined];
  }

  /** What this request is, as deadlock reports show it: "irecv(source=1, tag=0)". */
  toString(): string {
    if (this.#kind === 'collective') return this.#call;
    const peer = this.#kind === 'send' ? `dest=${this.#peer}` : `source=${this.#peer === ANY_SOURCE ? 'ANY_SOURCE' : this.#peer}`;
    return `${this.#call}(${peer}, tag=${this.#tag === ANY_TAG ? 'ANY_TAG' : this.#tag})`;
  }

  #result(status?: Status): T {
    const op = this.#op;
    this.#inactive = true;
    if (op.error) throw rethrow(op.error);
    if (this.#kind === 'send' || this.#kind === 'collective') return undefined as T;
    const source = this.#core.toLocal(op.source);
    const count = op.bytes / this.#elementBytes;
    status?.set(source, op.tag, count);
    if (this.#kind === 'object') return op.value as T;
    return (status ?? new Status().set(source, op.tag, count)) as T;
  }

  /** @internal */
  get op(): TransportOp {
    return this.#op;
  }
  /** @internal */
  get core(): CommCore {
    return this.#core;
  }

  // ---- many requests ------------------------------------------------------------------------

  /** Waits for all requests; resolves with their results in order. */
  static async waitall<R extends readonly Request<unknown>[]>(requests: R): Promise<{ [K in keyof R]: R[K] extends Request<infer U> ? U : never }> {
    const collectives = requests.filter((r) => !r.done && r.#settled).map((r) => r.#settled);
    if (collectives.length > 0) await Promise.all(collectives);
    const open = requests.filter((r) => !r.done);
    const pending = open[0]?.core.until(
      () => open.every((r) => r.done),
      () => `waitall(${open.filter((r) => !r.done).join(', ')})`,
    );
    if (pending) await pending;
    return requests.map((r) => r.#result()) as { [K in keyof R]: R[K] extends Request<infer U> ? U : never };
  }

  /**
   * Waits for the first request to finish; resolves with `[index, result]`. Requests whose
   * completion was already handed out are skipped; when all were, `[UNDEFINED, undefined]`.
   */
  static async waitany<T>(requests: readonly Request<T>[]): Promise<[number, T]> {
    if (requests.length === 0) throw new RangeError('waitany: no requests given; pass at least one Request');
    const active = requests.filter((r) => !r.#inactive);
    if (active.length === 0) return [UNDEFINED, undefined as T];
    await Request.#any(active, 'waitany');
    const index = requests.findIndex((r) => r.done && !r.#inactive);
    return [index, requests[index]!.#result()];
  }

  /**
   * mpi4py's waitsome: waits until at least one active request is done; resolves with the
   * indices and results of all that are, in order. `[undefined, undefined]` when none is active.
   */
  static async waitsome<T>(requests: readonly Request<T>[]): Promise<[number[] | undefined, T[] | undefined]> {
    const active = requests.filter((r) => !r.#inactive);
    if (active.length === 0) return [undefined, undefined];
    await Request.#any(active, 'waitsome');
    return Request.#harvest(requests);
  }

  /** mpi4py's testsome: like waitsome without waiting (empty lists when none is done yet). */
  static testsome<T>(requests: readonly Request<T>[]): [number[] | undefined, T[] | undefined] {
    const active = requests.filter((r) => !r.#inactive);
    if (active.length === 0) return [undefined, undefined];
    if (!active.some((r) => r.done)) active[0]!.core.transport.poll();
    return Request.#harvest(requests);
  }

  /**
   * mpi4py's testany: makes progress once; `[index, true, result]` for the first active request
   * that is done, `[UNDEFINED, false, undefined]` when none is yet, `[UNDEFINED, true, undefined]`
   * when no request is active.
   */
  static testany<T>(requests: readonly Request<T>[]): [number, boolean, T | undefined] {
    const active = requests.filter((r) => !r.#inactive);
    if (active.length === 0) return [UNDEFINED, true, undefined];
    if (!active.some((r) => r.done)) active[0]!.core.transport.poll();
    const index = requests.findIndex((r) => r.done && !r.#inactive);
    return index < 0 ? [UNDEFINED, false, undefined] : [index, true, requests[index]!.#result()];
  }

  /** Makes progress once; `[true, results]` when all are done, else `[false, undefined]`. */
  static testall<T>(requests: readonly Request<T>[]): [boolean, T[] | undefined] {
    if (requests.length > 0 && !requests.every((r) => r.done)) requests[0]!.core.transport.poll();
    return requests.every((r) => r.done) ? [true, requests.map((r) => r.#result())] : [false, undefined];
  }

  static #harvest<T>(requests: readonly Request<T>[]): [number[], T[]] {
    const indices: number[] = [];
    const results: T[] = [];
    requests.forEach((r, i) => {
      if (!r.done || r.#inactive) return;
      indices.push(i);
      results.push(r.#result());
    });
    return [indices, results];
  }

  /** Resolves once one of `active` is done. */
  static async #any(active: readonly Request<unknown>[], call: string): Promise<void> {
    const ready = () => active.some((r) => r.done);
    if (ready()) return;
    const collectives = active.filter((r) => r.#settled).map((r) => r.#settled!);
    if (collectives.length === 0) {
      const pending = active[0]!.core.until(ready, () => `${call}(${active.join(', ')})`);
      if (pending) await pending;
      return;
    }
    if (collectives.length === active.length) return Promise.race(collectives);
    // Both kinds: a transport wait would not wake when a collective ends (and would linger,
    // reported as blocked, if it did first). The collectives report their own waits; poll
    // for the point-to-point ones in between, yielding to the event loop each time.
    const transport = active[0]!.core.transport;
    for (let i = 0; !ready(); i++) {
      transport.poll();
      if (ready()) return;
      await Promise.race([...collectives, new Promise<void>((resolve) => (i < 100 ? setImmediate(resolve) : setTimeout(resolve, 1)))]);
    }
  }

  // mpi4py's capitalised twins, for code ported from Python.
  static Waitall = Request.waitall;
  static Waitany = Request.waitany;
  static Testall = Request.testall;
  /** mpi4py's Waitsome: the indices only. */
  static async Waitsome(requests: readonly Request<unknown>[]): Promise<number[] | undefined> {
    return (await Request.waitsome(requests))[0];
  }
  /** mpi4py's Testany: `[index, flag]`. */
  static Testany(requests: readonly Request<unknown>[]): [number, boolean] {
    const [index, flag] = Request.testany(requests);
    return [index, flag];
  }
  Wait(status?: Status): Promise<T> {
    return this.wait(status);
  }
  Test(status?: Status): [boolean, T | undefined] {
    return this.test(status);
  }
}
