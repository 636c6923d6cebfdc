/**
 * MPI_Wtime: seconds on a monotonic clock. The clock (CLOCK_MONOTONIC) is the same for every
 * thread and process of the machine, so times taken on different ranks can be compared.
 */
export function wtime(): number {
  const [s, ns] = process.hrtime();
  return s + ns * 1e-9;
}

/** Resolution of wtime() in seconds. */
export function wtick(): number {
  return 1e-9;
}
