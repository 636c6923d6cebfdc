/**
 * Which MPI communicator carries each context of the comm layer. Every communicator has two
 * contexts (point-to-point, and collective at context + 1), so each gets two MPI communicators:
 * user messages never meet collective ones, and MPI's native collectives run on the second.
 * MPI ranks of a context's communicator are the communicator's own ranks (split orders them the
 * same way), so world ranks are translated with the group.
 */
import type { CommHandle } from '../transport.js';
import type { NativeMpi } from './native.js';

export interface MpiContext {
  /** Index of the MPI communicator in the addon's table. */
  readonly comm: number;
  /** World rank of each communicator rank. */
  readonly group: readonly number[];
  /** Communicator rank of each world rank, -1 for non-members. */
  readonly local: Int32Array;
}

export class ContextTable {
  readonly #byContext = new Map<number, MpiContext>();
  readonly #worldSize: number;

  constructor(worldSize: number) {
    this.#worldSize = worldSize;
  }

  add(context: number, comm: number, group: readonly number[]): void {
    const local = new Int32Array(this.#worldSize).fill(-1);
    group.forEach((world, rank) => (local[world] = rank));
    this.#byContext.set(context, { comm, group, local });
  }

  get(context: number): MpiContext {
    const found = this.#byContext.get(context);
    if (!found) throw new Error(`internal: no MPI communicator for context ${context}`);
    return found;
  }

  /**
   * Makes the MPI communicators of a new communicator (`child`, null on ranks left out) with
   * MPI_Comm_split over the parent's. Every rank of the parent calls this, right after the
   * split's own allgather, so the blocking split only waits for ranks that are already on
   * their way into it.
   */
  split(mpi: NativeMpi, child: CommHandle | null, parent: CommHandle): void {
    // Both from the point-to-point communicator: it carries no native collective but the splits,
    // which run one at a time in the parent's turn (CommCore.inTurn), while the collective
    // communicator's native calls start whenever the user calls them; a split there, after
    // the split's own awaits, could come before a native call on one rank and after it on another.
    const p2p = this.get(parent.context).comm;
    // One colour per new group: its lowest world rank (disjoint groups of one split share a context).
    const color = child ? Math.min(...child.group) : -1;
    const key = child ? child.rank : 0;
    const childP2p = mpi.commSplit(p2p, color, key);
    const childColl = mpi.commSplit(p2p, color, key);
    if (!child) return;
    this.add(child.context, childP2p, child.group);
    this.add(child.context + 1, childColl, child.group);
  }
}
