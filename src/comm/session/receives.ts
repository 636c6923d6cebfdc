/**
 * The receives a session cell posts belong to that cell: when the cell is dropped (it failed,
 * or was stopped by an interrupt, a deadlock or another rank's failure), those that no message
 * has matched are withdrawn on the transport, so they cannot catch a later cell's message with
 * the same source and tag. A cell that ends well keeps its receives: a request it made may be
 * waited for by a later cell.
 */
import type { Transport, TransportOp } from '../transport.js';

/** At this many, receives that completed are dropped from the cell's list (then at twice what is left). */
const kPruneAt = 1024;

export class CellReceives {
  #posted = new Set<TransportOp>();
  #pruneAt = kPruneAt;
  readonly #transport: Transport;

  /** Watches every receive posted on `transport` from now on (its recv is wrapped on this instance). */
  constructor(transport: Transport) {
    this.#transport = transport;
    const post = transport.recv.bind(transport);
    transport.recv = (source, context, tag, into) => {
      const op = post(source, context, tag, into);
      if (!op.done) this.#note(op);
      return op;
    };
  }

  #note(op: TransportOp): void {
    if (this.#posted.size >= this.#pruneAt) {
      for (const o of this.#posted) if (o.done) this.#posted.delete(o);
      this.#pruneAt = Math.max(kPruneAt, 2 * this.#posted.size); // many still pending: prune less often
    }
    this.#posted.add(op);
  }

  /** The cell ended well: its receives stay posted, no longer the cell's. */
  keep(): void {
    this.#posted = new Set();
    this.#pruneAt = kPruneAt;
  }

  /** The cell was dropped: withdraws its receives that are still waiting; returns how many. */
  withdraw(): number {
    let withdrawn = 0;
    for (const op of this.#posted) if (!op.done && this.#transport.withdraw?.(op)) withdrawn++;
    this.#posted = new Set();
    this.#pruneAt = kPruneAt;
    return withdrawn;
  }
}
