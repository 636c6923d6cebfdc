/**
 * A worker thread, run by its own single-thread piscina instance: piscina starts the thread,
 * wakes it with Atomics, applies resourceLimits, reports its death, and starts a replacement.
 * One instance per worker (rather than one for the pool) lets the pool address, terminate and
 * retire workers individually, which piscina's own queue does not offer.
 */
import * as path from 'node:path';
import Piscina from 'piscina';
import type { WorkerLoss } from '../errors.js';
import type { ResourceLimits } from '../options.js';
import { kPoolTag, type OutputMessage, type ThreadWorkerData, type WorkerReply, type WorkerRequest } from '../protocol.js';
import type { PoolWorker, Sent, SendOutcome, WorkerEvents } from './worker.js';

export interface ThreadWorkerOptions {
  readonly control: SharedArrayBuffer;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly execArgv: readonly string[];
  readonly events: WorkerEvents;
}

/** Output sent just before a reply travels on another port; wait this long at most for it. */
const kOutputWaitMs = 1000;

export class ThreadWorker implements PoolWorker {
  #piscina: Piscina;
  readonly #options: ThreadWorkerOptions;
  readonly #events: WorkerEvents;
  /** A restart in progress (close waits for it). */
  #restarting: Promise<void> | undefined;
  /** Bumped each time piscina destroys the thread (death, terminate, close). */
  #generation = 0;
  #received = 0;
  #outputWaiters: { seq: number; resolve: () => void }[] = [];
  #closed = false;

  constructor(
    readonly id: number,
    options: ThreadWorkerOptions,
  ) {
    this.#events = options.events;
    this.#options = options;
    this.#piscina = this.#start();
  }

  #start(): Piscina {
    const options = this.#options;
    const workerData: ThreadWorkerData = { workerId: this.id, control: options.control };
    const piscina = new Piscina({
      filename: path.join(__dirname, '..', 'entry', 'thread.js'),
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      // Two batches in flight: the next one waits in the worker's port, so no round trip between them.
      concurrentTasksPerWorker: 2,
      recordTiming: false,
      workerData,
      execArgv: [...options.execArgv],
      ...(options.resourceLimits ? { resourceLimits: { ...options.resourceLimits } } : {}),
    });
    piscina.on('message', (message: unknown) => this.#onMessage(message));
    piscina.on('workerDestroy', () => {
      this.#generation++;
      this.#received = 0;
      this.#releaseOutputWaiters();
    });
    // piscina emits 'error' for a thread that fails with no task running; the task path reports deaths.
    piscina.on('error', () => undefined);
    return piscina;
  }

  get pid(): number {
    return process.pid;
  }

  get incarnation(): number {
    return this.#generation;
  }

  send(request: WorkerRequest, transfer: readonly ArrayBuffer[]): Sent {
    return { incarnation: this.#generation, outcome: this.#run(request, transfer) };
  }

  async #run(request: WorkerRequest, transfer: readonly ArrayBuffer[]): Promise<SendOutcome> {
    const generation = this.#generation;
    let reply: WorkerReply;
    try {
      reply = (await this.#piscina.run(request, { transferList: [...transfer] })) as WorkerReply;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (this.#generation !== generation || this.#closed) return { ok: false, lost: lossOf(error) };
      return { ok: false, sendError: error };
    }
    await this.#outputUpTo(reply.outputSeq);
    return { ok: true, reply };
  }

  cancel(): void {
    // Threads read cancel flags from the shared control block.
  }

  terminate(): void {
    // piscina sees the exit, fails the thread's tasks and starts a fresh thread.
    for (const thread of this.#piscina.threads) void thread.terminate();
  }

  restart(): Promise<void> {
    this.#restarting ??= (async () => {
      const old = this.#piscina;
      await old.destroy(); // its 'workerDestroy' bumps the generation
      if (!this.#closed) this.#piscina = this.#start();
      this.#restarting = undefined;
    })();
    return this.#restarting;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#restarting;
    await this.#piscina.destroy();
    this.#releaseOutputWaiters();
  }

  #onMessage(message: unknown): void {
    const m = message as Partial<OutputMessage> | null;
    if (!m || m[kPoolTag] !== 'output' || typeof m.text !== 'string' || (m.stream !== 'stdout' && m.stream !== 'stderr')) return;
    this.#received = m.seq ?? this.#received + 1;
    this.#events.onOutput(m.stream, m.text);
    if (this.#outputWaiters.length > 0) {
      this.#outputWaiters = this.#outputWaiters.filter((w) => (w.seq <= this.#received ? (w.resolve(), false) : true));
    }
  }

  /** Output printed before a reply comes on the worker's other port: deliver it first. */
  #outputUpTo(seq: number): Promise<void> | undefined {
    if (seq <= this.#received) return undefined;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, kOutputWaitMs);
      timer.unref();
      this.#outputWaiters.push({
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  #releaseOutputWaiters(): void {
    const waiters = this.#outputWaiters;
    this.#outputWaiters = [];
    for (const w of waiters) w.resolve();
  }
}

/** piscina reports a dead thread as `worker exited with code: N` or with the thread's error. */
function lossOf(error: Error): WorkerLoss {
  const exit = /worker exited with code: (-?\d+)/.exec(error.message);
  if (exit) return { kind: 'exit', code: Number(exit[1]), signal: null };
  return { kind: 'error', error };
}
