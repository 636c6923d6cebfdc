/**
 * When each item of a traced pool batch ended, read on the worker. A clock read costs about as
 * much as a tiny task (tens of ns), so items shorter than kShortMs are timed in groups of
 * kGroup: one read per group, the group's ends spread evenly over it. Longer items get a read
 * each. Keeps tracing a map of 10,000 trivial tasks within a few percent.
 */
import { traceNow } from './clock.js';

const kShortMs = 0.002;
const kGroup = 16;

export class ItemClock {
  readonly startedAt = traceNow();
  readonly #ends: Float64Array;
  #ran = 0;
  /** Items up to here have their ends written; the last read was at #lastAt. */
  #written = 0;
  #lastAt = this.startedAt;
  #countdown = 1;

  constructor(items: number) {
    this.#ends = new Float64Array(items);
  }

  /** One more item ended. */
  ended(): void {
    this.#ran++;
    if (--this.#countdown === 0) this.#read();
  }

  /** The start and the ends of the items that ran, for the batch's reply. */
  finish(): { startedAt: number; itemEnds: Float64Array } {
    if (this.#written < this.#ran) this.#read();
    return { startedAt: this.startedAt, itemEnds: this.#ends.slice(0, this.#ran) };
  }

  #read(): void {
    const now = traceNow();
    const k = this.#ran - this.#written;
    const per = (now - this.#lastAt) / k;
    for (let j = 1; j <= k; j++) this.#ends[this.#written + j - 1] = this.#lastAt + per * j;
    this.#ends[this.#ran - 1] = now;
    this.#written = this.#ran;
    this.#lastAt = now;
    this.#countdown = per < kShortMs ? kGroup : 1;
  }
}
