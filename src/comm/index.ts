/**
 * tslab-parallel's message passing: an mpi4py-like Communicator over transports (threads,
 * processes; Open MPI later), and the launcher that runs N ranks of a program.
 *
 * In a rank, `comm` is the rank's world communicator; in any other program it is a one-rank
 * world. See README.md in this directory.
 */
import type { Communicator } from './communicator.js';
import { Request } from './request.js';
import { world } from './world.js';

export { Communicator, CartComm, type VectorSpec } from './communicator.js';
export { Request } from './request.js';
/** Request.waitall / waitany / testall / waitsome / testsome / testany, also as plain functions. */
export const { waitall, waitany, testall, waitsome, testsome, testany } = Request;
export { Status } from './status.js';
export { Op, SUM, PROD, MIN, MAX, LAND, LOR, BAND, BOR, MAXLOC, MINLOC, type OpName, type OpLike } from './ops.js';
export { ANY_SOURCE, ANY_TAG, PROC_NULL, UNDEFINED, TAG_UB, IN_PLACE, type InPlace } from './constants.js';
export { wtime, wtick } from './wtime.js';
export { processorName, Get_processor_name } from './processor-name.js';
export { MPI } from './mpi4py-namespace.js';
export { dimsCreate } from './topology.js';
export { type TypedArray } from './buffers.js';
export { runRanks, kDefaultOptions, type RunRanksOptions, type RankFunction, type LaunchBackend } from './launcher.js';
export { runScript, type ScriptOptions } from './script.js';
export { prefixLines, writePrefixed, type OutputCallback as RankOutputCallback } from './output.js';
export { DeadlockError, RankFailures, type RankActivity } from './report.js';
export type { Transport, TransportOp, ProbeInfo, CommHandle, NativeCollectives, BackendName } from './transport.js';
export { world } from './world.js';

/** This rank's world communicator (MPI.COMM_WORLD), made on first use. */
export declare const comm: Communicator;
Object.defineProperty(exports, 'comm', { enumerable: true, get: world });
