/**
 * MPI_Get_processor_name: the machine a rank runs on. Open MPI answers with the host name, so
 * every backend gives os.hostname() and ranks can be grouped by machine the same way.
 */
import { hostname } from 'node:os';

export function processorName(): string {
  return hostname();
}

/** mpi4py's `MPI.Get_processor_name()`. */
export const Get_processor_name = processorName;
