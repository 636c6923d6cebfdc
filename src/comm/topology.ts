/**
 * New communicators (dup, split) and Cartesian topologies, built from collectives on the parent.
 *
 * Context ids: every rank counts the contexts it has used; a new communicator takes the
 * maximum over the parent's ranks (an allreduce), so no rank can already be using it, and
 * disjoint groups created by one split may share an id without ever meeting.
 */
import { PROC_NULL, UNDEFINED } from './constants.js';
import { CommCore } from './core.js';
import { Errors } from './errors.js';
import { allgather, allreduce } from './collectives/objects.js';
import { MAX } from './ops.js';

export async function splitCore(parent: CommCore, color: number, key: number): Promise<CommCore | null> {
  // In the parent's turn, as one blocking collective: its allreduce and allgather run inside it.
  if (!parent.ownsTurn) return parent.inTurn((p) => splitCore(p, color, key));
  const context = await allreduce(parent, parent.contexts.next, MAX);
  parent.contexts.next = context + 2;
  const all = await allgather(parent, [color, key] as const);
  let child: CommCore | null = null;
  if (color !== UNDEFINED) {
    const members = all
      .map(([c, k], rank) => ({ c, k, rank }))
      .filter((m) => m.c === color)
      .sort((a, b) => a.k - b.k || a.rank - b.rank);
    child = new CommCore(parent.transport, context, members.map((m) => parent.group[m.rank]!), parent.contexts);
  }
  await parent.transport.commCreated?.(child, parent);
  return child;
}

/** Fills the zeros of `dims` so their product is `nnodes`, as evenly as possible (MPI_Dims_create). */
export function dimsCreate(nnodes: number, dims: readonly number[]): number[] {
  const out = [...dims];
  const fixed = out.filter((d) => d > 0).reduce((a, b) => a * b, 1);
  const free = out.map((d, i) => (d === 0 ? i : -1)).filter((i) => i >= 0);
  if (nnodes % fixed !== 0 || (free.length === 0 && fixed !== nnodes)) {
    throw Errors.BadArgument('createCart', `dims [${dims.join(', ')}] cannot hold ${nnodes} ranks`, 'use dims whose product divides the number of ranks, with 0 for dimensions to fill in');
  }
  let rest = nnodes / fixed;
  const factors: number[] = [];
  for (let p = 2; rest > 1; p++) {
    while (rest % p === 0) {
      factors.push(p);
      rest /= p;
    }
  }
  const sizes = free.map(() => 1);
  // Largest factors first, each onto the currently smallest dimension.
  for (const f of factors.reverse()) {
    const i = sizes.indexOf(Math.min(...sizes));
    sizes[i]! *= f;
  }
  sizes.sort((a, b) => b - a);
  free.forEach((i, j) => (out[i] = sizes[j]!));
  return out;
}

export class CartTopology {
  constructor(
    readonly dims: readonly number[],
    readonly periods: readonly boolean[],
  ) {}

  coordsOf(rank: number): number[] {
    const coords = new Array<number>(this.dims.length);
    for (let d = this.dims.length - 1; d >= 0; d--) {
      coords[d] = rank % this.dims[d]!;
      rank = Math.floor(rank / this.dims[d]!);
    }
    return coords;
  }

  rankAt(coords: readonly number[]): number {
    if (coords.length !== this.dims.length) {
      throw Errors.BadArgument('getCartRank', `${coords.length} coordinates for a ${this.dims.length}-dimensional grid`, `pass ${this.dims.length} coordinates`);
    }
    let rank = 0;
    for (let d = 0; d < this.dims.length; d++) {
      const n = this.dims[d]!;
      let c = coords[d]!;
      if (this.periods[d]) c = ((c % n) + n) % n;
      else if (c < 0 || c >= n) return PROC_NULL;
      rank = rank * n + c;
    }
    return rank;
  }

  shift(rank: number, direction: number, displacement: number): [number, number] {
    if (!Number.isInteger(direction) || direction < 0 || direction >= this.dims.length) {
      throw Errors.BadArgument('shift', `direction=${String(direction)} is not a dimension of the grid`, `pass 0 to ${this.dims.length - 1}`);
    }
    const here = this.coordsOf(rank);
    const at = (delta: number) => {
      const c = [...here];
      c[direction]! += delta;
      return this.rankAt(c);
    };
    return [at(-displacement), at(displacement)];
  }
}

export async function cartCore(
  parent: CommCore,
  dimsIn: readonly number[],
  periodsIn: boolean | readonly (boolean | number)[],
): Promise<{ core: CommCore; topology: CartTopology } | null> {
  if (!Array.isArray(dimsIn) || dimsIn.length === 0 || !dimsIn.every((d) => Number.isInteger(d) && d >= 0)) {
    throw Errors.BadArgument('createCart', 'dims must be a non-empty array of non-negative integers', 'e.g. createCart([size]) or createCart([0, 0])');
  }
  const dims = dimsIn.includes(0) ? dimsCreate(parent.size, dimsIn) : [...dimsIn];
  const cells = dims.reduce((a, b) => a * b, 1);
  if (cells > parent.size) {
    throw Errors.BadArgument('createCart', `a grid of ${dims.join('×')} = ${cells} ranks is larger than the ${parent.size} ranks there are`, `use dims whose product is at most ${parent.size}`);
  }
  const periods = typeof periodsIn === 'boolean' ? dims.map(() => periodsIn) : dims.map((_, i) => Boolean(periodsIn[i]));
  const core = await splitCore(parent, parent.rank < cells ? 0 : UNDEFINED, parent.rank);
  return core && { core, topology: new CartTopology(dims, periods) };
}
