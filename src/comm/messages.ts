/**
 * What a rank and its host (the launcher's side) say to each other, over a worker's
 * parentPort or a child's IPC channel. Every message carries kMessageTag, so anything else
 * the rank's own code sends on the channel passes through untouched.
 */
import type { Shipment } from '../ship/index.js';
import type { SerializedError } from '../util/remote-error.js';
import type { SharedWorld } from './processes/shared-layout.js';

export const kMessageTag = '__tslab_parallel_comm__';

/** What a rank runs. */
export type RankProgram =
  /** JavaScript source of `async function (comm, rank, size, data) {...}`. */
  | { readonly kind: 'function'; readonly code: string; readonly data?: unknown; readonly cwd: string }
  /** A script file (.ts compiled on load, .js, .mjs) with its argv. */
  | { readonly kind: 'script'; readonly file: string; readonly args: readonly string[]; readonly cwd: string }
  /** Notebook code made self-contained by src/ship; `entry` names the rank function in it. */
  | { readonly kind: 'shipment'; readonly shipment: Shipment; readonly entry: string; readonly data?: unknown }
  /** An %mpirun session: the rank stays up and runs the cells it is sent (src/comm/session/). */
  | { readonly kind: 'session'; readonly cwd: string };

export type ToHost =
  | { readonly [kMessageTag]: true; readonly type: 'ready' }
  | { readonly [kMessageTag]: true; readonly type: 'result'; readonly value: unknown }
  | { readonly [kMessageTag]: true; readonly type: 'failure'; readonly error: SerializedError }
  | { readonly [kMessageTag]: true; readonly type: 'abort'; readonly code: number }
  /** Processes only: the rank has been blocked a while in `waitingIn`, or runs again (''). */
  | { readonly [kMessageTag]: true; readonly type: 'state'; readonly blocked: boolean; readonly waitingIn: string };

/** Processes: every rank listens; connect to the others and run `program`. */
export type ToRank = { readonly [kMessageTag]: true; readonly type: 'start'; readonly program: RankProgram };

/** Where a rank process finds its place in the world (set by the host, removed by the rank). */
export const kEnvName = 'TSLAB_PARALLEL_COMM_RANK';
export interface ProcessRankEnv {
  readonly rank: number;
  readonly size: number;
  /** The private directory of the world's sockets. */
  readonly dir: string;
  /** The world's shared memory (processes/shared-layout.ts), on file descriptor kSharedFd; absent: sockets only. */
  readonly shared?: SharedWorld;
}

export function isHostMessage(m: unknown): m is ToHost {
  return typeof m === 'object' && m !== null && (m as Record<string, unknown>)[kMessageTag] === true;
}

export function toHost<T extends ToHost['type']>(type: T, body: Omit<Extract<ToHost, { type: T }>, typeof kMessageTag | 'type'>): ToHost {
  return { [kMessageTag]: true, type, ...body } as unknown as ToHost;
}
