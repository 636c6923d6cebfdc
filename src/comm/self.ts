/**
 * The transport of a one-rank world: a plain Node program that imports `comm` without being
 * started as a rank. Messages to oneself are matched like any others.
 */
import { bytesOf, dtypeOf, type TypedArray } from './buffers.js';
import { completedSend, EventWaiters, Matcher, RecvOp, type Arrived } from './engine.js';
import { deserialize, serialize } from './serialize.js';
import type { ProbeInfo, Transport, TransportOp } from './transport.js';

export class SelfTransport implements Transport {
  readonly backend = 'self' as const;
  readonly rank = 0;
  readonly size = 1;
  readonly #matcher = new Matcher();
  readonly #waiters = new EventWaiters();

  sendObject(_dest: number, context: number, tag: number, value: unknown) {
    const data = serialize(value);
    this.#arrive({ source: 0, context, tag, bytes: data.byteLength, isBuffer: false, dtype: 0, value: deserialize(data) });
    return completedSend();
  }

  sendBuffer(_dest: number, context: number, tag: number, view: TypedArray) {
    const data = bytesOf(view).slice();
    this.#arrive({ source: 0, context, tag, bytes: data.byteLength, isBuffer: true, dtype: dtypeOf(view), data });
    return completedSend();
  }

  #arrive(msg: Arrived): void {
    this.#matcher.arrive(msg);
    this.#waiters.check();
  }

  recv(source: number, context: number, tag: number, into: TypedArray | null): RecvOp {
    const op = new RecvOp(source, context, tag, into);
    this.#matcher.post(op);
    return op;
  }

  probe(source: number, context: number, tag: number): ProbeInfo | undefined {
    return this.#matcher.peek(source, context, tag);
  }

  withdraw(op: TransportOp): boolean {
    return op instanceof RecvOp && this.#matcher.withdraw(op);
  }

  poll(): void {}

  wait(ready: () => boolean): Promise<void> {
    return ready() ? Promise.resolve() : this.#waiters.add(ready);
  }

  async finalize(): Promise<void> {}

  abort(code: number): never {
    process.exit(code);
  }
}
