/**
 * One worker of a pool, whatever runs it: a thread (piscina) or a child process. The pool's
 * scheduler talks to both through this interface and never touches threads or processes.
 */
import type { WorkerLoss } from '../errors.js';
import type { WorkerReply, WorkerRequest } from '../protocol.js';

export type SendOutcome =
  | { readonly ok: true; readonly reply: WorkerReply }
  /** The worker stopped (died, or terminate() was called) with this request in flight. */
  | { readonly ok: false; readonly lost: WorkerLoss }
  /** The request could not be sent (e.g. an input that structured clone rejects). */
  | { readonly ok: false; readonly sendError: Error };

export interface Sent {
  /** The incarnation the request went to. */
  readonly incarnation: number;
  readonly outcome: Promise<SendOutcome>;
}

export interface WorkerEvents {
  /** Output the worker's tasks printed, raw (the pool splits and prefixes lines). */
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
}

export interface PoolWorker {
  readonly id: number;
  /** The process running the worker (the pool's own pid for threads). */
  readonly pid: number | undefined;
  /**
   * Which thread or process (1, 2, … as replacements start) the next send goes to. The
   * shipments a worker holds and the batches lost with it belong to one incarnation.
   */
  readonly incarnation: number;
  /** Sends a request; `outcome` resolves when it is answered or lost, and never rejects. */
  send(request: WorkerRequest, transfer: readonly ArrayBuffer[]): Sent;
  /** Asks the worker to skip the remaining items of a call (processes; threads read the control block). */
  cancel(call: number): void;
  /** Stops whatever it runs now; a fresh thread or process takes its place under the same id. */
  terminate(): void;
  /**
   * Replaces an idle worker by a fresh thread or process (maxTasksPerChild); resolves when the
   * old one has exited. Nothing may be in flight: unlike terminate(), no loss is reported.
   */
  restart(): Promise<void>;
  /** Stops for good; resolves when the thread or process has exited. */
  close(): Promise<void>;
}
