/**
 * The trace clock: milliseconds since the epoch, sub-microsecond resolution, monotonic within a
 * process. Every thread of a process shares performance.timeOrigin, so timestamps from worker
 * threads line up with the main thread's; other processes and hosts are aligned by an offset
 * measured at start (src/comm's tracing).
 */
const origin = performance.timeOrigin;

export function traceNow(): number {
  return origin + performance.now();
}
