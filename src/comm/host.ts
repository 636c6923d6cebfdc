/**
 * The launcher's view of a running world, whatever the backend: a RankHost starts the ranks,
 * reports what they say through RankEvents, tells what each rank is doing (for the deadlock
 * watchdog) and stops them all. One implementation per transport: threads/host.ts,
 * processes/host.ts.
 */
import type { SerializedError } from '../util/remote-error.js';

export type OutputStream = 'stdout' | 'stderr';

export interface RankEvents {
  /** Complete lines (each ending in a newline) that `rank` printed. */
  output(rank: number, stream: OutputStream, text: string): void;
  result(rank: number, value: unknown): void;
  failure(rank: number, error: SerializedError): void;
  aborted(rank: number, code: number): void;
  /** The rank is gone and all its output has been delivered. */
  exited(rank: number, how: string, clean: boolean): void;
  /** Any other tagged message of the rank (a session's cell results, src/comm/session/). */
  message?(rank: number, message: { readonly type: string }): void;
}

export interface RankState {
  /** Blocked: asleep in a communication call that only another rank can complete. */
  readonly blocked: boolean;
  /** What it is blocked in, e.g. "recv(source=0, tag=7)". */
  readonly waitingIn: string;
  /** Changes every time the rank wakes up: a watchdog sees progress even between its looks. */
  readonly wakes: number;
}

export interface RankHost {
  /** Starts every rank; rejects when a rank could not be started. */
  start(): Promise<void>;
  states(): RankState[];
  /**
   * Stops every rank still running and frees everything; idempotent. Resolves when all are gone.
   * It may be called while start() is still under way (an interrupt during start-up): start()
   * must then start nothing more, and free what it made after stop() looked.
   */
  stop(): Promise<void>;
  /** Sends a tagged message to a running rank (sessions); false when it cannot be delivered. */
  post?(rank: number, message: object): boolean;
  /** Stops the code the given ranks are running without ending them, where the backend can (threads). */
  interruptBusy?(ranks: readonly number[]): Promise<void>;
  /** Where each rank runs, for a status line: "pid 1234", "thread 7", "node2 pid 99". */
  where?(): string[];
}
