/**
 * How a thread takes its share of a loop's iterations. Static: one contiguous block per thread
 * (or cyclic chunks when a chunk size is given), decided without talking to anyone. Dynamic:
 * threads take the next chunk from a shared counter until none is left.
 */
import type { ChunkFunction, ThreadContext } from '../spec.js';
import { tracedBody } from '../../trace/chunks.js';
import { I, staticBlock } from './control.js';

export interface Share {
  readonly thread: number;
  readonly threads: number;
  readonly count: number;
  readonly start: number;
  readonly step: number;
  readonly dynamic: boolean;
  /** Iterations per chunk; 0: the schedule's default. */
  readonly chunk: number;
}

/** Default dynamic chunk: about 16 chunks per thread, so the counter is not a bottleneck. */
export function dynamicChunkSize(count: number, threads: number): number {
  return Math.max(1, Math.ceil(count / (threads * 16)));
}

/**
 * Integral bounds as small integers: V8 then keeps the body's loop counter and `i` in int32
 * registers (about 20% faster for an exp-bound body than with float64 bounds).
 */
export function int(x: number): number {
  return (x | 0) === x ? x | 0 : x;
}

export function runShare(
  body: ChunkFunction,
  share: Share,
  env: unknown[],
  red: unknown[],
  sharedSlots: Float64Array,
  ctx: ThreadContext,
  ctl: Int32Array | undefined,
  /** Set while %%timeline records: the loop's chunk-time area. */
  trace?: Float64Array,
): void {
  const { thread, threads } = share;
  if (trace) body = tracedBody(body, trace, thread);
  const count = int(share.count);
  const start = int(share.start);
  const step = int(share.step);
  if (share.dynamic && ctl) {
    const size = share.chunk || dynamicChunkSize(count, threads);
    for (;;) {
      if (Atomics.load(ctl, I.FAILED) !== 0) return;
      const lo = int(Atomics.add(ctl, I.NEXT, 1) * size);
      if (lo >= count) return;
      body(lo, int(Math.min(count, lo + size)), start, step, env, red, sharedSlots, ctx);
    }
  }
  if (share.chunk > 0 && !share.dynamic) {
    for (let lo = thread * share.chunk; lo < count; lo += threads * share.chunk) {
      body(int(lo), int(Math.min(count, lo + share.chunk)), start, step, env, red, sharedSlots, ctx);
    }
    return;
  }
  const [lo, hi] = staticBlock(thread, threads, count);
  if (lo < hi) body(int(lo), int(hi), start, step, env, red, sharedSlots, ctx);
}
