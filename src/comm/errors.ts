/**
 * Every error the comm layer raises comes from a factory here, named for what went wrong; each
 * message says what happened in the user's terms and ends with the fix. Errors carry an MPI-like
 * `code` (e.g. 'MPI_ERR_TRUNCATE') for programs that test for one.
 */
import { RemoteError, type SerializedError } from '../util/remote-error.js';

export type CommErrorCode =
  | 'MPI_ERR_TRUNCATE'
  | 'MPI_ERR_RANK'
  | 'MPI_ERR_TAG'
  | 'MPI_ERR_BUFFER'
  | 'MPI_ERR_COUNT'
  | 'MPI_ERR_ARG'
  | 'MPI_ERR_OP'
  | 'MPI_ERR_TYPE'
  | 'MPI_ERR_OTHER';

function commError(code: CommErrorCode, message: string, Ctor: ErrorConstructor = Error): Error & { code: CommErrorCode } {
  const err = new Ctor(message) as Error & { code: CommErrorCode };
  err.code = code;
  return err;
}

export const Errors = {
  Truncated(what: string, bytes: number, capacity: number) {
    return commError(
      'MPI_ERR_TRUNCATE',
      `message truncated (MPI_ERR_TRUNCATE): ${what} brought ${bytes} bytes but the receive buffer holds ${capacity}; ` +
        `receive into a buffer of at least ${bytes} bytes (use probe() to learn the size first)`,
    );
  },
  InvalidRank(method: string, arg: string, value: unknown, size: number, allowed = '') {
    return commError(
      'MPI_ERR_RANK',
      `${method}: ${arg}=${String(value)} is not a rank of this communicator of size ${size}; ` +
        `pass an integer from 0 to ${size - 1}${allowed}`,
      RangeError,
    );
  },
  InvalidTag(method: string, arg: string, value: unknown, allowAny: boolean) {
    return commError(
      'MPI_ERR_TAG',
      `${method}: ${arg}=${String(value)} is not a valid tag; pass an integer from 0 to 2147483647` +
        (allowAny ? ' (or ANY_TAG)' : ''),
      RangeError,
    );
  },
  NotTypedArray(method: string, arg: string, value: unknown) {
    return commError(
      'MPI_ERR_BUFFER',
      `${method}: ${arg} must be a typed array (e.g. Float64Array), got ${describe(value)}; ` +
        `use the lower-case ${lowerCase(method)}() for other values`,
      TypeError,
    );
  },
  ObjectIntoBuffer(method: string, what: string) {
    return commError(
      'MPI_ERR_TYPE',
      `${method}: ${what} is an object sent with send(), not a typed array; receive it with recv()/irecv(), ` +
        `or send it with Send() as a typed array`,
      TypeError,
    );
  },
  NotMultipleOfElement(method: string, bytes: number, elementBytes: number) {
    return commError(
      'MPI_ERR_TYPE',
      `${method}: received ${bytes} bytes, which is not a whole number of ${elementBytes}-byte elements; ` +
        `receive into a typed array of the element type that was sent`,
      TypeError,
    );
  },
  BufferSize(method: string, arg: string, need: number, have: number) {
    return commError(
      'MPI_ERR_COUNT',
      `${method}: ${arg} has ${have} elements but ${need} are needed; allocate ${arg} with ${need} elements`,
      RangeError,
    );
  },
  CountsLength(method: string, arg: string, length: number, size: number) {
    return commError(
      'MPI_ERR_COUNT',
      `${method}: ${arg} has ${length} entries but the communicator has ${size} ranks; give one entry per rank`,
      RangeError,
    );
  },
  BadArgument(method: string, message: string, fix: string) {
    return commError('MPI_ERR_ARG', `${method}: ${message}; ${fix}`, TypeError);
  },
  UnknownOp(value: unknown) {
    return commError(
      'MPI_ERR_OP',
      `unknown reduction operation ${describe(value)}; pass SUM, PROD, MIN, MAX, LAND, LOR, BAND, BOR, MAXLOC, ` +
        `MINLOC (or its name as a string, e.g. 'MAX'), or an Op made with Op.create(fn)`,
      TypeError,
    );
  },
  OpNotApplicable(op: string, value: unknown, fix: string) {
    return commError('MPI_ERR_OP', `${op} cannot combine ${describe(value)}; ${fix}`, TypeError);
  },
  /** A value structured clone refuses (a function, a class instance with private state...). */
  Unsendable(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const err = commError('MPI_ERR_TYPE', `this value cannot be sent to another rank (${reason}); send plain data: numbers, strings, arrays, objects, typed arrays`);
    err.name = 'DataCloneError';
    return err;
  },
  Unsupported(backend: string, feature: string, instead: string) {
    return commError('MPI_ERR_OTHER', `{ backend: '${backend}' } does not support ${feature}; ${instead}`);
  },
  /** A peer rank went away while this rank was talking to it. */
  PeerLost(rank: number, during: string) {
    return commError(
      'MPI_ERR_OTHER',
      `rank ${rank} went away during ${during}; every rank must stay until its messages are received ` +
        `(await every send and request before returning)`,
    );
  },

  // ---- launcher: options, failures, stops -------------------------------------------------

  Option(field: string, requirement: string) {
    return new TypeError(`options.${field} ${requirement}`);
  },
  OptionConflict(message: string) {
    return new RangeError(message);
  },
  /** One failed rank: its own error, with its rank and remote stack. */
  RankFailed(rank: number, cause: SerializedError): RemoteError {
    return new RemoteError(cause, `rank ${rank}`);
  },
  /** A rank that ended without a result or an error of its own (killed, process.exit). */
  RankExited(how: string): SerializedError {
    return { name: 'Error', message: `the rank stopped unexpectedly (${how}); look at its output above for the reason` };
  },
  RankAborted(rank: number, code: number): RemoteError {
    const err = new RemoteError(
      { name: 'AbortError', message: `comm.abort(${code}) was called, so every rank was stopped` },
      `rank ${rank}`,
    );
    Object.assign(err, { exitCode: code });
    return err;
  },
  /** Raised on the rank whose return value structured clone refuses. */
  NotCloneable(cause: unknown): Error {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const err = new Error(
      `the rank's return value cannot be sent back (${reason}); return plain data: numbers, strings, arrays, objects, typed arrays`,
    );
    err.name = 'DataCloneError';
    return err;
  },
  /** A receive a dropped session cell left posted, taken back so it cannot catch a later cell's message. */
  Withdrawn(): Error {
    return new Error('this receive was withdrawn when the %mpirun session cell that posted it was dropped (it failed or was interrupted); post it again in a new cell');
  },
  Stopped(reason: string): Error {
    const err = new Error(`the ranks were stopped: ${reason}; nothing was returned (run again to retry)`);
    err.name = 'AbortError';
    return err;
  },
  StartFailed(backend: string, reason: string): Error {
    return new Error(`could not start the ranks on { backend: '${backend}' }: ${reason}; check the rank code or try the other backend`);
  },
};

/** The lower-case call for other values: Isend → isend, but Ibcast → bcast and Gatherv → gather (no ibcast, no gatherv). */
function lowerCase(method: string): string {
  return method
    .toLowerCase()
    .replace(/^i(?=(bcast|reduce|allreduce|gather|allgather|alltoall|scatter|scan|exscan)v?$)/, '')
    .replace(/^(gather|allgather|alltoall|scatter)v$/, '$1');
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}
