/**
 * runRanks: runs N ranks of one program and resolves with what each rank returned, or rejects
 * with one report. It never hangs and never leaks:
 * - an uncaught error on any rank stops all ranks (after a short grace period in which the
 *   others' failures are collected) and rejects with the rank, message and stack;
 * - when every unfinished rank has been asleep in a communication call for `timeout` seconds,
 *   all are stopped and the DeadlockError says what each was waiting in;
 * - an aborted `signal` or a kernel interrupt stops all ranks;
 * - whatever happens, every thread, process, socket and temp file is gone when it settles.
 */
import * as path from 'node:path';
import type { Shipment } from '../ship/index.js';
import { onKernelInterrupt } from '../util/interrupt.js';
import type { Communicator } from './communicator.js';
import { Errors } from './errors.js';
import { awaitOtherFailures } from './failure-grace.js';
import type { RankEvents, RankHost } from './host.js';
import type { RankProgram } from './messages.js';
import { writePrefixed, type OutputCallback } from './output.js';
import type { MpiLaunchOptions } from './mpi/launcher-command.js';
import { MpiRanks } from './mpi/host.js';
import { ProcessRanks } from './processes/host.js';
import { DeadlockError, failureReport, type RankFailure } from './report.js';
import { ThreadRanks } from './threads/host.js';

export type LaunchBackend = 'threads' | 'processes' | 'mpi';

/** A rank function: runs on every rank with its world communicator. */
export type RankFunction<D = unknown, R = unknown> = (comm: Communicator, rank: number, size: number, data: D) => R | Promise<R>;

export interface RunRanksOptions<D = unknown> {
  /** Number of ranks. */
  readonly np: number;
  /**
   * 'threads' (default): worker threads sharing memory; 'processes': one child process per rank;
   * 'mpi': real MPI, one process per rank started by `mpirun` (needs `npm run build:mpi`).
   */
  readonly backend?: LaunchBackend;
  /** backend 'mpi' only: a hostfile and more mpirun arguments (see src/comm/mpi/). */
  readonly mpi?: MpiLaunchOptions;
  /** What each rank runs: a function (or its JavaScript source) called as fn(comm, rank, size, data)... */
  readonly code?: RankFunction<D> | string;
  /** ...a script file (.ts, .js, .mjs) with its arguments... */
  readonly script?: string;
  readonly args?: readonly string[];
  /** ...or notebook code shipped by src/ship, whose entry `entry` (default 'rank') is the rank function. */
  readonly shipment?: Shipment;
  readonly entry?: string;
  /** Structured-clone data passed to the rank function as its fourth argument. */
  readonly data?: D;
  /** Directory the ranks resolve require() and relative paths from; default process.cwd(). */
  readonly cwd?: string;
  /** Seconds without progress (every rank asleep in communication) before a deadlock report; 0: never. */
  readonly timeout?: number;
  /** Aborting it stops every rank. */
  readonly signal?: AbortSignal;
  /** Receives each rank's output as whole lines; default: this process's stdout/stderr, prefixed `[rank k]`. */
  readonly onOutput?: OutputCallback;
  /** @internal How long waiting threads poll before they sleep (benchmarks). */
  readonly spinMicros?: number;
}

export const kDefaultOptions = {
  backend: 'threads' as LaunchBackend,
  /** Long enough for any real hand-over, short enough that a deadlocked cell is reported before one gives up. */
  timeout: 10,
  entry: 'rank',
  onOutput: writePrefixed,
};

const kWatchdogMs = 100;

export async function runRanks<R = unknown, D = unknown>(options: RunRanksOptions<D>): Promise<R[]> {
  const { np, backend, timeout, signal, onOutput, program, spinMicros, mpi } = checkOptions(options);
  if (signal?.aborted) throw Errors.Stopped('the signal was already aborted');

  const results = new Array<unknown>(np);
  const finished = new Array<boolean>(np).fill(false);
  const gone = new Array<boolean>(np).fill(false);
  const failures: RankFailure[] = [];
  let settled = false;
  let settle!: (error: Error | null) => void;
  const outcome = new Promise<Error | null>((resolve) => (settle = (e) => settled || ((settled = true), resolve(e))));

  let host: RankHost | undefined;
  const fail = (rank: number, error: RankFailure['error']) => {
    if (settled || failures.some((f) => f.rank === rank)) return;
    failures.push({ rank, error });
    if (failures.length > 1) return;
    awaitOtherFailures(
      () => host?.states() ?? [],
      (r) => finished[r] || gone[r] || failures.some((f) => f.rank === r),
      () => settle(failureReport(failures)),
    );
  };
  const events: RankEvents = {
    output: onOutput,
    result(rank, value) {
      results[rank] = value;
      finished[rank] = true;
    },
    failure: fail,
    aborted(rank, code) {
      settle(Errors.RankAborted(rank, code));
    },
    exited(rank, how, clean) {
      gone[rank] = true;
      // A script may end with process.exit(0): that is a normal finish without a value.
      if (!finished[rank] && clean && program.kind === 'script') finished[rank] = true;
      if (!finished[rank]) fail(rank, Errors.RankExited(how));
      if (gone.every(Boolean)) settle(failures.length > 0 ? failureReport(failures) : null);
    },
  };

  host =
    backend === 'threads'
      ? new ThreadRanks(np, program, events, spinMicros)
      : backend === 'processes'
        ? new ProcessRanks(np, program, events, spinMicros)
        : new MpiRanks(np, program, events, mpi);
  const onAbort = () => settle(Errors.Stopped('the signal was aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  const stopListening = onKernelInterrupt(() => settle(Errors.Stopped('the kernel was interrupted')));
  const watchdog = timeout > 0 ? startWatchdog(host, timeout, () => finished.map((f, i) => f || gone[i]!), settle) : undefined;

  // Not awaited before the outcome: a stop (signal, interrupt) must not wait for start-up.
  const starting = host.start().catch((err: unknown) => {
    // A rank that died while starting has usually reported why: that is the better message.
    settle(failures.length > 0 ? failureReport(failures) : Errors.StartFailed(backend, err instanceof Error ? err.message : String(err)));
  });
  const error = await outcome;
  if (watchdog) clearInterval(watchdog);
  signal?.removeEventListener('abort', onAbort);
  stopListening();
  await host.stop();
  await starting; // a start-up cut short has freed what it made after stop() looked
  if (error) throw error;
  return results as R[];
}

/**
 * Every kWatchdogMs, looks at what the ranks do; once all unfinished ranks have stayed asleep
 * in communication (none woke in between) for `timeout` seconds, reports the deadlock.
 */
export function startWatchdog(host: RankHost, timeout: number, done: () => boolean[], settle: (e: Error) => void): NodeJS.Timeout {
  let since = 0;
  let lastWakes: number[] = [];
  const timer = setInterval(() => {
    const states = host.states();
    const isDone = done();
    const wakes = states.map((s) => s.wakes);
    const stuck = isDone.some((d) => !d) && states.every((s, i) => isDone[i] || s.blocked) && wakes.every((w, i) => w === lastWakes[i]);
    lastWakes = wakes;
    const now = Date.now();
    if (!stuck) since = 0;
    else if (since === 0) since = now;
    else if (now - since >= timeout * 1000) {
      const ranks = states.map((s, rank) => ({ rank, doing: isDone[rank] ? 'finished' : `waiting in ${s.waitingIn || 'a communication call'}` }));
      settle(new DeadlockError(timeout, ranks));
    }
  }, kWatchdogMs);
  return timer.unref();
}

interface FilledOptions {
  readonly np: number;
  readonly backend: LaunchBackend;
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
  readonly onOutput: OutputCallback;
  readonly program: RankProgram;
  readonly spinMicros: number | undefined;
  readonly mpi: MpiLaunchOptions | undefined;
}

/** Checks every option once, one message per field (piscina's style), and fills in defaults. */
export function checkOptions<D>(options: RunRanksOptions<D>): FilledOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object, e.g. { np: 4, code }');
  const { np, backend = kDefaultOptions.backend, timeout = kDefaultOptions.timeout, signal, onOutput = kDefaultOptions.onOutput } = options;
  if (!Number.isInteger(np) || np < 1) throw Errors.Option('np', 'must be a positive integer');
  if (backend !== 'threads' && backend !== 'processes' && backend !== 'mpi') throw Errors.Option('backend', "must be 'threads', 'processes' or 'mpi'");
  const mpi = options.mpi;
  if (mpi !== undefined) {
    if (typeof mpi !== 'object' || mpi === null) throw Errors.Option('mpi', "must be an object: { hostfile?, mpirunArgs? } (backend 'mpi')");
    if (mpi.hostfile !== undefined && typeof mpi.hostfile !== 'string') throw Errors.Option('mpi.hostfile', 'must be the path of a hostfile');
    if (mpi.mpirunArgs !== undefined && (!Array.isArray(mpi.mpirunArgs) || !mpi.mpirunArgs.every((a) => typeof a === 'string'))) {
      throw Errors.Option('mpi.mpirunArgs', "must be an array of strings, e.g. ['--bind-to', 'none']");
    }
  }
  if (typeof timeout !== 'number' || !(timeout >= 0)) throw Errors.Option('timeout', 'must be a number of seconds >= 0 (0: no timeout)');
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw Errors.Option('signal', 'must be an AbortSignal');
  if (typeof onOutput !== 'function') throw Errors.Option('onOutput', 'must be a function (rank, stream, text) => void');
  const cwd = options.cwd ?? process.cwd();
  if (typeof cwd !== 'string') throw Errors.Option('cwd', 'must be a directory path');
  const given = [options.code, options.script, options.shipment].filter((x) => x !== undefined).length;
  if (given !== 1) throw Errors.OptionConflict('give exactly one of options.code, options.script and options.shipment');
  let program: RankProgram;
  if (options.code !== undefined) {
    if (typeof options.code !== 'function' && typeof options.code !== 'string') {
      throw Errors.Option('code', 'must be a function (comm, rank, size, data) => ... or its source text');
    }
    program = { kind: 'function', code: String(options.code), data: options.data, cwd };
  } else if (options.script !== undefined) {
    if (typeof options.script !== 'string' || !/\.([cm]?[jt]s|tsx)$/.test(options.script)) {
      throw Errors.Option('script', 'must be the path of a .ts, .js or .mjs file');
    }
    const args = options.args ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw Errors.Option('args', 'must be an array of strings');
    program = { kind: 'script', file: path.resolve(cwd, options.script), args, cwd };
  } else {
    const s = options.shipment!;
    if (typeof s !== 'object' || s === null || typeof s.code !== 'string') throw Errors.Option('shipment', 'must be a Shipment made by ship()');
    const entry = options.entry ?? kDefaultOptions.entry;
    if (!s.entries.includes(entry)) throw Errors.Option('entry', `must name an entry of the shipment (${s.entries.join(', ')})`);
    program = { kind: 'shipment', shipment: s, entry, data: options.data };
  }
  return { np, backend, timeout, signal, onOutput, program, spinMicros: options.spinMicros, mpi };
}
