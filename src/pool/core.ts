/**
 * The pool's private implementation: workers (by id), the calls in the order they came, and
 * the scheduler between them. Workers take batches of a call's chunks (batching.ts); results
 * come back in input order; a worker that dies is replaced and the input it was running is
 * reported; interrupts, aborts and close cancel what is queued and restart what is running.
 */
import { ship } from '../ship/index.js';
import { onKernelInterrupt } from '../util/interrupt.js';
import { ThreadWorker } from './backend/thread-worker.js';
import { ProcessWorker } from './backend/process-worker.js';
import type { PoolWorker, SendOutcome } from './backend/worker.js';
import { defaultChunksize } from './batching.js';
import { Call, type Method } from './call.js';
import { ControlBlock } from './control.js';
import { Errors, type WorkerLoss } from './errors.js';
import type { CallOptions, FilledPoolOptions } from './options.js';
import { LineAssembler, writeToProcess } from './output.js';
import { ProgressReporter } from './progress.js';
import type { BatchReply, BatchRequest, PingReply } from './protocol.js';
import type { PoolStatus } from './status.js';
import { activeTrace, type TraceRecorder } from '../trace/recorder.js';
import { traceNow } from '../trace/clock.js';
import { recordPoolBatch } from '../trace/pool.js';

/** How long a cancelled call's running item may take to stop by itself before its worker is restarted. */
const kReapAfterMs = 250;

/** A worker mirrors this many remembered shipments (entry/runner.ts). */
const kShipmentsPerWorker = 64;

interface Slot {
  readonly id: number;
  readonly worker: PoolWorker;
  readonly inflight: InFlight[];
  /** Shipment keys the worker has, oldest first (mirrors the worker's own eviction). */
  readonly knownKeys: Set<string>;
  /** The worker incarnation that knownKeys and releases describe. */
  keysIncarnation: number;
  releases: string[];
  retiring: boolean;
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
    for (let id = 1; id <= options.workers; id++) this.#addSlot(id);
    this.#unsubscribe = options.interruptible ? onKernelInterrupt(() => this.interrupt()) : undefined;
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
    const shipment = ship({ task: fn }, { ...(this.#o.definitions ? { definitions: this.#o.definitions } : {}), cwd: this.#o.cwd });
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
    this.#extras.set(call, { progress, detach: () => signal?.removeEventListener('abort', onAbort) });
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
    await Promise.all(this.#activeSlots().map((s) => s.worker.send({ kind: 'ping', seq: ++this.#seq }, []).outcome));
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
    for (const s of this.#slots.values()) if (!s.retiring && s.inflight.length < 2) return true;
    return false;
  }

  /** An idle worker (the least recently used), or for short work one with a short batch queued. */
  #pickSlot(call: Call): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.#slots.values()) {
      if (s.retiring || s.inflight.length > 0) continue;
      if (!best || s.lastDispatch < best.lastDispatch) best = s;
    }
    if (best || !call.short) return best;
    for (const s of this.#slots.values()) {
      if (s.retiring || s.inflight.length !== 1 || !(s.inflight[0] as InFlight).call.short) continue;
      if (!best || s.lastDispatch < best.lastDispatch) best = s;
    }
    return best;
  }

  #dispatch(call: Call, slot: Slot): void {
    const range = call.takeBatch(this.#activeSlots().length);
    if (!range) return;
    const seq = ++this.#seq;
    const items = packNumbers(sliceItems(call.items, range.start, range.end), call.star);
    if (slot.keysIncarnation !== slot.worker.incarnation) {
      // A fresh thread or process: it holds no shipments and has nothing to release.
      slot.knownKeys.clear();
      slot.releases = [];
      slot.keysIncarnation = slot.worker.incarnation;
    }
    const needsShipment = !slot.knownKeys.has(call.key);
    const recorder = activeTrace();
    const request: BatchRequest = {
      kind: 'batch',
      seq,
      call: call.id,
      key: call.key,
      ...(needsShipment ? { shipment: call.shipment } : {}),
      ...(slot.releases.length > 0 ? { release: slot.releases.splice(0) } : {}),
      entry: 'task',
      star: call.star,
      items,
      transferResults: call.transfer,
      cancelSlot: call.cancelSlot,
      ...(recorder ? { trace: true } : {}),
    };
    if (needsShipment) rememberKey(slot, call.key);
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
      if (outcome.ok) this.#onReply(record, outcome.reply as BatchReply | PingReply);
      else if (!record.call.settled) record.call.fail(Errors.InputNotSendable([record.start, record.end], outcome.sendError.message));
    }
    if (slot.retiring && slot.inflight.length === 0) this.#retire(slot);
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

  #onReply(record: InFlight, reply: BatchReply | PingReply): void {
    if (reply.kind !== 'batch') return;
    const call = record.call;
    if (reply.missingShipment) {
      record.slot.knownKeys.delete(call.key);
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
    if (failure.index === -1) call.fail(Errors.LoadFailed(failure.error, worker));
    else if (failure.index === -2) call.fail(Errors.ResultNotSendable(worker, [record.start, record.end], failure.error.message));
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
    const culprit = expected ? undefined : (records.find((r) => r.seq === progress?.seq) ?? records[0]);
    for (const r of records) this.#finish(r);
    for (const r of records) {
      if (r.call.settled) continue;
      if (r !== culprit) {
        r.call.requeue(r);
        continue;
      }
      const exact =
        progress && progress.seq === r.seq ? r.start + progress.index : r.end - r.start === 1 ? r.start : undefined;
      r.call.fail(
        Errors.WorkerDied({
          worker: slot.id,
          pid: r.pid,
          backend: this.#o.backend,
          loss,
          ...(exact !== undefined ? { index: exact, input: displayInput(r.call, exact) } : { range: [r.start, r.end] as const }),
          ...(this.#o.resourceLimits?.maxOldGenerationSizeMb !== undefined
            ? { memoryLimitMb: this.#o.resourceLimits.maxOldGenerationSizeMb }
            : {}),
        }),
      );
    }
  }

  #onSettled(call: Call): void {
    const at = this.#calls.indexOf(call);
    if (at >= 0) this.#calls.splice(at, 1);
    this.#control.closeCall(call.cancelSlot);
    for (const slot of this.#slots.values()) {
      if (slot.knownKeys.delete(call.key)) slot.releases.push(call.key);
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
      knownKeys: new Set(),
      keysIncarnation: worker.incarnation,
      releases: [],
      retiring: false,
      terminating: false,
      lastDispatch: 0,
      busySince: 0,
      busyMs: 0,
      output,
    });
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

  /** A retiring worker with nothing in flight leaves the pool. */
  #retire(slot: Slot): void {
    const resolve = this.#retirements.get(slot);
    if (!resolve) return;
    this.#retirements.delete(slot);
    this.#slots.delete(slot.id);
    void slot.worker.close().then(resolve);
  }
}

function rememberKey(slot: Slot, key: string): void {
  slot.knownKeys.delete(key);
  slot.knownKeys.add(key);
  if (slot.knownKeys.size > kShipmentsPerWorker) slot.knownKeys.delete(slot.knownKeys.values().next().value as string);
}

/** A copy of items start … end - 1 (typed arrays are sliced: a view would clone its whole buffer). */
function sliceItems(items: ArrayLike<unknown>, start: number, end: number): ArrayLike<unknown> {
  const sliceable = items as { slice?: (s: number, e: number) => ArrayLike<unknown> };
  if (typeof sliceable.slice === 'function') return sliceable.slice(start, end);
  return Array.prototype.slice.call(items, start, end);
}

/** Below this many items, packing numbers is not worth its check. */
const kPackAtLeast = 64;

/** A batch of numbers travels as one Float64Array (cloned as a block, and transferred: it is our copy). */
function packNumbers(items: ArrayLike<unknown>, star: boolean): ArrayLike<unknown> {
  if (star || !Array.isArray(items) || items.length < kPackAtLeast) return items;
  const packed = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const v: unknown = items[i];
    if (typeof v !== 'number') return items;
    packed[i] = v;
  }
  return packed;
}

/** What an input looks like in messages: the item, or the argument list for starmap/apply. */
function displayInput(call: Call, index: number): unknown {
  return call.itemAt(index);
}

/**
 * What to transfer with a batch: the slice of a typed-array input (our own copy, always), and
 * with `transfer: true` the non-shared buffers of typed-array items (or of arguments).
 */
function transferablesOf(items: ArrayLike<unknown>, star: boolean, transfer: boolean): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (v: unknown): void => {
    if (v instanceof ArrayBuffer) buffers.add(v);
    else if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) buffers.add(v.buffer);
  };
  if (ArrayBuffer.isView(items)) add(items);
  else if (transfer) {
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (star && Array.isArray(item)) item.forEach(add);
      else add(item);
    }
  }
  return [...buffers];
}
