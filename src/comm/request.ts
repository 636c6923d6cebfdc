/**
 * A nonblocking operation (mpi4py's Request): returned by isend/irecv/Isend/Irecv. `wait()`
 * resolves with the result (the object for irecv, a Status for Irecv, undefined for sends);
 * `test()` makes progress once and says whether it is done.
 */
import { ANY_SOURCE, ANY_TAG } from './constants.js';
import { rethrow, type CommCore } from './core.js';
import { Status } from './status.js';
import type { TransportOp } from './transport.js';

/** How a request turns its finished op into its result. */
export type RequestKind = 'send' | 'object' | 'buffer';

// Received objects are `any` unless typed (recv<number>()), as in mpi4py.
export class Request<T = any> {
  readonly #core: CommCore;
  readonly #op: TransportOp;
  readonly #kind: RequestKind;
  readonly #call: string;
  readonly #peer: number;
  readonly #tag: number;
  readonly #elementBytes: number;

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

  /** Whether the operation has finished (without making progress; see test()). */
  get done(): boolean {
    return this.#op.done;
  }

  /** Resolves when the operation is done, with its result; fills `status` for receives. */
  wait(status?: Status): Promise<T> {
    const op = this.#op;
    const pending = this.#core.until(() => op.done, () => this.toString());
    if (pending) return pending.then(() => this.#result(status));
    try {
      return Promise.resolve(this.#result(status));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Makes progress once; `[true, result]` when done, `[false, undefined]` when not yet. */
  test(status?: Status): [boolean, T | undefined] {
    if (!this.#op.done) this.#core.transport.poll();
    return this.#op.done ? [true, this.#result(status)] : [false, undefined];
  }

  /** What this request is, as deadlock reports show it: "irecv(source=1, tag=0)". */
  toString(): string {
    const peer = this.#kind === 'send' ? `dest=${this.#peer}` : `source=${this.#peer === ANY_SOURCE ? 'ANY_SOURCE' : this.#peer}`;
    return `${this.#call}(${peer}, tag=${this.#tag === ANY_TAG ? 'ANY_TAG' : this.#tag})`;
  }

  #result(status?: Status): T {
    const op = this.#op;
    if (op.error) throw rethrow(op.error);
    if (this.#kind === 'send') return undefined as T;
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
    const open = requests.filter((r) => !r.done);
    const pending = open[0]?.core.until(
      () => open.every((r) => r.done),
      () => `waitall(${open.filter((r) => !r.done).join(', ')})`,
    );
    if (pending) await pending;
    return requests.map((r) => r.#result()) as { [K in keyof R]: R[K] extends Request<infer U> ? U : never };
  }

  /** Waits for the first request to finish; resolves with `[index, result]`. */
  static async waitany<T>(requests: readonly Request<T>[]): Promise<[number, T]> {
    if (requests.length === 0) throw new RangeError('waitany: no requests given; pass at least one Request');
    const pending = requests[0]!.core.until(
      () => requests.some((r) => r.done),
      () => `waitany(${requests.join(', ')})`,
    );
    if (pending) await pending;
    const index = requests.findIndex((r) => r.done);
    return [index, requests[index]!.#result()];
  }

  /** Makes progress once; `[true, results]` when all are done, else `[false, undefined]`. */
  static testall<T>(requests: readonly Request<T>[]): [boolean, T[] | undefined] {
    if (requests.length > 0 && !requests.every((r) => r.done)) requests[0]!.core.transport.poll();
    return requests.every((r) => r.done) ? [true, requests.map((r) => r.#result())] : [false, undefined];
  }

  // mpi4py's capitalised twins, for code ported from Python.
  static Waitall = Request.waitall;
  static Waitany = Request.waitany;
  static Testall = Request.testall;
  Wait(status?: Status): Promise<T> {
    return this.wait(status);
  }
  Test(status?: Status): [boolean, T | undefined] {
    return this.test(status);
  }
}
