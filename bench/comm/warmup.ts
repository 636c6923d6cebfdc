/**
 * Untimed round trips (or calls) before the timed ones of a one-machine comm benchmark: at
 * least 20,000 for small messages, whatever --quick does to the timed count. Each sample is a
 * fresh world, whose communicator code V8 compiles on background threads during its first
 * thousands of exchanges; with as many ranks as cores those threads take a core from a rank and
 * its partner waits (after 1,000 trips the processes' 8 B round trip read 22 µs, the threads'
 * 6 µs in --quick). Both ranks get the count in their data: no message decides it.
 */
export function warmupTrips(bytes: number, iters: number): number {
  return Math.max(iters, Math.floor((20_000 * 1024) / Math.max(bytes, 1024)));
}
