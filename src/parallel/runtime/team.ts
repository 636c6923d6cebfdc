/**
 * The thread team: worker threads started once and reused for every loop, plus the main thread
 * as thread 0 (like OpenMP's master thread). Workers spin briefly after each loop, then wait on
 * the generation word; a loop starts when the main thread bumps it. What a worker needs beyond
 * numbers (loop bodies, shared arrays, functions) reaches it by postMessage on a private port
 * before the bump, and the worker reads it synchronously (receiveMessageOnPort), so nothing
 * depends on either side's event loop while a loop runs.
 */
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { Errors } from '../errors.js';
import { createControlBlock, I, viewControlBlock, type ControlBlock } from './control.js';
import type { FromWorker, MemberDied, StartMember, SupervisorData, ToWorker, WorkerData } from './protocol.js';

/** Main thread: how long it polls for the workers before it sleeps on the DONE word (ms). */
const kMainSpinMs = 0.05;
/** Main thread: how long one sleep lasts; short so that team failures are noticed. */
const kMainWaitMs = 20;
/** How long a worker may take to start before the team is declared broken. */
const kStartTimeoutMs = 30_000;

interface Member {
  readonly port: MessagePort;
  /** Loop body slots this worker has. */
  readonly loops: Set<number>;
  /** Handles (shared arrays, functions) this worker holds. */
  readonly handles: Set<number>;
  startedAt: number;
}

export interface TeamOptions {
  /** How long workers poll for the next loop before sleeping, in microseconds. */
  readonly spinMicros: number;
  /** Each worker's heap limits: a worker that exceeds them dies alone, the process lives on. */
  readonly resourceLimits: ResourceLimits;
}

export class Team {
  readonly block: ControlBlock;
  readonly #buffers: { ctlBuffer: SharedArrayBuffer; dataBuffer: SharedArrayBuffer };
  readonly #members: Member[] = [];
  readonly #options: TeamOptions;
  readonly #handleIds = new WeakMap<object, number>();
  #nextHandle = 1;
  readonly #drops: number[] = [];
  readonly #finalizer = new FinalizationRegistry<number>((id) => this.#drops.push(id));
  #terminating: Promise<void> | undefined;
  /** Starts and watches the workers (see entry/supervisor.ts); started with the first worker. */
  #supervisor: Worker | undefined;
  #supervisorExited = false;
  readonly #status = new MessageChannel();
  readonly #deaths: MemberDied[] = [];

  constructor(options: TeamOptions) {
    this.#options = options;
    this.#buffers = createControlBlock();
    this.block = viewControlBlock(this.#buffers.ctlBuffer, this.#buffers.dataBuffer);
  }

  /** Threads the team can run, the main thread included. */
  get size(): number {
    return this.#members.length + 1;
  }

  get broken(): boolean {
    return this.#terminating !== undefined || this.#supervisorExited || Atomics.load(this.block.ctl, I.DEAD) > 0;
  }

  /** Workers that died since the team started (read without the event loop). */
  deaths(): readonly MemberDied[] {
    const port = this.#status.port1;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) this.#deaths.push(m.message as MemberDied);
    return this.#deaths;
  }

  /** Starts workers until the team has `threads` threads. */
  grow(threads: number): void {
    while (this.size < threads) this.#start(this.#members.length + 1);
  }

  /** Posts to worker `thread` (1-based). */
  post(thread: number, message: ToWorker): void {
    this.#member(thread).port.postMessage(message);
  }

  hasLoop(thread: number, slot: number): boolean {
    return this.#member(thread).loops.has(slot);
  }

  markLoop(thread: number, slot: number): void {
    this.#member(thread).loops.add(slot);
  }

  /**
   * The handle of a long-lived object (a shared array, a shipped function), sent to the worker
   * on first use. When the object is collected on the main thread, workers drop it too.
   */
  handleFor(thread: number, key: object, message: (id: number) => ToWorker): number {
    let id = this.#handleIds.get(key);
    if (id === undefined) {
      id = this.#nextHandle++;
      this.#handleIds.set(key, id);
      this.#finalizer.register(key, id);
    }
    const member = this.#member(thread);
    if (!member.handles.has(id)) {
      member.port.postMessage(message(id));
      member.handles.add(id);
    }
    return id;
  }

  /** Starts loop number `gen` on every worker; they read its parameters from the control block. */
  start(): number {
    this.#flushDrops();
    const { ctl } = this.block;
    Atomics.store(ctl, I.DONE, 0);
    Atomics.store(ctl, I.NEXT, 0);
    Atomics.store(ctl, I.FAILED, 0);
    const gen = Atomics.add(ctl, I.GEN, 1) + 1;
    Atomics.notify(ctl, I.GEN);
    return gen;
  }

  /** Blocks until `workers` workers have finished the current loop. */
  waitForWorkers(workers: number): void {
    const { ctl } = this.block;
    let deadline = 0;
    for (;;) {
      const done = Atomics.load(ctl, I.DONE);
      // A dead worker never finishes: the caller reports it (deaths()).
      if (done >= workers || Atomics.load(ctl, I.DEAD) > 0) return;
      // Poll briefly (short loops end within microseconds), then sleep: on a busy machine a
      // spinning main thread would take the core a worker needs.
      const now = performance.now();
      if (deadline === 0) deadline = now + kMainSpinMs;
      if (now < deadline) continue;
      Atomics.wait(ctl, I.DONE, done, kMainWaitMs);
      this.#checkStarted(workers);
    }
  }

  /** Messages worker `thread` sent since the last call. */
  drain(thread: number): FromWorker[] {
    const out: FromWorker[] = [];
    const port = this.#member(thread).port;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) out.push(m.message as FromWorker);
    return out;
  }

  /** Stops every worker, even one deep in a long chunk; resolves when all have exited. */
  terminate(): Promise<void> {
    this.#terminating ??= (async () => {
      for (const m of this.#members) m.port.close();
      this.#status.port1.close();
      // The workers are the supervisor's children: they end with it.
      if (this.#supervisor && !this.#supervisorExited) await this.#supervisor.terminate();
    })();
    return this.#terminating;
  }

  #member(thread: number): Member {
    const m = this.#members[thread - 1];
    if (!m) throw new Error(`internal: no worker for thread ${thread}`);
    return m;
  }

  #start(thread: number): void {
    const { port1, port2 } = new MessageChannel();
    const workerData: WorkerData = { ...this.#buffers, thread, spinMicros: this.#options.spinMicros, port: port2 };
    this.#startSupervisor().postMessage({ type: 'start', workerData } satisfies StartMember, [port2]);
    this.#members.push({ port: port1, loops: new Set(), handles: new Set(), startedAt: Date.now() });
  }

  #startSupervisor(): Worker {
    if (this.#supervisor) return this.#supervisor;
    const status = this.#status.port2;
    const workerData: SupervisorData = { ctlBuffer: this.#buffers.ctlBuffer, status, resourceLimits: this.#options.resourceLimits };
    const supervisor = new Worker(path.join(__dirname, 'entry', 'supervisor.js'), {
      workerData,
      transferList: [status],
      name: 'tslab-parallel team supervisor',
    });
    // A plain Node program that used a parallel loop must still exit when it is done.
    supervisor.unref();
    supervisor.on('exit', () => (this.#supervisorExited = true));
    supervisor.on('error', () => (this.#supervisorExited = true));
    this.#supervisor = supervisor;
    return supervisor;
  }

  #checkStarted(workers: number): void {
    const { ctl } = this.block;
    const now = Date.now();
    for (let t = 1; t <= workers; t++) {
      const m = this.#members[t - 1]!;
      if (Atomics.load(ctl, I.READY + t) === 0 && now - m.startedAt > kStartTimeoutMs) {
        throw Errors.TeamStartFailed(`worker thread ${t} did not start within ${kStartTimeoutMs / 1000} s`);
      }
    }
  }

  #flushDrops(): void {
    if (this.#drops.length === 0) return;
    const ids = this.#drops.splice(0);
    for (const m of this.#members) {
      const held = ids.filter((id) => m.handles.delete(id));
      if (held.length > 0) m.port.postMessage({ type: 'drop', ids: held } satisfies ToWorker);
    }
  }
}
