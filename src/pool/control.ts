/**
 * The control block that a threads pool shares with its workers (one SharedArrayBuffer), so
 * that two things need no messages at all:
 * - cancel flags: a worker checks its call's flag before each item, so a failed or cancelled
 *   call stops at the next item boundary without a round trip;
 * - progress: each worker stores which batch and item it is running, so that when a thread
 *   dies we can say which input it was running.
 */

const kCancelSlots = 1024;
const kProgressSlots = 256;

export class ControlBlock {
  readonly buffer: SharedArrayBuffer;
  readonly #cells: Int32Array;
  readonly #free: number[] = [];

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer((kCancelSlots + 2 * kProgressSlots) * Int32Array.BYTES_PER_ELEMENT);
    this.#cells = new Int32Array(this.buffer);
    if (!buffer) for (let i = kCancelSlots - 1; i >= 0; i--) this.#free.push(i);
  }

  // ── main side ────────────────────────────────────────────────────────────
  /** A cancel slot for a new call (-1 when all are taken: the call is then only cancellable by termination). */
  openCall(callId: number): number {
    const slot = this.#free.pop();
    if (slot === undefined) return -1;
    Atomics.store(this.#cells, slot, callId | 0 || 1);
    return slot;
  }

  cancelCall(slot: number): void {
    if (slot >= 0) Atomics.store(this.#cells, slot, 0);
  }

  /** Frees the slot; late batches of the call then read it as cancelled. */
  closeCall(slot: number): void {
    if (slot < 0) return;
    Atomics.store(this.#cells, slot, 0);
    this.#free.push(slot);
  }

  /** What worker `workerId` is running: [batch seq, item index], or undefined when unknown. */
  progressOf(workerId: number): { seq: number; index: number } {
    const at = kCancelSlots + 2 * (workerId % kProgressSlots);
    return { seq: Atomics.load(this.#cells, at), index: Atomics.load(this.#cells, at + 1) };
  }

  // ── worker side ──────────────────────────────────────────────────────────
  isOpen(slot: number, callId: number): boolean {
    return slot < 0 || Atomics.load(this.#cells, slot) === (callId | 0 || 1);
  }

  setProgress(workerId: number, seq: number, index: number): void {
    const at = kCancelSlots + 2 * (workerId % kProgressSlots);
    this.#cells[at] = seq;
    this.#cells[at + 1] = index;
  }
}
