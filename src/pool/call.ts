/**
 * One call on the pool (a map, an imap, an apply…): its items, the ranges not yet sent, the
 * results in input order, and how it ended. The scheduler (core.ts) takes batches from it and
 * feeds results back; the public methods await it or iterate it.
 */
import type { Shipment } from '../ship/shipment.js';
import { chunksPerBatch, isShortWork } from './batching.js';

export type Method = 'map' | 'starmap' | 'imap' | 'imapUnordered' | 'apply' | 'submit';

export interface ItemRange {
  readonly start: number;
  readonly end: number;
}

export type CallOutcome = 'completed' | 'failed' | 'cancelled';

export interface CallSpec {
  readonly id: number;
  readonly method: Method;
  readonly items: ArrayLike<unknown>;
  readonly star: boolean;
  readonly chunksize: number;
  readonly shipment: Shipment;
  readonly transfer: boolean;
}

export class Call {
  readonly id: number;
  readonly method: Method;
  readonly items: ArrayLike<unknown>;
  readonly star: boolean;
  readonly chunksize: number;
  readonly total: number;
  readonly shipment: Shipment;
  readonly key: string;
  readonly transfer: boolean;
  /** Slot of the cancel flag in the pool's control block (-1: none). */
  cancelSlot = -1;
  readonly results: unknown[];
  done = 0;
  /** Batches sent and not yet answered. */
  inflightBatches = 0;
  /** Some batch was sent (a future can no longer be cancelled). */
  started = false;
  /** Measured milliseconds per item (moving average). */
  itemMs: number | undefined;
  error: Error | undefined;
  #outcome: CallOutcome | undefined;
  /** Ranges not sent yet, in order; taken from the front, put back at the front. */
  readonly #pending: { start: number; end: number }[];
  /** Completed ranges past the contiguous prefix (ordered iteration). */
  readonly #completedAt = new Map<number, number>();
  #contiguous = 0;
  /** Completed result blocks not yet taken by an unordered iterator. */
  readonly #unorderedQueue: unknown[][] = [];
  #changed: { promise: Promise<void>; resolve: () => void } | undefined;
  readonly #onSettle: (call: Call) => void;

  constructor(spec: CallSpec, onSettle: (call: Call) => void) {
    this.id = spec.id;
    this.method = spec.method;
    this.items = spec.items;
    this.star = spec.star;
    this.chunksize = spec.chunksize;
    this.total = spec.items.length;
    this.shipment = spec.shipment;
    this.key = `${spec.shipment.id}:${spec.id}`;
    this.transfer = spec.transfer;
    this.results = new Array<unknown>(this.total);
    this.#pending = this.total > 0 ? [{ start: 0, end: this.total }] : [];
    this.#onSettle = onSettle;
  }

  get settled(): boolean {
    return this.#outcome !== undefined;
  }

  get outcome(): CallOutcome | undefined {
    return this.#outcome;
  }

  get pendingItems(): number {
    let n = 0;
    for (const r of this.#pending) n += r.end - r.start;
    return n;
  }

  /** Short chunks: worth keeping a second batch queued in a worker. */
  get short(): boolean {
    return isShortWork(this.itemMs, this.chunksize);
  }

  itemAt(index: number): unknown {
    return this.items[index];
  }

  /** The next batch to send (at most `maxChunks` chunks), or undefined when everything is sent. */
  takeBatch(workers: number, maxChunks = Infinity): ItemRange | undefined {
    const head = this.#pending[0];
    if (!head || this.settled) return undefined;
    const remainingChunks = Math.ceil(this.pendingItems / this.chunksize);
    const chunks = Math.min(maxChunks, chunksPerBatch(this.itemMs, this.chunksize, remainingChunks, workers));
    const start = head.start;
    const end = Math.min(head.end, start + chunks * this.chunksize);
    head.start = end;
    if (head.start >= head.end) this.#pending.shift();
    this.started = true;
    return { start, end };
  }

  /** Puts a batch back (its worker was lost before running it). */
  requeue(range: ItemRange): void {
    if (!this.settled) this.#pending.unshift({ start: range.start, end: range.end });
  }

  /** Stores the results of items start … start + results.length - 1. */
  complete(start: number, results: ArrayLike<unknown>, elapsedMs: number): void {
    if (this.settled || results.length === 0) return;
    for (let i = 0; i < results.length; i++) this.results[start + i] = results[i];
    this.done += results.length;
    const sample = elapsedMs / results.length;
    this.itemMs = this.itemMs === undefined ? sample : 0.5 * this.itemMs + 0.5 * sample;
    this.#completedAt.set(start, start + results.length);
    while (this.#completedAt.has(this.#contiguous)) {
      const end = this.#completedAt.get(this.#contiguous) as number;
      this.#completedAt.delete(this.#contiguous);
      this.#contiguous = end;
    }
    if (this.method === 'imapUnordered') this.#unorderedQueue.push(Array.from(results));
    if (this.done === this.total) this.#settle('completed');
    else this.#notify();
  }

  /** A call with no items is complete as soon as it is registered. */
  settleIfEmpty(): void {
    if (this.total === 0 && !this.settled) this.#settle('completed');
  }

  /** Ends the call with an error (the first one wins). Returns whether it did. */
  fail(error: Error, outcome: CallOutcome = 'failed'): boolean {
    if (this.settled) return false;
    this.error = error;
    this.#settle(outcome);
    return true;
  }

  /** Resolves when the call has settled. */
  async whenSettled(): Promise<void> {
    while (!this.settled) await this.#nextChange();
  }

  /** Results in input order, as they become available; throws at the first failed item. */
  async *ordered(): AsyncGenerator<unknown, void, undefined> {
    let next = 0;
    try {
      for (;;) {
        while (next < this.#contiguous) yield this.results[next++];
        if (next >= this.total) return;
        if (this.settled) {
          if (this.error) throw this.error;
          return;
        }
        await this.#nextChange();
      }
    } finally {
      if (!this.settled) this.fail(new Error('the iteration was stopped early'), 'cancelled');
    }
  }

  /** Results in completion order. */
  async *unordered(): AsyncGenerator<unknown, void, undefined> {
    let yielded = 0;
    try {
      for (;;) {
        let block: unknown[] | undefined;
        while ((block = this.#unorderedQueue.shift())) {
          for (const value of block) {
            yielded++;
            yield value;
          }
        }
        if (yielded >= this.total) return;
        if (this.settled) {
          if (this.error) throw this.error;
          return;
        }
        await this.#nextChange();
      }
    } finally {
      if (!this.settled) this.fail(new Error('the iteration was stopped early'), 'cancelled');
    }
  }

  #settle(outcome: CallOutcome): void {
    this.#outcome = outcome;
    this.#pending.length = 0;
    this.#notify();
    this.#onSettle(this);
  }

  #nextChange(): Promise<void> {
    if (!this.#changed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#changed = { promise, resolve };
    }
    return this.#changed.promise;
  }

  #notify(): void {
    const changed = this.#changed;
    this.#changed = undefined;
    changed?.resolve();
  }
}
