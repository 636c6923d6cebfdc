/**
 * Tracing prange loops: each thread writes when it ran which chunk into a shared Float64Array
 * (no messages, no allocation while the loop runs); after the barrier the main thread turns
 * the area into chunk and idle records. A thread that runs more chunks than it has entries for
 * (a fine dynamic schedule) merges the rest into its last entry, which counts them.
 */
import type { ChunkFunction, ThreadContext } from '../parallel/spec.js';
import { traceNow } from './clock.js';
import type { TraceRecorder } from './recorder.js';

const kEntries = 256;
const kEntry = 5; // lo, hi, start, end, chunks
const kStride = 1 + kEntries * kEntry; // count, entries

export function chunkArea(threads: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(threads * kStride * Float64Array.BYTES_PER_ELEMENT));
}

/** `body`, timing each chunk into thread `thread`'s part of `area`. */
export function tracedBody(body: ChunkFunction, area: Float64Array, thread: number): ChunkFunction {
  const base = thread * kStride;
  return (lo: number, hi: number, start: number, step: number, env: unknown[], red: unknown[], shared: Float64Array, ctx: ThreadContext) => {
    const t0 = traceNow();
    body(lo, hi, start, step, env, red, shared, ctx);
    const t1 = traceNow();
    const n = area[base]!;
    if (n < kEntries) {
      const at = base + 1 + n * kEntry;
      area[at] = lo;
      area[at + 1] = hi;
      area[at + 2] = t0;
      area[at + 3] = t1;
      area[at + 4] = 1;
      area[base] = n + 1;
    } else {
      const at = base + 1 + (kEntries - 1) * kEntry;
      area[at + 1] = Math.max(area[at + 1]!, hi);
      area[at + 3] = t1;
      area[at + 4]! += 1;
    }
  };
}

export interface TracedLoop {
  readonly line: number;
  readonly threads: number;
  readonly iterations: number;
  /** Dispatch and barrier (trace clock, main thread). */
  readonly start: number;
  readonly barrier: number;
}

export function recordLoop(recorder: TraceRecorder, area: Float64Array, loop: TracedLoop): void {
  const id = recorder.nextLoop();
  recorder.add({ kind: 'loop', row: 'loops', loop: id, line: loop.line, threads: loop.threads, iterations: loop.iterations, label: `loop ${id} (line ${loop.line})`, start: loop.start, end: loop.barrier });
  for (let t = 0; t < loop.threads; t++) {
    const base = t * kStride;
    const row = `thread ${t}`;
    let last = loop.start;
    for (let k = 0; k < area[base]!; k++) {
      const at = base + 1 + k * kEntry;
      const [lo, hi, start, end, chunks] = [area[at]!, area[at + 1]!, area[at + 2]!, area[at + 3]!, area[at + 4]!];
      recorder.add({ kind: 'chunk', row, thread: t, loop: id, line: loop.line, lo, hi, chunks, label: `loop ${id}: ${lo}…${hi - 1}`, start, end });
      last = Math.max(last, end);
    }
    if (last < loop.barrier) recorder.add({ kind: 'idle', row, thread: t, loop: id, label: `loop ${id}: waiting at the barrier`, start: last, end: loop.barrier });
  }
}
