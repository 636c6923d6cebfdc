/**
 * Allreduce of small typed arrays over shared memory, for the world communicator of a threads
 * world (COMM_WORLD, context 0; others use point-to-point, so the rounds here follow MPI's one
 * order of collectives per communicator, whatever order ranks start them on other ones): each rank writes its contribution into its own slot (layout.ts, `reduce`),
 * publishes the round number, wakes the others, and once every rank has published the round
 * combines all contributions itself, in rank order. No messages, no matching: one hand-over
 * instead of log2(size) exchanges, and every rank gets bit-identical results (the same
 * operands in the same order), as with the point-to-point algorithm.
 *
 * Rounds alternate between two data areas per slot, so a rank that is done may write round
 * k+1 while a slower one still reads round k; it cannot get to k+2 before that reader has
 * written k+1. A rank runs its rounds one after another (a second Allreduce started before the
 * first finished waits for it), so it never writes k+1 before it has read k. Rounds start in
 * call order on every rank, blocking Allreduce and Iallreduce alike: this path is taken at the
 * call, never from the communicator's turn queue (CommCore.inTurn), so Allreduces started
 * together (Promise.all) each combine their own round.
 */
import { dtypeOf, typedViews, type TypedArray } from '../buffers.js';
import { Errors } from '../errors.js';
import type { Op } from '../ops.js';
import { copyElements } from '../ring.js';
import type { CommHandle } from '../transport.js';
import { kReduceBytes, kReduceStride, reduceDataOffset, reduceHeader, ROUND, type ThreadsWorld } from './layout.js';

/** What the reducer needs from its transport: waiting as the transport waits, and waking a rank. */
export interface ReduceWaiting {
  spin(ready: () => boolean): boolean;
  wait(ready: () => boolean, waitingIn: () => string): Promise<void>;
  ring(rank: number): void;
}

const kDone: Promise<void> = Promise.resolve();
/** The point-to-point context of COMM_WORLD (core.ts). */
const kWorldContext = 0;

export class SlotAllreduce {
  readonly #rank: number;
  readonly #size: number;
  readonly #i32: Int32Array;
  readonly #views: readonly TypedArray[];
  readonly #waiting: ReduceWaiting;
  /** Views of each rank's data area, by length, element type and parity: none made per call. */
  readonly #slotViews = new Map<number, TypedArray[]>();
  #round = 0;
  /** The last round that had to wait, while it waits: later calls queue behind it. */
  #pending: Promise<void> | null = null;

  constructor(world: ThreadsWorld, rank: number, waiting: ReduceWaiting) {
    this.#rank = rank;
    this.#size = world.size;
    this.#i32 = new Int32Array(world.reduce);
    this.#views = typedViews(world.reduce);
    this.#waiting = waiting;
  }

  /** Undefined when the arguments are not for this path (another communicator, a large array). */
  allreduce(comm: CommHandle, sendbuf: TypedArray, recvbuf: TypedArray, op: Op): Promise<void> | undefined {
    if (comm.context !== kWorldContext || sendbuf.byteLength > kReduceBytes) return undefined;
    if (this.#pending) {
      const run = () => this.#run(comm, sendbuf, recvbuf, op);
      return this.#queue(this.#pending.then(run, run)); // one that failed does not fail those after it
    }
    const result = this.#run(comm, sendbuf, recvbuf, op);
    return result === kDone ? result : this.#queue(result);
  }

  #queue(p: Promise<void>): Promise<void> {
    this.#pending = p;
    const clear = () => {
      if (this.#pending === p) this.#pending = null;
    };
    p.then(clear, clear);
    return p;
  }

  #run(comm: CommHandle, sendbuf: TypedArray, recvbuf: TypedArray, op: Op): Promise<void> {
    try {
      const round = (this.#round = (this.#round + 1) | 0);
      const parity = round & 1;
      this.#publish(round, parity, sendbuf);
      const ready = () => this.#allAt(round);
      if (ready() || this.#waiting.spin(ready)) {
        this.#combine(parity, comm, recvbuf, sendbuf.byteLength, op);
        return kDone;
      }
      return this.#waiting
        .wait(ready, () => `Allreduce(op=${op.name})`)
        .then(() => this.#combine(parity, comm, recvbuf, sendbuf.byteLength, op));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #publish(round: number, parity: number, sendbuf: TypedArray): void {
    const base = (this.#rank * kReduceStride) >> 2;
    const view = this.#views[dtypeOf(sendbuf)]!;
    const at = (this.#rank * kReduceStride + reduceDataOffset(parity)) / view.BYTES_PER_ELEMENT;
    copyElements(view, at, sendbuf);
    this.#i32[base + reduceHeader(parity)] = sendbuf.byteLength;
    Atomics.store(this.#i32, base + ROUND, round);
    for (let r = 0; r < this.#size; r++) if (r !== this.#rank) this.#waiting.ring(r);
  }

  /** Whether every rank has published `round` (or, having read it, the next one). */
  #allAt(round: number): boolean {
    const i32 = this.#i32;
    for (let r = 0; r < this.#size; r++) {
      if (((Atomics.load(i32, (r * kReduceStride) >> 2) - round) | 0) < 0) return false;
    }
    return true;
  }

  /** recvbuf = contribution of comm rank 0 op that of rank 1 op ... (left to right). */
  #combine(parity: number, comm: CommHandle, recvbuf: TypedArray, bytes: number, op: Op): void {
    const slots = this.#slotsFor(recvbuf, bytes / recvbuf.BYTES_PER_ELEMENT, parity);
    const i32 = this.#i32;
    for (const world of comm.group) {
      const header = ((world * kReduceStride) >> 2) + reduceHeader(parity);
      if (i32[header] !== bytes) {
        throw Errors.BadArgument('Allreduce', `buffers of ${bytes} bytes here and ${i32[header]} on world rank ${world}`, 'give every rank buffers of the same type and length');
      }
    }
    copyElements(recvbuf, 0, slots[comm.group[0]!]!);
    for (let i = 1; i < comm.group.length; i++) op.combineInto(recvbuf, slots[comm.group[i]!]!, false);
  }

  /** Each world rank's data area of `parity` as `length` elements of recvbuf's type. */
  #slotsFor(like: TypedArray, length: number, parity: number): TypedArray[] {
    const index = dtypeOf(like);
    const key = (length * 32 + index) * 2 + parity;
    let slots = this.#slotViews.get(key);
    if (!slots) {
      if (this.#slotViews.size >= 64) this.#slotViews.clear(); // a program cycling through many lengths
      const view = this.#views[index]!;
      slots = Array.from({ length: this.#size }, (_, r) => {
        const at = (r * kReduceStride + reduceDataOffset(parity)) / view.BYTES_PER_ELEMENT;
        return view.subarray(at, at + length);
      });
      this.#slotViews.set(key, slots);
    }
    return slots;
  }
}
