/**
 * An %mpirun session, launcher side: N ranks that stay up between cells, each with its world
 * communicator and its scope (rank-loop.ts), on any backend's RankHost. run() sends a cell to
 * every rank and resolves with what each sent back, or rejects with one report, as runRanks
 * does — but the ranks that are still alive keep their state:
 * - an error on a rank fails the cell with its rank; the others' failures are collected for a
 *   moment, then the ranks still running the cell are told to drop it;
 * - a deadlock (every rank asleep in communication for `timeout` s), an aborted signal or a
 *   kernel interrupt drop the cell on every rank; a rank that cannot drop it (a busy loop) is
 *   started again with all the others (the error says `restarted`);
 * - a rank that dies closes the session: its world cannot go on without it.
 * Every thread, process, socket and temp file is gone after close().
 */
import type { Shipment } from '../../ship/index.js';
import { onKernelInterrupt } from '../../util/interrupt.js';
import type { SerializedError } from '../../util/remote-error.js';
import { Errors } from '../errors.js';
import { awaitOtherFailures, kFailurePollMs } from '../failure-grace.js';
import type { OutputStream, RankEvents, RankHost } from '../host.js';
import { startWatchdog, type LaunchBackend } from '../launcher.js';
import { MpiRanks } from '../mpi/host.js';
import type { MpiLaunchOptions } from '../mpi/launcher-command.js';
import type { RankProgram } from '../messages.js';
import type { OutputCallback } from '../output.js';
import { ProcessRanks } from '../processes/host.js';
import { failureReport, type RankFailure } from '../report.js';
import { ThreadRanks } from '../threads/host.js';
import { SessionError, SessionErrors } from './errors.js';
import { isSessionMessage, sessionMessage, type FromSessionRank } from './protocol.js';

export interface SessionOptions {
  readonly np: number;
  readonly backend: LaunchBackend;
  readonly mpi?: MpiLaunchOptions;
  /** Directory the ranks run in. */
  readonly cwd: string;
}

export interface SessionCell {
  readonly shipment: Shipment;
  /** Names to bind on each rank before the cell runs (index: rank). */
  readonly inputs: readonly Record<string, unknown>[];
  /** Names whose values each rank sends back. */
  readonly outs: readonly string[];
  /** Trace the cell's communication (--timeline): each rank's RankTrace comes back under this name. */
  readonly traceAs?: string;
  /** Seconds of deadlock before the cell is stopped (0: never). */
  readonly timeout: number;
  readonly signal?: AbortSignal;
  readonly onOutput: OutputCallback;
}

export interface SessionStatus {
  readonly np: number;
  readonly backend: LaunchBackend;
  readonly where: readonly string[];
  readonly cells: number;
  readonly busy: boolean;
  /** Why the session is closed, if it is ('' while open). */
  readonly closed: string;
}

/** How long ranks have to drop a cancelled cell before they are started again. */
const kCancelMs = 1000;
/** Output between cells kept for the next cell (the newest pieces). */
const kIdleOutputLines = 1000;
const kMarker = /^\u0000tslab-session-cell-end (\d+)\u0000$/;

interface Running {
  readonly id: number;
  readonly onOutput: OutputCallback;
  /** Each rank's answer: its values, or that it failed or dropped the cell. */
  readonly answered: boolean[];
  /** End-of-cell lines seen per rank (one per stream). */
  readonly marks: number[];
  readonly values: Record<string, unknown>[];
  readonly missing: string[][];
  readonly failures: RankFailure[];
  cancelled: boolean;
  /** Settles the cell: null once every rank answered and its output is in, else the error. */
  complete: () => void;
  /** Resolves once complete() was called. */
  readonly over: Promise<void>;
  error: Error | null;
}

export class RankSession {
  readonly options: SessionOptions;
  #host: RankHost;
  #ready: Promise<void>;
  #readyCount = 0;
  #readyWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #cell: Running | undefined;
  #cells = 0;
  #ids = 0;
  #closed = '';
  #stopping: Promise<void> | undefined;
  /** Output between cells (a timer a cell left behind): shown with the next cell. */
  #idleOutput: [number, OutputStream, string][] = [];
  #restartNotice: SessionError | undefined;

  private constructor(options: SessionOptions) {
    this.options = options;
    [this.#host, this.#ready] = this.#launch();
  }

  /** Starts the ranks; rejects (leaving nothing behind) when they cannot start. */
  static async start(options: SessionOptions): Promise<RankSession> {
    const session = new RankSession(options);
    try {
      await session.#ready;
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  }

  get np(): number {
    return this.options.np;
  }

  get open(): boolean {
    return !this.#closed;
  }

  status(): SessionStatus {
    return {
      np: this.options.np,
      backend: this.options.backend,
      where: this.#host.where?.() ?? [],
      cells: this.#cells,
      busy: this.#cell !== undefined,
      closed: this.#closed,
    };
  }

  /** Resolves when no cell is running (one the kernel gave up on may still be stopping). */
  async idle(): Promise<void> {
    while (this.#cell) await this.#cell.over;
  }

  /** The restart that an abandoned cell caused, once: the notebook is told on its next cell. */
  takeRestart(): SessionError | undefined {
    const r = this.#restartNotice;
    this.#restartNotice = undefined;
    return r;
  }

  /** Runs one cell on every rank; resolves with each rank's `outs` values (index: rank). */
  async run(cell: SessionCell): Promise<Record<string, unknown>[]> {
    const { np } = this.options;
    if (this.#closed) throw this.#closedError();
    // A cell the kernel already gave up on (an interrupt) may still be stopping its ranks.
    while (this.#cell) await this.#cell.over;
    if (this.#closed) throw this.#closedError();
    if (cell.signal?.aborted) throw Errors.Stopped('the signal was already aborted');
    const running = this.#begin(cell);
    const done = running.over;
    for (const line of this.#idleOutput.splice(0)) cell.onOutput(...line);
    for (let rank = 0; rank < np; rank++) {
      this.#host.post!(rank, sessionMessage('session-cell', { id: running.id, shipment: cell.shipment, inputs: cell.inputs[rank] ?? {}, outs: cell.outs, traceAs: cell.traceAs }));
    }
    const stop = (error: Error) => void this.#cancel(running, error);
    const onAbort = () => stop(Errors.Stopped('the signal was aborted'));
    cell.signal?.addEventListener('abort', onAbort, { once: true });
    const stopListening = onKernelInterrupt(() => stop(Errors.Stopped('the kernel was interrupted')));
    const watchdog = cell.timeout > 0 ? startWatchdog(this.#host, cell.timeout, () => running.answered, stop) : undefined;
    try {
      await done;
    } finally {
      if (watchdog) clearInterval(watchdog);
      cell.signal?.removeEventListener('abort', onAbort);
      stopListening();
      this.#cell = undefined;
    }
    if (running.error) throw running.error;
    const missing = [...new Set(running.missing.flat())];
    if (missing.length > 0) throw SessionErrors.Missing(missing);
    return running.values;
  }

  /** Stops every rank and frees everything; idempotent. */
  close(reason = 'closed with %mpirun --close'): Promise<void> {
    this.#closed ||= reason;
    if (this.#cell) this.#finish(this.#cell, Errors.Stopped('the session was closed'));
    return (this.#stopping ??= this.#host.stop());
  }

  #launch(): [RankHost, Promise<void>] {
    const { np, backend, mpi, cwd } = this.options;
    const program: RankProgram = { kind: 'session', cwd };
    // Ranks of a host that was replaced (a restart) may still report their end: not this session's news.
    const mine = () => this.#host === host;
    const events: RankEvents = {
      output: (rank, stream, text) => mine() && this.#output(rank, stream, text),
      result: () => {},
      failure: (rank, error) => mine() && this.#died(rank, error.message.replace(/^the rank stopped unexpectedly \((.*)\);.*$/s, '$1')),
      aborted: (rank, code) => mine() && this.#died(rank, `comm.abort(${code})`),
      exited: (rank, how) => mine() && this.#died(rank, how),
      message: (rank, m) => mine() && this.#message(rank, m),
    };
    const host: RankHost = backend === 'threads' ? new ThreadRanks(np, program, events) : backend === 'processes' ? new ProcessRanks(np, program, events) : new MpiRanks(np, program, events, mpi);
    this.#readyCount = 0;
    const ready = new Promise<void>((resolve, reject) => (this.#readyWaiter = { resolve, reject }));
    host.start().catch((err: unknown) => this.#readyWaiter?.reject(Errors.StartFailed(backend, err instanceof Error ? err.message : String(err))));
    return [host, ready];
  }

  #begin(cell: SessionCell): Running {
    const np = this.options.np;
    this.#cells++;
    let complete!: () => void;
    const over = new Promise<void>((resolve) => (complete = resolve));
    const running: Running = {
      over,
      id: ++this.#ids,
      onOutput: cell.onOutput,
      answered: new Array<boolean>(np).fill(false),
      marks: new Array<number>(np).fill(0),
      values: new Array<Record<string, unknown>>(np),
      missing: [],
      failures: [],
      cancelled: false,
      complete,
      error: null,
    };
    this.#cell = running;
    return running;
  }

  #message(rank: number, m: { readonly type: string }): void {
    if (!isSessionMessage(m)) return;
    const message = m as FromSessionRank;
    if (message.type === 'session-ready') {
      if (++this.#readyCount === this.options.np) this.#readyWaiter?.resolve();
      return;
    }
    const running = this.#cell;
    if (!running || message.id !== running.id || running.answered[rank]) return;
    running.answered[rank] = true;
    if (message.type === 'session-done') {
      running.values[rank] = message.values;
      if (message.missing.length) running.missing.push([...message.missing]);
    } else if (message.type === 'session-failed') {
      this.#cellFailed(running, rank, message.error);
    }
    this.#check(running);
  }

  #output(rank: number, stream: OutputStream, text: string): void {
    const running = this.#cell;
    let kept = '';
    for (const line of text.slice(0, -1).split('\n')) {
      const mark = kMarker.exec(line);
      if (!mark) kept += line + '\n';
      else if (running && Number(mark[1]) === running.id) running.marks[rank]!++;
    }
    if (kept) {
      if (running) running.onOutput(rank, stream, kept);
      else if (this.#idleOutput.push([rank, stream, kept]) > kIdleOutputLines) this.#idleOutput.shift();
    }
    if (running) this.#check(running);
  }

  /** The cell is over when every rank has answered and its output has arrived. */
  #check(running: Running): void {
    if (running.answered.every(Boolean) && running.marks.every((n) => n >= 2)) {
      this.#finish(running, running.error ?? (running.failures.length ? failureReport(running.failures) : null));
    }
  }

  #finish(running: Running, error: Error | null): void {
    running.error ??= error;
    running.complete();
  }

  /** A rank's cell failed: the others get a moment to fail too, then the rest drop the cell. */
  #cellFailed(running: Running, rank: number, error: SerializedError): void {
    running.failures.push({ rank, error });
    if (running.failures.length > 1) return;
    awaitOtherFailures(
      () => this.#host.states(),
      (r) => running.answered[r]!,
      () => void this.#cancel(running, failureReport(running.failures)),
      () => this.#cell !== running || running.cancelled,
    );
  }

  /**
   * Every rank still in the cell drops it. Ranks that do not answer in time (a loop that never
   * yields) cannot be reached: the session starts new ranks and the error says so.
   */
  async #cancel(running: Running, error: Error): Promise<void> {
    if (running.cancelled || this.#cell !== running) return;
    running.cancelled = true;
    running.error ??= error;
    for (let rank = 0; rank < this.options.np; rank++) {
      if (!running.answered[rank]) this.#host.post!(rank, sessionMessage('session-cancel', { id: running.id }));
    }
    await this.#answers(running);
    let stuck = running.answered.flatMap((a, rank) => (a ? [] : [rank]));
    if (stuck.length > 0 && this.#host.interruptBusy && this.#cell === running) {
      // Busy in a loop: cut the loop off where the backend can, and the rank drops the cell.
      await this.#host.interruptBusy(stuck).catch(() => undefined);
      await this.#answers(running);
      stuck = running.answered.flatMap((a, rank) => (a ? [] : [rank]));
    }
    if (this.#cell !== running) return;
    if (stuck.length === 0) return this.#finish(running, running.error); // answered; output still on its way
    await this.#restart();
    const err: SessionError = SessionErrors.Restarted(stuck, this.options.np);
    err.cause = running.error;
    running.error = err;
    this.#restartNotice = err;
    running.complete();
  }

  /** Waits (at most kCancelMs) until every rank has answered the cell. */
  async #answers(running: Running): Promise<void> {
    const deadline = Date.now() + kCancelMs;
    while (this.#cell === running && !running.answered.every(Boolean) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, kFailurePollMs));
    }
  }

  /** New ranks in place of the old ones (same np and backend); the old state is gone. */
  async #restart(): Promise<void> {
    const old = this.#host;
    const closing = this.#closed;
    this.#closed = 'restarting';
    await old.stop();
    this.#closed = closing;
    [this.#host, this.#ready] = this.#launch();
    try {
      await this.#ready;
    } catch (err) {
      void this.close(`could not restart: ${(err as Error).message}`);
    }
  }

  #died(rank: number, how: string): void {
    if (this.#closed) return;
    const { np, backend } = this.options;
    if (this.#readyCount < np) this.#readyWaiter?.reject(Errors.StartFailed(backend, `rank ${rank} ended while starting (${how})`));
    const error = SessionErrors.Dead(rank, how, np, backend);
    this.#closed = error.message;
    if (this.#cell) this.#finish(this.#cell, error);
    this.#stopping ??= this.#host.stop();
  }

  #closedError(): Error {
    const { np, backend } = this.options;
    return this.#closed.startsWith('rank ') ? new SessionError(this.#closed) : SessionErrors.Closed(np, backend);
  }
}
