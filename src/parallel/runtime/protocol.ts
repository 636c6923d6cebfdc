/** Messages between the main thread and a team worker, on the worker's private port. */
import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import type { SerializedError } from '../../util/remote-error.js';
import type { Shipment } from '../../ship/shipment.js';
import type { ArrayReduction } from '../spec.js';

export type ToWorker =
  /** A loop body, shipped once per worker; later loops name it by slot. */
  | {
      readonly type: 'loop';
      readonly slot: number;
      readonly id: string;
      readonly shipment: Shipment;
      /** Arrays the loop reduces: the worker swaps each for its own slice of the shared copies. */
      readonly privates: readonly ArrayReduction[];
    }
  /** A value the worker keeps until dropped: a shared array, or a shipped function (entry of its shipment). */
  | {
      readonly type: 'handle';
      readonly id: number;
      readonly value: unknown;
      readonly shipment?: Shipment;
      readonly entry?: string;
      /** The entry is `() => value` (a notebook value shipped by name): call it for the value. */
      readonly call?: boolean;
    }
  | { readonly type: 'drop'; readonly ids: readonly number[] }
  /** Captured values of loop `gen` that travel by structured clone. */
  | { readonly type: 'values'; readonly gen: number; readonly values: readonly (readonly [number, unknown])[] }
  /** %%timeline records loop `gen`: where to write chunk times (src/trace/chunks.ts). */
  | { readonly type: 'trace'; readonly gen: number; readonly area: Float64Array };

export type FromWorker =
  | { readonly type: 'error'; readonly gen: number; readonly thread: number; readonly iteration?: number; readonly error: SerializedError }
  /** Reduction partials that are not plain numbers (bigints, strings). */
  | { readonly type: 'partials'; readonly gen: number; readonly values: readonly unknown[] };

export interface WorkerData {
  readonly ctlBuffer: SharedArrayBuffer;
  readonly dataBuffer: SharedArrayBuffer;
  /** 1-based: the main thread is thread 0. */
  readonly thread: number;
  readonly spinMicros: number;
  /** The worker's end of its private channel; both ends are read with receiveMessageOnPort. */
  readonly port: MessagePort;
}

/** The supervisor thread (entry/supervisor.ts), which starts the workers and reports their deaths. */
export interface SupervisorData {
  readonly ctlBuffer: SharedArrayBuffer;
  /** Where deaths are reported; the main thread reads it with receiveMessageOnPort. */
  readonly status: MessagePort;
  readonly resourceLimits: ResourceLimits;
}

export interface StartMember {
  readonly type: 'start';
  readonly workerData: WorkerData;
}

export interface MemberDied {
  readonly thread: number;
  readonly code: string | undefined;
  readonly message: string;
}

