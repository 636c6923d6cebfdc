/**
 * The main side's mirror of one worker's shipment cache (entry/runner.ts keeps the real one):
 * which shipments the worker holds, so a batch carries its code only the first time, and which
 * it may forget because their calls are over. Both sides evict the oldest past the same count.
 */

/** A worker keeps this many shipments (entry/runner.ts uses the same count). */
export const kShipmentsPerWorker = 64;

export class ShipmentMirror {
  /** Shipment keys the worker has, oldest first. */
  readonly #known = new Set<string>();
  /** Keys to tell the worker to forget with its next batch. */
  #releases: string[] = [];
  /** The worker incarnation that the sets above describe. */
  #incarnation: number;

  constructor(incarnation: number) {
    this.#incarnation = incarnation;
  }

  /** A fresh thread or process holds no shipments and has nothing to release. */
  follow(incarnation: number): void {
    if (incarnation === this.#incarnation) return;
    this.#known.clear();
    this.#releases = [];
    this.#incarnation = incarnation;
  }

  /** Whether a batch for `key` must carry the shipment; if so, it is counted as held from now on. */
  needs(key: string): boolean {
    if (this.#known.has(key)) return false;
    this.#known.add(key);
    if (this.#known.size > kShipmentsPerWorker) this.#known.delete(this.#known.values().next().value as string);
    return true;
  }

  /** The keys to release with the next batch (taken: sent once). */
  takeReleases(): string[] | undefined {
    return this.#releases.length > 0 ? this.#releases.splice(0) : undefined;
  }

  /** The worker said it did not have `key` (it evicted it): send it again next time. */
  forget(key: string): void {
    this.#known.delete(key);
  }

  /** The call of `key` is over: the worker may drop it. */
  release(key: string): void {
    if (this.#known.delete(key)) this.#releases.push(key);
  }
}
