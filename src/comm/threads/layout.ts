/**
 * The shared memory of a threads world, laid out once by the host and mapped by every rank.
 *
 * control (Int32Array on one SharedArrayBuffer):
 *   per rank r, at rankBase(r):  BELL (bumped on every event for r; r sleeps on it),
 *     SLEEPING (r is, or is about to be, asleep: senders notify only then), PHASE (running,
 *     blocked, finished: read by the host's deadlock watchdog), WAKES (times r woke up),
 *     TEXT_LEN (bytes of the "waiting in" text)
 *   per ordered pair (s, d), at ringBase(s, d): HEAD (bytes s wrote), TAIL (bytes d consumed),
 *     SENDER_WAITING (s has sends queued for want of space: d rings s's bell after consuming)
 *   per sender s, at stageBase(s): FILLED, CONSUMED (chunks), ID, DEST of the transfer in progress
 * rings (one SharedArrayBuffer): a single-producer single-consumer byte ring per ordered pair
 * stages (one SharedArrayBuffer): per sender, `slots` chunks that stream large messages
 * text (one SharedArrayBuffer): per rank, what it is waiting in, UTF-8
 * reduce (one SharedArrayBuffer): per rank, the contribution to small Allreduce calls (reduce.ts):
 *   Int32 ROUND (the last round written), then per parity p of the round BYTES at
 *   reduceHeader(p), and the data at reduceDataOffset(p); two parities, so a rank may write the
 *   next round while a slower one still reads this one
 */

export const BELL = 0;
export const SLEEPING = 1;
export const PHASE = 2;
export const WAKES = 3;
export const TEXT_LEN = 4;
const kRankInts = 8;

export const HEAD = 0;
export const TAIL = 1;
export const SENDER_WAITING = 2;
const kRingInts = 4;

export const FILLED = 0;
export const CONSUMED = 1;
export const STAGE_ID = 2;
export const STAGE_DEST = 3;
const kStageInts = 4;

export const PHASE_RUNNING = 0;
export const PHASE_BLOCKED = 1;
export const PHASE_FINISHED = 2;

export const kTextBytes = 512;

export const ROUND = 0;
/** Largest Allreduce (in bytes) that goes through the reduce slots. */
export const kReduceBytes = 1024;
const kReduceHeaderBytes = 32;
export const kReduceStride = kReduceHeaderBytes + 2 * kReduceBytes;
/** Int32 index of the BYTES word of parity p, within a rank's slot. */
export function reduceHeader(parity: number): number {
  return 2 + 2 * parity;
}
/** Byte offset of the data of parity p, within a rank's slot. */
export function reduceDataOffset(parity: number): number {
  return kReduceHeaderBytes + parity * kReduceBytes;
}

/** What the host sends each rank so it can map the same memory. */
export interface ThreadsWorld {
  readonly size: number;
  readonly control: SharedArrayBuffer;
  readonly rings: SharedArrayBuffer;
  readonly stages: SharedArrayBuffer;
  readonly text: SharedArrayBuffer;
  /** Small Allreduce contributions: kReduceStride bytes per rank. */
  readonly reduce: SharedArrayBuffer;
  /** Bytes per ring: a power of two. */
  readonly ringBytes: number;
  /** Typed-array and object messages up to this many bytes go through the ring; larger ones stream. */
  readonly eagerLimit: number;
  readonly chunkBytes: number;
  readonly slots: number;
  /** How long a waiting rank polls before it sleeps, in microseconds. */
  readonly spinMicros: number;
}

export function rankBase(r: number): number {
  return r * kRankInts;
}
export function ringBase(size: number, s: number, d: number): number {
  return size * kRankInts + (s * size + d) * kRingInts;
}
export function stageBase(size: number, s: number): number {
  return size * kRankInts + size * size * kRingInts + s * kStageInts;
}
export function ringOffset(ringBytes: number, size: number, s: number, d: number): number {
  return (s * size + d) * ringBytes;
}

/** Ring size for `np` ranks: 256 KiB for few ranks, smaller for many, never under 16 KiB. */
export function ringBytesFor(np: number): number {
  let bytes = 256 * 1024;
  while (bytes > 16 * 1024 && np * np * bytes > 64 * 1024 * 1024) bytes /= 2;
  return bytes;
}

export function createWorld(size: number, spinMicros: number): ThreadsWorld {
  const ringBytes = ringBytesFor(size);
  const chunkBytes = 256 * 1024;
  const slots = 8;
  const controlInts = size * kRankInts + size * size * kRingInts + size * kStageInts;
  return {
    size,
    control: new SharedArrayBuffer(controlInts * 4),
    rings: new SharedArrayBuffer(size * size * ringBytes),
    stages: new SharedArrayBuffer(size * chunkBytes * slots),
    text: new SharedArrayBuffer(size * kTextBytes),
    reduce: new SharedArrayBuffer(size * kReduceStride),
    ringBytes,
    eagerLimit: Math.min(64 * 1024, ringBytes / 4),
    chunkBytes,
    slots,
    spinMicros,
  };
}
