/**
 * Pieces shared by the transports that do their own message matching (threads, processes,
 * self): operation records, MPI's matching rules, and delivery into a receive. A transport
 * that hands matching to a library (Open MPI) needs none of this.
 */
import { bytesOf, dtypeName, typedArrayFrom, type TypedArray } from './buffers.js';
import { ANY_SOURCE, ANY_TAG } from './constants.js';
import { Errors } from './errors.js';
import type { TransportOp } from './transport.js';

export class OpRecord implements TransportOp {
  done = false;
  error: Error | undefined = undefined;
  value: unknown = undefined;
  source = -1;
  tag = -1;
  bytes = 0;
  isBuffer = false;
  dtype = 0;

  fail(error: Error): void {
    this.error = error;
    this.done = true;
  }
}

/** A posted receive. Transports may hang their own state on `transfer` (a rendezvous in progress). */
export class RecvOp extends OpRecord {
  transfer: unknown = undefined;
  constructor(
    readonly wantSource: number,
    readonly context: number,
    readonly wantTag: number,
    readonly into: TypedArray | null,
  ) {
    super();
  }
}

/** A message that arrived before a receive for it was posted. */
export interface Arrived {
  readonly source: number;
  readonly context: number;
  readonly tag: number;
  readonly bytes: number;
  readonly isBuffer: boolean;
  readonly dtype: number;
  /** Object messages: the value, already deserialised. */
  readonly value?: unknown;
  /** Small typed-array messages: a private copy of the bytes. */
  readonly data?: Uint8Array;
  /** Large messages: the transport's handle for pulling the bytes once a receive matches. */
  readonly rendezvous?: unknown;
}

export function matches(source: number, context: number, tag: number, msg: { source: number; context: number; tag: number }): boolean {
  return (
    msg.context === context && (source === ANY_SOURCE || source === msg.source) && (tag === ANY_TAG || tag === msg.tag)
  );
}

/** MPI's two queues: receives waiting for messages, messages waiting for receives; both in order. */
export class Matcher {
  readonly posted: RecvOp[] = [];
  readonly unexpected: Arrived[] = [];

  /** A message arrives: the first posted receive it matches (taken off the queue), if any. */
  takeReceive(source: number, context: number, tag: number): RecvOp | undefined {
    const posted = this.posted;
    for (let i = 0; i < posted.length; i++) {
      const r = posted[i]!;
      if (r.context === context && (r.wantSource === ANY_SOURCE || r.wantSource === source) && (r.wantTag === ANY_TAG || r.wantTag === tag)) {
        posted.splice(i, 1);
        return r;
      }
    }
    return undefined;
  }

  /**
   * Takes back a posted receive that no message has matched yet (failing it with Withdrawn);
   * false when a message matched it already (it completes as usual).
   */
  withdraw(op: RecvOp): boolean {
    const i = this.posted.indexOf(op);
    if (i < 0) return false;
    this.posted.splice(i, 1);
    op.fail(Errors.Withdrawn());
    return true;
  }

  /** A message that carries its data arrives whole: it completes the first matching receive, or waits in the queue. */
  arrive(msg: Arrived): void {
    const op = this.takeReceive(msg.source, msg.context, msg.tag);
    if (op) deliverArrived(op, msg);
    else this.unexpected.push(msg);
  }

  /** A receive is posted: it completes at once with the first queued message it matches, or waits in order. */
  post(op: RecvOp): void {
    const msg = this.takeMessage(op);
    if (msg) deliverArrived(op, msg);
    else this.posted.push(op);
  }

  /** A receive is posted: the first queued message it matches (taken off the queue), if any. */
  takeMessage(op: RecvOp): Arrived | undefined {
    const i = this.find(op.wantSource, op.context, op.wantTag);
    return i < 0 ? undefined : this.unexpected.splice(i, 1)[0];
  }

  peek(source: number, context: number, tag: number): Arrived | undefined {
    const i = this.find(source, context, tag);
    return i < 0 ? undefined : this.unexpected[i];
  }

  private find(source: number, context: number, tag: number): number {
    const q = this.unexpected;
    for (let i = 0; i < q.length; i++) if (matches(source, context, tag, q[i]!)) return i;
    return -1;
  }
}

/** Completes a receive with an object message. */
export function deliverObject(op: RecvOp, source: number, tag: number, bytes: number, value: unknown): void {
  op.source = source;
  op.tag = tag;
  op.bytes = bytes;
  if (op.into) op.error = Errors.ObjectIntoBuffer('Recv', `the message from rank ${source} (tag ${tag})`);
  else op.value = value;
  op.done = true;
}

/**
 * Checks that a typed-array message of `bytes` fits the receive; sets the envelope fields.
 * Returns the bytes of `op.into` to copy into, or null when the message comes back as a value
 * (or the receive failed, with `op.error` set and `op.done` true).
 */
export function prepareBufferReceive(op: RecvOp, source: number, tag: number, dtype: number, bytes: number): Uint8Array | null {
  op.source = source;
  op.tag = tag;
  op.bytes = bytes;
  op.isBuffer = true;
  op.dtype = dtype;
  if (!op.into) return null;
  const target = bytesOf(op.into);
  if (bytes > target.byteLength) {
    op.fail(Errors.Truncated(`the ${dtypeName(dtype)} message from rank ${source} (tag ${tag})`, bytes, target.byteLength));
    return null;
  }
  if (bytes % op.into.BYTES_PER_ELEMENT !== 0) {
    op.fail(Errors.NotMultipleOfElement('Recv', bytes, op.into.BYTES_PER_ELEMENT));
    return null;
  }
  return target;
}

/** Completes a receive with a small typed-array message whose bytes are at hand. */
export function deliverBytes(op: RecvOp, source: number, tag: number, dtype: number, data: Uint8Array): void {
  const target = prepareBufferReceive(op, source, tag, dtype, data.byteLength);
  if (op.done) return;
  if (target) target.set(data);
  else op.value = typedArrayFrom(dtype, data);
  op.done = true;
}

/** Completes a receive from a queued message that carries its data (not a rendezvous). */
export function deliverArrived(op: RecvOp, msg: Arrived): void {
  if (msg.isBuffer) deliverBytes(op, msg.source, msg.tag, msg.dtype, msg.data!);
  else deliverObject(op, msg.source, msg.tag, msg.bytes, msg.value);
}

/** A done, successful send. */
export function completedSend(): OpRecord {
  const op = new OpRecord();
  op.done = true;
  return op;
}

/**
 * Waiters for transports whose progress comes from events (socket data, loopback sends): each
 * event calls `check()`, which resolves the waiters that are now ready.
 */
export class EventWaiters {
  readonly #waiting: { ready: () => boolean; resolve: () => void }[] = [];

  get size(): number {
    return this.#waiting.length;
  }

  add(ready: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => this.#waiting.push({ ready, resolve }));
  }

  check(): void {
    const w = this.#waiting;
    for (let i = 0; i < w.length; ) {
      if (w[i]!.ready()) w.splice(i, 1)[0]!.resolve();
      else i++;
    }
  }
}
