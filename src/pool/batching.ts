/**
 * How work is cut up. Chunks are Python's: `chunksize` items that one worker takes at a time
 * (map's default is Python's divmod(len, 4 × workers), +1 if there is a remainder). Batches
 * are ours: several consecutive chunks sent in one message when chunks are short, so that
 * per-message costs (clone, wake-up, reply) are paid per batch, not per task. A batch aims at
 * kTargetBatchMs of work and never takes more than its share of what is left (guided
 * self-scheduling), so the tail still spreads over all workers; long chunks go one at a time.
 */

/** Python's Pool.map default: chunksize, extra = divmod(len, len(pool) * 4); if extra: chunksize += 1. */
export function defaultChunksize(length: number, workers: number): number {
  const per = workers * 4;
  const chunksize = Math.floor(length / per);
  return length % per !== 0 ? chunksize + 1 : chunksize;
}

/** Long enough to amortise a round trip (tens of µs), short enough to keep workers balanced. */
export const kTargetBatchMs = 5;
/** Chunks shorter than this keep a second batch queued in each worker, hiding the round trip. */
export const kPipelineBelowMs = 20;

/** Chunks in the next batch of a call. */
export function chunksPerBatch(itemMs: number | undefined, chunksize: number, remainingChunks: number, workers: number): number {
  if (itemMs === undefined || remainingChunks <= 1) return 1; // first batch: measure before batching
  const chunkMs = Math.max(itemMs * chunksize, 1e-6);
  const byTime = Math.floor(kTargetBatchMs / chunkMs);
  const share = Math.ceil(remainingChunks / (2 * Math.max(1, workers)));
  return Math.max(1, Math.min(byTime, share, remainingChunks));
}

/** Whether a call's chunks are short enough to pipeline. */
export function isShortWork(itemMs: number | undefined, chunksize: number): boolean {
  return itemMs !== undefined && itemMs * chunksize < kPipelineBelowMs;
}
