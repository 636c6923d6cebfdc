/**
 * Request handles → what to do when they complete. The addon hands out handles in sequence,
 * so a power-of-two table indexed by the handle's low bits finds them without hashing; a
 * handle whose slot is taken by a long-lived request (an Irecv nobody waits for) goes to an
 * overflow Map. A Map alone costs a few hundred nanoseconds per message here, as much as MPI.
 */
const kSlots = 4096;

export class PendingTable<T> {
  readonly #handles = new Int32Array(kSlots);
  readonly #entries: (T | undefined)[] = new Array<T | undefined>(kSlots).fill(undefined);
  readonly #overflow = new Map<number, T>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  set(handle: number, entry: T): void {
    const i = handle & (kSlots - 1);
    if (this.#entries[i] === undefined) {
      this.#handles[i] = handle;
      this.#entries[i] = entry;
    } else this.#overflow.set(handle, entry);
    this.#size++;
  }

  /** The entry of `handle`, removed from the table; undefined if there is none. */
  take(handle: number): T | undefined {
    const i = handle & (kSlots - 1);
    let entry: T | undefined;
    if (this.#handles[i] === handle && this.#entries[i] !== undefined) {
      entry = this.#entries[i];
      this.#entries[i] = undefined;
    } else {
      entry = this.#overflow.get(handle);
      if (entry !== undefined) this.#overflow.delete(handle);
    }
    if (entry !== undefined) this.#size--;
    return entry;
  }
}
