/**
 * What travels between the pool and its workers (both backends). Shared by both sides, so it
 * holds types and constants only.
 */
import type { Shipment } from '../ship/shipment.js';
import type { SerializedError } from '../util/remote-error.js';

/** Tag on messages of ours that share a channel with others (tinypool's trick). */
export const kPoolTag = '__tslab_pool__';

/** Main → worker: run `items` through entry `entry` of shipment `key`. */
export interface BatchRequest {
  readonly kind: 'batch';
  /** Pool-wide batch number. */
  readonly seq: number;
  readonly call: number;
  /** Shipment key (one per call: code id plus the call's data). */
  readonly key: string;
  /** Sent the first time a worker needs `key`. */
  readonly shipment?: Shipment;
  /** Shipment keys the worker may forget (their calls are over). */
  readonly release?: readonly string[];
  readonly entry: string;
  /** Items are argument lists (starmap, apply). */
  readonly star: boolean;
  /** The items (a Float64Array when they are all numbers: cloned as one block). */
  readonly items: ArrayLike<unknown>;
  /** Transfer ArrayBuffers found in the results back instead of copying them. */
  readonly transferResults: boolean;
  /** Slot of the call's cancel flag in the shared control block (threads); -1 for none. */
  readonly cancelSlot: number;
  /** %%timeline is recording: reply with when each item ran (trace clock). */
  readonly trace?: true;
}

/** Main → worker: start-up check; answers with the worker's identity. */
export interface PingRequest {
  readonly kind: 'ping';
  readonly seq: number;
}

/** Main → worker: run the pool's initializer (once per thread or process, before its first batch). */
export interface InitRequest {
  readonly kind: 'init';
  readonly seq: number;
  /** Ships the entry `initializer`. */
  readonly shipment: Shipment;
  readonly args: readonly unknown[];
}

export type WorkerRequest = BatchRequest | PingRequest | InitRequest;

/** BatchReply.error.index values that are not items. */
export const kFailedLoading = -1;
export const kResultNotSendable = -2;
/** The worker's initializer had failed: the worker runs no batch. */
export const kInitializerFailed = -3;

export interface BatchReply {
  readonly kind: 'batch';
  readonly seq: number;
  /** Results of items 0 … results.length - 1 (a Float64Array when they are all numbers: cloned as one block). */
  readonly results: ArrayLike<unknown>;
  /** The item that threw (or kFailedLoading …), with the error (stack mapped to the cells). */
  readonly error?: { readonly index: number; readonly error: SerializedError };
  /** Stopped early because the call was cancelled. */
  readonly cancelled?: boolean;
  /** The worker did not have the shipment (it had forgotten it): send again with it. */
  readonly missingShipment?: boolean;
  /** Time spent running items, for batch sizing and utilisation. */
  readonly elapsedMs: number;
  /** Output messages the worker had sent when it replied (threads deliver them on another port). */
  readonly outputSeq: number;
  /** Traced batches: when the first item started and when each item ended (trace clock, worker side). */
  readonly trace?: { readonly startedAt: number; readonly itemEnds: Float64Array };
}

export interface PingReply {
  readonly kind: 'ping';
  readonly seq: number;
  readonly workerId: number;
  readonly pid: number;
  readonly outputSeq: number;
}

export interface InitReply {
  readonly kind: 'init';
  readonly seq: number;
  /** The initializer threw (stack mapped to the cells). */
  readonly error?: SerializedError;
  readonly outputSeq: number;
}

export type WorkerReply = BatchReply | PingReply | InitReply;

/** Worker → main, live: a piece of the task's stdout/stderr. */
export interface OutputMessage {
  readonly [kPoolTag]: 'output';
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** 1, 2, 3, … per worker. */
  readonly seq: number;
}

/** Main → child process (control messages between batches). */
export interface CancelMessage {
  readonly kind: 'cancel';
  readonly call: number;
}

/** What thread workers get in workerData. */
export interface ThreadWorkerData {
  readonly workerId: number;
  /** The pool's control block (cancel flags, progress), shared by all its threads. */
  readonly control: SharedArrayBuffer;
}

/** Environment variable carrying a child process's worker id. */
export const kWorkerIdEnv = 'TSLAB_POOL_WORKER_ID';
