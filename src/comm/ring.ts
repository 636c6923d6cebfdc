/**
 * The single-producer single-consumer byte rings the threads and processes transports share
 * memory through: records of 8-byte-aligned length whose first int32 is that length and whose
 * second is the type (REC_WRAP fills the end of the ring); HEAD (bytes written) and TAIL (bytes
 * consumed) are int32 counters that wrap.
 */
import type { TypedArray } from './buffers.js';
import type { RecvOp } from './engine.js';

export const REC_WRAP = 0;
/** What reserveRecord returns when the ring lacks room (never an int32 HEAD). */
export const kNoRoom = 2 ** 32;
/** Up to this many elements are copied one by one (no view to create). */
const kElementCopy = 16;

/**
 * Room for a record of `length` bytes in the ring at byte `off` of `ring` (capacity `cap`, a
 * power of two), whose HEAD and TAIL are ctl[headAt] and ctl[tailAt]: the HEAD the record goes
 * at (past a WRAP record written at the end of the ring), or kNoRoom. The receiver's TAIL is
 * read only when tailSeen[slot], the last one seen, leaves too little room: its cache line,
 * just written by the other core, stays off the send's path.
 */
export function reserveRecord(ctl: Int32Array, headAt: number, tailAt: number, ring: Int32Array, off: number, cap: number, length: number, tailSeen: Int32Array, slot: number): number {
  const head = ctl[headAt]!;
  const pos = head & (cap - 1);
  const toEnd = cap - pos;
  const wrap = length > toEnd;
  const need = length + (wrap ? toEnd : 0);
  if (((head - tailSeen[slot]!) | 0) + need > cap) {
    tailSeen[slot] = Atomics.load(ctl, tailAt);
    if (((head - tailSeen[slot]!) | 0) + need > cap) return kNoRoom;
  }
  if (!wrap) return head;
  const w = (off + pos) >> 2;
  ring[w] = toEnd;
  ring[w + 1] = REC_WRAP;
  return (head + toEnd) | 0;
}

/** Copies `src` into `view` (of the same element type) from element `at`. */
export function copyElements(view: TypedArray, at: number, src: TypedArray): void {
  const to = view as Float64Array;
  const from = src as Float64Array;
  if (from.length <= kElementCopy) for (let i = 0; i < from.length; i++) to[at + i] = from[i]!;
  else to.set(from, at);
}

/**
 * The common receive of a small ring message: `bytes` bytes at byte `at` of `view` (the ring
 * seen as the sender's element type) into a receive buffer of that type that is large enough.
 * False when the general path (other type, truncation, no buffer) must handle it.
 */
export function copyOutOfRing(op: RecvOp, source: number, tag: number, dtype: number, view: TypedArray, at: number, bytes: number): boolean {
  const into = op.into as Float64Array | null;
  const from = view as Float64Array;
  if (!into || into.constructor !== from.constructor || bytes > into.byteLength) return false;
  const n = bytes / from.BYTES_PER_ELEMENT;
  const start = at / from.BYTES_PER_ELEMENT;
  if (n <= kElementCopy) for (let i = 0; i < n; i++) into[i] = from[start + i]!;
  else into.set(from.subarray(start, start + n));
  op.source = source;
  op.tag = tag;
  op.bytes = bytes;
  op.isBuffer = true;
  op.dtype = dtype;
  op.done = true;
  return true;
}
