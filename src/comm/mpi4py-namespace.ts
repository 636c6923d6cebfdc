/**
 * `MPI`, shaped like mpi4py's module, so pasted mpi4py code needs only its syntax changed:
 * `const comm = MPI.COMM_WORLD`, `comm.Reduce(sendbuf, recvbuf, MPI.SUM, 0)`, `MPI.Op.Create(f)`,
 * `MPI.Request.Waitall(reqs)`, `MPI.Wtime()`. Every entry is the library's own object.
 */
import type { Communicator } from './communicator.js';
import { ANY_SOURCE, ANY_TAG, IN_PLACE, PROC_NULL, TAG_UB, UNDEFINED } from './constants.js';
import { BAND, BOR, LAND, LOR, MAX, MAXLOC, MIN, MINLOC, Op, PROD, SUM } from './ops.js';
import { Get_processor_name } from './processor-name.js';
import { Request } from './request.js';
import { Status } from './status.js';
import { dimsCreate } from './topology.js';
import { world } from './world.js';
import { wtick, wtime } from './wtime.js';

export const MPI = {
  /** This rank's world communicator (made on first use, like `comm`). */
  get COMM_WORLD(): Communicator {
    return world();
  },
  SUM,
  PROD,
  MIN,
  MAX,
  LAND,
  LOR,
  BAND,
  BOR,
  MAXLOC,
  MINLOC,
  Op,
  Request,
  Status,
  IN_PLACE,
  ANY_SOURCE,
  ANY_TAG,
  PROC_NULL,
  UNDEFINED,
  TAG_UB,
  Get_processor_name,
  Wtime: wtime,
  Wtick: wtick,
  /** MPI_Dims_create: fills the zeros of `dims` for `nnodes` ranks. */
  Compute_dims: (nnodes: number, dims: number | readonly number[]): number[] =>
    dimsCreate(nnodes, typeof dims === 'number' ? Array<number>(dims).fill(0) : dims),
} as const;
