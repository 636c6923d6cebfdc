/**
 * The threads backend, launcher side: one worker thread per rank over one shared world.
 * Output is piped (stdout/stderr: true) so every line can be labelled with its rank; each
 * rank's state for the deadlock watchdog is read straight from shared memory.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { serializeError } from '../../util/remote-error.js';
import type { ThreadRankData } from '../entry/thread.js';
import type { OutputStream, RankEvents, RankHost, RankState } from '../host.js';
import { isHostMessage, type RankProgram } from '../messages.js';
import { LineBuffer } from '../output.js';
import { terminateRunning } from './terminate.js';
import { createWorld, kTextBytes, PHASE, PHASE_BLOCKED, rankBase, TEXT_LEN, WAKES, type ThreadsWorld } from './layout.js';

const kEntry = path.join(__dirname, '..', 'entry', 'thread.js');

/**
 * How long a waiting rank polls before it sleeps. With a core per rank, long enough to cover a
 * neighbour finishing its share of a time step (waking from Atomics.waitAsync costs tens of
 * microseconds; MPI libraries poll for ever); with fewer cores a spinning rank steals its
 * peer's core, so hardly at all.
 */
export function defaultSpinMicros(np: number): number {
  return np <= os.availableParallelism() ? 200 : 2;
}

export class ThreadRanks implements RankHost {
  readonly #np: number;
  readonly #program: RankProgram;
  readonly #events: RankEvents;
  readonly #world: ThreadsWorld;
  readonly #ctl: Int32Array;
  readonly #text: Uint8Array;
  readonly #workers: Worker[] = [];
  readonly #gone: Promise<void>[] = [];
  readonly #decoder = new TextDecoder();

  constructor(np: number, program: RankProgram, events: RankEvents, spinMicros = defaultSpinMicros(np)) {
    this.#np = np;
    this.#program = program;
    this.#events = events;
    this.#world = createWorld(np, spinMicros);
    this.#ctl = new Int32Array(this.#world.control);
    this.#text = new Uint8Array(this.#world.text);
  }

  async start(): Promise<void> {
    for (let rank = 0; rank < this.#np; rank++) {
      const workerData: ThreadRankData = { rank, world: this.#world, program: this.#program };
      // A session rank may have a busy cell cut off (terminate.ts), which leaves Node's async-hook
      // stack unbalanced; the check would turn that into a crash (the kernel runs so too).
      const execArgv = this.#program.kind === 'session' ? ['--no-force-async-hooks-checks'] : [];
      const worker = new Worker(kEntry, { workerData, stdout: true, stderr: true, execArgv });
      this.#workers.push(worker);
      this.#gone.push(this.#watch(rank, worker));
    }
  }

  #watch(rank: number, worker: Worker): Promise<void> {
    const events = this.#events;
    worker.on('message', (m: unknown) => {
      if (!isHostMessage(m)) return;
      if (m.type === 'result') events.result(rank, m.value);
      else if (m.type === 'failure') events.failure(rank, m.error);
      else if (m.type === 'abort') events.aborted(rank, m.code);
      else events.message?.(rank, m);
    });
    // Errors that escape the rank's own handlers (e.g. a worker that cannot start).
    worker.on('error', (err) => events.failure(rank, serializeError(err)));
    const streams = (['stdout', 'stderr'] as const).map((name) => this.#pipe(rank, name, worker[name]));
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    return Promise.all([exited, ...streams]).then(([code]) => {
      events.exited(rank, `exit code ${code}`, code === 0);
    });
  }

  #pipe(rank: number, stream: OutputStream, readable: NodeJS.ReadableStream): Promise<void> {
    const lines = new LineBuffer();
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => {
      const text = lines.push(chunk);
      if (text) this.#events.output(rank, stream, text);
    });
    return new Promise<void>((resolve) => {
      const done = () => {
        const rest = lines.flush();
        if (rest) this.#events.output(rank, stream, rest);
        resolve();
      };
      readable.once('end', done);
      readable.once('close', done);
    });
  }

  states(): RankState[] {
    const ctl = this.#ctl;
    return Array.from({ length: this.#np }, (_, rank) => {
      const base = rankBase(rank);
      const blocked = Atomics.load(ctl, base + PHASE) === PHASE_BLOCKED;
      const length = Atomics.load(ctl, base + TEXT_LEN);
      const at = rank * kTextBytes;
      const waitingIn = blocked ? this.#decoder.decode(this.#text.slice(at, at + length)) : '';
      return { blocked, waitingIn, wakes: Atomics.load(ctl, base + WAKES) };
    });
  }

  post(rank: number, message: object): boolean {
    const worker = this.#workers[rank];
    if (!worker) return false;
    worker.postMessage(message);
    return true;
  }

  interruptBusy(ranks: readonly number[]): Promise<void> {
    return terminateRunning(ranks.flatMap((r) => (this.#workers[r] ? [this.#workers[r].threadId] : [])));
  }

  where(): string[] {
    return this.#workers.map((w) => `thread ${w.threadId}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
    await Promise.all(this.#gone);
  }
}
