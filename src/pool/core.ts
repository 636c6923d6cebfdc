/**
 * The pool's private implementation: workers (by id), the calls in the order they came, and
 * the scheduler between them. Workers take batches of a call's chunks (batching.ts, packed by
 * batch-payload.ts, shipments sent once per worker: shipment-cache.ts); results come back in
 * input order; a worker that dies is replaced and the input it was running is reported
 * (loss.ts); interrupts, aborts and close cancel what is queued and restart what is running.
 */
import { ship } from '../ship/index.js';
import { onKernelInterrupt } from '../util/interrupt.js';
import { ThreadWorker } from './backend/thread-worker.js';
import { ProcessWorker } from './backend/process-worker.js';
import type { PoolWorker, SendOutcome } from './backend/worker.js';
import { defaultChunksize } from './batching.js';
import { Call, type Method } from './call.js';
import { ControlBlock } from './control.js';
import { batchItems, transferablesOf } from './batch-payload.js';
import { Errors, type WorkerLoss } from './errors.js';
import { Initializer } from './initializer.js';
import { blame, deathError, runningInput } from './loss.js';
import type { CallOptions, FilledPoolOptions } from './options.js';
import { LineAssembler, writeToProcess } from './output.js';
import { ProgressReporter } from './progress.js';
import { kFailedLoading, kInitializerFailed, kResultNotSendable, type BatchRequest, type WorkerReply } from './protocol.js';
import { ShipmentMirror } from './shipment-cache.js';
import type { PoolStatus } from './status.js';
import { activeTrace, type TraceRecorder } from '../trace/recorder.js';
import { traceNow } from '../trace/clock.js';
import { recordPoolBatch } from '../trace/pool.js';

/** How long a cancelled call's running item may take to stop by itself before its worker is restarted. */
const kReapAfterMs = 250;

interface Slot {
  readonly id: number;
  readonly worker: PoolWorker;
  readonly inflight: InFlight[];
  /** The shipments the worker holds (shipment-cache.ts). */
  readonly shipments: ShipmentMirror;
  retiring: boolean;
  /** Being replaced by a fresh thread or process after maxTasksPerChild tasks. */
  recycling: boolean;
  /** Tasks (chunks) sent to the incarnation `tasksOf`, for maxTasksPerChild. */
  tasks: number;
  tasksOf: number;
  /** We asked for termination: the loss that follows is expected. */
  terminating: boolean;
  lastDispatch: number;
  busySince: number;
  busyMs: number;
  readonly output: LineAssembler;
}

interface InFlight {
  readonly seq: number;
  readonly call: Call;
  readonly start: number;
  readonly end: number;
  readonly slot: Slot;
  readonly pid: number | undefined;
  /** The thread or process it was sent to. */
  incarnation: number;
  settled: boolean;
  /** Set while %%timeline records: where and since when (trace clock). */
  readonly trace?: { readonly recorder: TraceRecorder; readonly sent: number };
}

interface CallExtras {
  readonly progress: ProgressReporter;
  readonly detach: () => void;
}

export class PoolCore {
  readonly #o: FilledPoolOptions;
  readonly #control = new ControlBlock();
  readonly #slots = new Map<number, Slot>();
  readonly #calls: Call[] = [];
  readonly #extras = new Map<Call, CallExtras>();
  /** Retiring workers, and what to call once each has exited. */
  readonly #retirements = new Map<Slot, () => void>();
  readonly #unsubscribe: (() => void) | undefined;
  /** The pool's initializer, if it has one (initializer.ts). */
  readonly #init: Initializer | undefined;
  readonly #startedAt = performance.now();
  #seq = 0;
  #callIds = 0;
  #dispatches = 0;
  #tasksDone = 0;
  #pumping = false;
  #closing: Promise<void> | undefined;
  /** Seconds before calls report progress; changeable (%pool --progress-after). */
  progressAfter: number;

  constructor(options: FilledPoolOptions) {
    this.#o = options;
    this.progressAfter = options.progressAfter;
    this.#init = options.initializer
      ? new Initializer(options.initializer, options.initargs, options, {
          nextSeq: () => ++this.#seq,
          expectedLoss: (worker) => this.closed || this.#slots.get(worker.id)?.worker !== worker || this.#slots.get(worker.id)?.terminating === true,
          onBroken: (error) => {
            for (const call of [...this.#calls]) call.fail(error);
          },
        })
      : undefined;
    for (let id = 1; id <= options.workers; id++) this.#addSlot(id);
    this.#unsubscribe = options.interruptible ? onKernelInterrupt(() => this.interrupt(), options.context) : undefined;
  }

  get backend(): FilledPoolOptions['backend'] {
    return this.#o.backend;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  get workers(): number {
    return this.#activeSlots().length;
  }

  // ── calls ────────────────────────────────────────────────────────────────
  /** Ships `fn` and queues the call. Throws UnshippableError at once. */
  start(method: Method, fn: Function, items: ArrayLike<unknown>, star: boolean, options: CallOptions): Call {
    if (this.closed) throw Errors.PoolClosed();
    const broken = this.#init?.broken;
    if (broken) throw broken;
    const shipment = ship({ task: fn }, { ...(this.#o.definitions ? { definitions: this.#o.definitions } : {}), cwd: this.#o.cwd, context: this.#o.context });
    const auto = method === 'map' || method === 'starmap' ? defaultChunksize(items.length, this.workers) : 1;
    const call = new Call(
      {
        id: ++this.#callIds,
        method,
        items,
        star,
        chunksize: Math.max(1, options.chunksize ?? auto),
        shipment,
        transfer: options.transfer ?? false,
      },
      (c) => this.#onSettled(c),
    );
    call.cancelSlot = this.#control.openCall(call.id);
    activeTrace()?.callStarts.set(call.id, traceNow());
    const progress = new ProgressReporter(
      call.id,
      method,
      () => ({ done: call.done, total: call.total }),
      this.#o.onProgress,
      options.progressAfter ?? this.progressAfter,
    );
    const signal = options.signal;
    const onAbort = (): void => this.abort(call, signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const seconds = options.timeout;
    const timer = seconds !== undefined ? setTimeout(() => this.#timeOut(call, seconds), seconds * 1000) : undefined;
    const detach = (): void => {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
    };
    this.#extras.set(call, { progress, detach });
    this.#calls.push(call);
    if (signal?.aborted) this.abort(call, signal.reason);
    else call.settleIfEmpty();
    this.#pump();
    return call;
  }

  /** Cancels one call: its queued items are dropped and workers running its items restarted. */
  abort(call: Call, reason: unknown): void {
    const running = this.#slotsRunning((c) => c === call);
    if (!call.fail(Errors.Aborted(call.method, reason), 'cancelled')) return;
    this.#terminate(running);
  }

  /** The call's timeout passed: it fails naming what its workers were running, and they are replaced. */
  #timeOut(call: Call, seconds: number): void {
    const running = this.#slotsRunning((c) => c === call);
    const inputs = running.map((slot) => {
      const progress = this.#o.backend === 'threads' ? this.#control.progressOf(slot.id) : undefined;
      return runningInput(slot.inflight[0] as InFlight, slot.id, progress, (i) => displayInput(call, i));
    });
    if (!call.fail(Errors.CallTimedOut(call.method, seconds, inputs, this.#o.backend, call.total - call.done))) return;
    this.#terminate(running);
  }

  /** Cancels a call that has not started (Future.cancel()). */
  cancelUnstarted(call: Call, error: Error): boolean {
    if (call.started || call.settled) return false;
    return call.fail(error, 'cancelled');
  }

  /** Kernel interrupt: every call ends with PoolInterruptedError; busy workers are restarted. */
  interrupt(): void {
    // Busy workers include ones still finishing an item of a call that already failed.
    const running = this.#slotsRunning(() => true);
    for (const call of [...this.#calls]) call.fail(Errors.Interrupted(call.method), 'cancelled');
    this.#terminate(running);
  }

  // ── lifecycle ────────────────────────────────────────────────────────────
  /** Resolves when every worker has started and answered. */
  async ready(): Promise<void> {
    // Pings queue behind the initializer: a pool that is broken from the start says so here.
    await Promise.all(this.#activeSlots().map((s) => s.worker.send({ kind: 'ping', seq: ++this.#seq }, []).outcome));
    const broken = this.#init?.broken;
    if (broken) throw broken;
  }

  /** Grows (new ids) or shrinks (highest ids retire after their current batches). */
  async resize(workers: number): Promise<void> {
    if (this.closed) throw Errors.PoolClosed();
    const active = this.#activeSlots();
    if (workers > active.length) {
      let next = Math.max(0, ...this.#slots.keys()) + 1;
      for (let i = active.length; i < workers; i++) this.#addSlot(next++);
      this.#pump();
      return;
    }
    const retiring = active.slice(workers);
    const retired = retiring.map((slot) => {
      slot.retiring = true;
      return new Promise<void>((resolve) => this.#retirements.set(slot, resolve));
    });
    for (const slot of retiring) if (slot.inflight.length === 0) this.#retire(slot);
    await Promise.all(retired);
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#unsubscribe?.();
    const closing = (async () => {
      for (const call of [...this.#calls]) call.fail(Errors.PoolClosed(), 'cancelled');
      await Promise.all([...this.#slots.values()].map((s) => s.worker.close()));
      this.#slots.clear();
      for (const resolve of this.#retirements.values()) resolve(); // a shrink in progress is over too
      this.#retirements.clear();
    })();
    this.#closing = closing;
    return closing;
  }

  status(): PoolStatus {
    const active = this.#activeSlots();
    const now = performance.now();
    let busyMs = 0;
    let running = 0;
    for (const slot of this.#slots.values()) {
      busyMs += slot.busyMs + (slot.inflight.length > 0 ? now - slot.busySince : 0);
      for (const r of slot.inflight) running += r.end - r.start;
    }
    const capacity = (now - this.#startedAt) * Math.max(1, active.length);
    return {
      backend: this.#o.backend,
      closed: this.closed,
      workers: active.length,
      workerIds: active.map((s) => s.id),
      pids: this.#o.backend === 'processes' ? active.map((s) => s.worker.pid) : [process.pid],
      busyWorkers: active.filter((s) => s.inflight.length > 0).length,
      calls: this.#calls.length,
      tasksDone: this.#tasksDone,
      tasksQueued: this.#calls.reduce((n, c) => n + c.pendingItems, 0),
      tasksRunning: running,
      utilisation: capacity > 0 ? Math.min(1, busyMs / capacity) : 0,
    };
  }

  // ── scheduling ───────────────────────────────────────────────────────────
  #pump(): void {
    if (this.#pumping || this.closed) return;
    this.#pumping = true;
    try {
      for (;;) {
        if (!this.#hasCapacity()) break;
        let dispatched = false;
        for (const call of this.#calls) {
          if (call.settled || call.pendingItems === 0) continue;
          const slot = this.#pickSlot(call);
          if (!slot) continue;
          this.#dispatch(call, slot);
          dispatched = true;
          break; // back to the oldest call: calls are served in the order they came
        }
        if (!dispatched) break;
      }
    } finally {
      this.#pumping = false;
    }
  }

  #hasCapacity(): boolean {
    for (const s of this.#slots.values()) if (this.#takesWork(s) && s.inflight.length < 2) return true;
    return false;
  }

  /** Not leaving, not being replaced, and with tasks left before maxTasksPerChild. */
  #takesWork(slot: Slot): boolean {
    return !slot.retiring && !slot.recycling && this.#tasksLeft(slot) > 0;
  }

  /** Tasks the worker's current thread or process may still be sent (maxTasksPerChild). */
  #tasksLeft(slot: Slot): number {
    const max = this.#o.maxTasksPerChild;
    if (max === undefined) return Infinity;
    return slot.tasksOf === slot.worker.incarnation ? max - slot.tasks : max;
  }

  /** An idle worker (the least recently used), or for short work one with a short batch queued. */
  #pickSlot(call: Call): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.#slots.values()) {
      if (!this.#takesWork(s) || s.inflight.length > 0) continue;
      if (!best || s.lastDispatch < best.lastDispatch) best = s;
    }
    if (best || !call.short) return best;
    for (const s of this.#slots.values()) {
      if (!this.#takesWork(s) || s.inflight.length !== 1 || !(s.inflight[0] as InFlight).call.short) continue;
      if (!best || s.lastDispatch < best.lastDispatch) best = s;
    }
    return best;
  }

  // ── a batch's start (#dispatch) and end (#onOutcome): the one place tasks begin and finish ──
  #dispatch(call: Call, slot: Slot): void {
    const tasksLeft = this.#tasksLeft(slot);
    const range = call.takeBatch(this.#activeSlots().length, tasksLeft);
    if (!range) return;
    if (tasksLeft !== Infinity) {
      slot.tasks = slot.tasksOf === slot.worker.incarnation ? slot.tasks : 0;
      slot.tasksOf = slot.worker.incarnation;
      slot.tasks += Math.ceil((range.end - range.start) / call.chunksize);
    }
    this.#init?.ensure(slot.worker);
    const seq = ++this.#seq;
    const items = batchItems(call.items, range.start, range.end, call.star);
    slot.shipments.follow(slot.worker.incarnation);
    const needsShipment = slot.shipments.needs(call.key);
    const release = slot.shipments.takeReleases();
    const recorder = activeTrace();
    const request: BatchRequest = {
      kind: 'batch',
      seq,
      call: call.id,
      key: call.key,
      ...(needsShipment ? { shipment: call.shipment } : {}),
      ...(release ? { release } : {}),
      entry: 'task',
      star: call.star,
      items,
      transferResults: call.transfer,
      cancelSlot: call.cancelSlot,
      ...(recorder ? { trace: true } : {}),
    };
    const record: InFlight = { seq, call, start: range.start, end: range.end, slot, pid: slot.worker.pid, incarnation: 0, settled: false, ...(recorder ? { trace: { recorder, sent: traceNow() } } : {}) };
    if (slot.inflight.length === 0) slot.busySince = performance.now();
    slot.inflight.push(record);
    slot.lastDispatch = ++this.#dispatches;
    call.inflightBatches++;
    const transfer = transferablesOf(items, call.star, call.transfer);
    const sent = slot.worker.send(request, transfer);
    record.incarnation = sent.incarnation;
    void sent.outcome.then((outcome) => this.#onOutcome(record, outcome));
  }

  #onOutcome(record: InFlight, outcome: SendOutcome): void {
    if (record.settled) return; // already handled when its worker was lost
    const slot = record.slot;
    if (!outcome.ok && 'lost' in outcome) {
      this.#onLost(slot, outcome.lost, record.incarnation);
    } else {
      this.#finish(record);
      if (outcome.ok) this.#onReply(record, outcome.reply);
      else if (!record.call.settled) record.call.fail(Errors.InputNotSendable([record.start, record.end], outcome.sendError.message));
    }
    if (slot.inflight.length === 0) {
      if (slot.retiring) this.#retire(slot);
      else if (this.#tasksLeft(slot) <= 0) this.#recycle(slot);
    }
    this.#pump();
  }

  /** Takes a record off its worker. */
  #finish(record: InFlight): void {
    record.settled = true;
    const slot = record.slot;
    const at = slot.inflight.indexOf(record);
    if (at >= 0) slot.inflight.splice(at, 1);
    record.call.inflightBatches--;
    slot.output.flush();
    if (slot.inflight.length === 0) slot.busyMs += performance.now() - slot.busySince;
  }

  #onReply(record: InFlight, reply: WorkerReply): void {
    if (reply.kind !== 'batch') return;
    const call = record.call;
    if (reply.missingShipment) {
      record.slot.shipments.forget(call.key);
      call.requeue(record);
      return;
    }
    this.#tasksDone += reply.results.length;
    if (record.trace && reply.trace) {
      const { recorder, sent } = record.trace;
      recordPoolBatch(recorder, { worker: record.slot.id, call: call.id, method: call.method, batch: record.seq, first: record.start, sent, received: traceNow(), inputOf: (i) => call.itemAt(i), star: call.star, ...reply.trace });
    }
    if (call.settled) return;
    call.complete(record.start, reply.results, reply.elapsedMs);
    const failure = reply.error;
    if (!failure) return;
    const worker = record.slot.id;
    if (failure.index === kInitializerFailed) call.fail(this.#init?.broken ?? Errors.Broken(failure.error, worker));
    else if (failure.index === kFailedLoading) call.fail(Errors.LoadFailed(failure.error, worker));
    else if (failure.index === kResultNotSendable) call.fail(Errors.ResultNotSendable(worker, [record.start, record.end], failure.error.message));
    else {
      const index = record.start + failure.index;
      call.fail(Errors.TaskFailed(failure.error, worker, record.pid, this.#o.backend, index, displayInput(call, index)));
    }
  }

  /** A worker stopped with batches in flight: blame the one it was running, requeue the others. */
  #onLost(slot: Slot, loss: WorkerLoss, incarnation: number): void {
    // Only what went to the thread or process that stopped; its replacement may already have work.
    const records = slot.inflight.filter((r) => r.incarnation === incarnation);
    const expected = slot.terminating;
    slot.terminating = false;
    const progress = this.#o.backend === 'threads' ? this.#control.progressOf(slot.id) : undefined;
    const found = blame(records, progress, expected);
    for (const r of records) this.#finish(r);
    for (const r of records) {
      if (r.call.settled) continue;
      if (r !== found?.culprit) r.call.requeue(r);
      else {
        const memoryLimitMb = this.#o.resourceLimits?.maxOldGenerationSizeMb;
        r.call.fail(deathError(found, slot.id, this.#o.backend, loss, (i) => displayInput(r.call, i), memoryLimitMb));
      }
    }
    // The replacement runs the initializer now, as a fresh Python pool process would.
    if (!this.closed && !slot.retiring) this.#init?.ensure(slot.worker);
  }

  #onSettled(call: Call): void {
    const at = this.#calls.indexOf(call);
    if (at >= 0) this.#calls.splice(at, 1);
    this.#control.closeCall(call.cancelSlot);
    for (const slot of this.#slots.values()) {
      slot.shipments.release(call.key);
      if (call.outcome !== 'completed' && slot.inflight.some((r) => r.call === call)) slot.worker.cancel(call.id);
    }
    const extras = this.#extras.get(call);
    this.#extras.delete(call);
    extras?.detach();
    extras?.progress.finish(call.outcome ?? 'failed');
    if (call.outcome !== 'completed' && call.inflightBatches > 0) this.#reapLater(call);
    queueMicrotask(() => this.#pump());
  }

  /**
   * The remaining items of a failed or cancelled call stop at the next item boundary; a worker
   * still inside one long item after a grace period is restarted, so the next call need not wait.
   */
  #reapLater(call: Call): void {
    setTimeout(() => {
      if (this.closed) return;
      this.#terminate(this.#slotsRunning((c) => c === call).filter((s) => !s.terminating));
    }, kReapAfterMs).unref();
  }

  // ── workers ──────────────────────────────────────────────────────────────
  #addSlot(id: number): void {
    const output = new LineAssembler(id, this.#o.onOutput ?? writeToProcess);
    const events = { onOutput: (stream: 'stdout' | 'stderr', text: string) => output.write(stream, text) };
    const o = this.#o;
    const worker: PoolWorker =
      o.backend === 'threads'
        ? new ThreadWorker(id, { control: this.#control.buffer, resourceLimits: o.resourceLimits, execArgv: o.execArgv, events })
        : new ProcessWorker(id, { cwd: o.cwd, env: o.env, execArgv: o.execArgv, resourceLimits: o.resourceLimits, events });
    this.#slots.set(id, {
      id,
      worker,
      inflight: [],
      shipments: new ShipmentMirror(worker.incarnation),
      retiring: false,
      recycling: false,
      tasks: 0,
      tasksOf: worker.incarnation,
      terminating: false,
      lastDispatch: 0,
      busySince: 0,
      busyMs: 0,
      output,
    });
    this.#init?.ensure(worker);
  }

  #activeSlots(): Slot[] {
    return [...this.#slots.values()].filter((s) => !s.retiring).sort((a, b) => a.id - b.id);
  }

  /** Workers whose running batch (the oldest in flight) belongs to a call matching `which`. */
  #slotsRunning(which: (call: Call) => boolean): Slot[] {
    return [...this.#slots.values()].filter((s) => s.inflight.length > 0 && which((s.inflight[0] as InFlight).call));
  }

  #terminate(slots: readonly Slot[]): void {
    for (const slot of slots) {
      slot.terminating = true;
      slot.worker.terminate();
    }
  }

  /** maxTasksPerChild: an idle worker that has run its share is replaced by a fresh one. */
  #recycle(slot: Slot): void {
    slot.recycling = true;
    void slot.worker.restart().then(() => {
      slot.recycling = false;
      slot.tasks = 0;
      slot.tasksOf = slot.worker.incarnation;
      if (this.closed || slot.retiring) return;
      this.#init?.ensure(slot.worker);
      this.#pump();
    });
  }

  /** A retiring worker with nothing in flight leaves the pool. */
  #retire(slot: Slot): void {
    const resolve = this.#retirements.get(slot);
    if (!resolve) return;
    this.#retirements.delete(slot);
    this.#slots.delete(slot.id);
    this.#init?.forget(slot.worker);
    void slot.worker.close().then(resolve);
  }
}

/** What an input looks like in messages: the item, or the argument list for starmap/apply. */
function displayInput(call: Call, index: number): unknown {
  return call.itemAt(index);
}
