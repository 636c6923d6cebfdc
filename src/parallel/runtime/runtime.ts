/**
 * The main-thread side of parallel loops: what compiled code calls (`run`). It sends each loop
 * body and the values it captures to the team, starts the loop, runs thread 0's share itself,
 * waits for the workers and combines reductions and shared slots into the results the compiled
 * code writes back. Loops started inside a running loop's body run serially (as in Numba).
 */
import * as os from 'node:os';
import * as v8 from 'node:v8';
import { onKernelInterrupt } from '../../util/interrupt.js';
import { currentContext, type ProcessContext } from '../../util/process-context.js';
import { notebookDefinitions } from '../../ship/notebook.js';
import { RemoteError } from '../../util/remote-error.js';
import type { DefinitionLookup } from '../../ship/types.js';
import { checkThreads, describeLoop, describeValue, Errors } from '../errors.js';
import type { TypedArray } from '../../util/typed-array.js';
import { checkArrayReduction, iterationCount } from '../range.js';
import { isSharedView } from '../shared.js';
import type { ChunkFunction, LoopSpec } from '../spec.js';
import { F, I, kMaxEnv, kMaxReductions, kMaxShared, kMaxThreads, Tag } from './control.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { combineInto, privatePositions, privatize, ReductionBuffers } from './array-reduce.js';
import { BodyCopies } from './body-copies.js';
import { combine, fromSlot, identityOf, toSlot } from './reduce.js';
import { runShare } from './schedule.js';
import { Shadows } from './shadows.js';
import { runSerially } from './serial.js';
import type { CompiledLoopRunner } from './serial-runtime.js';
import { isUnshippable, shipByName, shipFunction, shipLoopBody, type Shipment } from './shipping.js';
import { Team } from './team.js';
import { createThreadContext, threadState } from './thread-state.js';
import { activeTrace } from '../../trace/recorder.js';
import { chunkArea, recordLoop, tracedBody } from '../../trace/chunks.js';
import { traceNow } from '../../trace/clock.js';

export interface ParallelRuntimeOptions {
  /** How long idle workers poll for the next loop before they sleep (µs). Default 500. */
  readonly spinMicros?: number;
  /** Where runtime notes go (an array copied to shared memory). Default console.warn. */
  readonly note?: (text: string) => void;
  /**
   * Heap limit of each worker thread (MiB): a worker that exceeds it stops alone and the loop
   * fails with an error; the process and its data live on. Default: $TSLAB_PARALLEL_THREAD_HEAP_MB,
   * else a quarter of the machine's memory, at most the main thread's own limit.
   */
  readonly threadHeapMb?: number;
  /** Whose kernel interrupts stop the running loop. Default: the current process context. */
  readonly context?: ProcessContext;
}

interface LoopEntry {
  readonly slot: number;
  shipment: Shipment | undefined;
}

interface Moved {
  readonly k: number;
  readonly original: ArrayBufferView;
  readonly copy: ArrayBufferView;
}

const kDefaultSpinMicros = 500;

export class ParallelRuntime implements CompiledLoopRunner {
  #team: Team | undefined;
  #definitions: DefinitionLookup | undefined;
  readonly #context: ProcessContext;
  readonly #loops = new Map<string, LoopEntry>();
  #nextSlot = 1;
  /** Shipped functions, re-shipped once per synchronous turn (a cell) so notebook data is fresh. */
  readonly #shipped = new WeakMap<object, { shipment: Shipment; turn: number }>();
  readonly #shippedByName = new Map<string, { shipment: Shipment; turn: number }>();
  readonly #ctx = createThreadContext();
  readonly #noted = new Set<string>();
  readonly #shadows = new Shadows();
  readonly #reductionBuffers = new ReductionBuffers();
  /** Bodies compiled for the arrays of their calls, for thread 0's shares. */
  readonly #copies = new BodyCopies();
  readonly #spinMicros: number;
  readonly #threadHeapMb: number;
  readonly #note: (text: string) => void;
  readonly #unsubscribe: () => void;
  /** A loop is in flight on the main thread (set from dispatch to completion). */
  #inLoop = false;
  #loopTurn = -1;
  /** Synchronous turns: bumped by a microtask, so a loop cut off by an interrupt is told from a nested one. */
  #turn = 0;
  #tickQueued = false;
  readonly #retiring = new Set<Promise<void>>();

  constructor(options: ParallelRuntimeOptions = {}) {
    if (options.spinMicros !== undefined && !(Number.isFinite(options.spinMicros) && options.spinMicros >= 0)) {
      throw new TypeError('options.spinMicros must be a non-negative number of microseconds');
    }
    if (options.note !== undefined && typeof options.note !== 'function') throw new TypeError('options.note must be a function');
    if (options.threadHeapMb !== undefined && !(Number.isInteger(options.threadHeapMb) && options.threadHeapMb > 0)) {
      throw new TypeError('options.threadHeapMb must be a positive whole number of MiB');
    }
    this.#spinMicros = options.spinMicros ?? kDefaultSpinMicros;
    this.#note = options.note ?? ((text) => console.warn(text));
    this.#threadHeapMb = options.threadHeapMb ?? defaultThreadHeapMb();
    this.#context = options.context ?? currentContext();
    this.#unsubscribe = onKernelInterrupt(() => this.interrupt(), this.#context);
  }

  /** Stops listening for interrupts and shuts the team down (its process context is disposed). */
  dispose(): Promise<void> {
    this.#unsubscribe();
    return this.shutdown();
  }

  /** The notebook's definitions, for shipping the functions loop bodies call (default: its context's). */
  configure(options: { definitions?: DefinitionLookup }): void {
    if (options.definitions) this.#definitions = options.definitions;
  }

  #lookup(): DefinitionLookup | undefined {
    return this.#definitions ?? notebookDefinitions(this.#context);
  }

  get defaultThreads(): number {
    return threadState.defaultThreads;
  }

  set defaultThreads(threads: number) {
    checkThreads(threads);
    threadState.defaultThreads = threads;
  }

  /** Worker threads currently started (the main thread not counted). */
  get workers(): number {
    return this.#team ? this.#team.size - 1 : 0;
  }

  run(
    spec: LoopSpec,
    captured: unknown[],
    reductionInit: unknown[],
    sharedInit: unknown[],
    start: number,
    stop: number,
    step: number,
    body: ChunkFunction,
  ): unknown[] {
    this.#tick();
    if (this.#inLoop) {
      if (this.#loopTurn === this.#turn) {
        // Called from a loop body on the main thread: nested loops run serially.
        return runSerially(spec, captured, reductionInit, sharedInit, start, stop, step, body, createThreadContext());
      }
      // The previous loop never completed (interrupted without a notification): its team is unusable.
      this.#abandonTeam();
    }
    const count = iterationCount(start, stop, step);
    const threads = Math.min(threadState.forcedThreads || (spec.threads ?? threadState.defaultThreads), kMaxThreads);
    if (threads <= 1 || count === 0) return this.#runOnMain(spec, captured, reductionInit, sharedInit, start, stop, step, body);
    return this.#runOnTeam(spec, threads, count, captured, reductionInit, sharedInit, start, step, body);
  }

  /** Kernel interrupt: a loop in flight is abandoned with its team (workers may be deep in a chunk). */
  interrupt(): void {
    if (this.#inLoop) this.#abandonTeam();
  }

  /** Stops the team's workers; the next loop starts a new team. */
  async shutdown(): Promise<void> {
    const team = this.#team;
    this.#team = undefined;
    this.#inLoop = false;
    threadState.inLoop = false;
    await Promise.all([team?.terminate(), ...this.#retiring]);
  }

  #runOnMain(
    spec: LoopSpec,
    captured: unknown[],
    reductionInit: unknown[],
    sharedInit: unknown[],
    start: number,
    stop: number,
    step: number,
    body: ChunkFunction,
  ): unknown[] {
    const recorder = activeTrace();
    const area = recorder ? chunkArea(1) : undefined;
    const t0 = recorder ? traceNow() : 0;
    const iterations = iterationCount(start, stop, step);
    this.#enterLoop(1);
    try {
      return this.#copies.run(spec.id, body, captured, iterations, this.#bodyShipment(spec, body), (b) =>
        runSerially(spec, captured, reductionInit, sharedInit, start, stop, step, area ? tracedBody(b, area, 0) : b, this.#ctx),
      );
    } finally {
      this.#leaveLoop();
      if (recorder) recordLoop(recorder, area!, { line: spec.line, threads: 1, iterations, start: t0, barrier: traceNow() });
    }
  }

  #runOnTeam(
    spec: LoopSpec,
    threads: number,
    count: number,
    captured: unknown[],
    reductionInit: unknown[],
    sharedInit: unknown[],
    start: number,
    step: number,
    body: ChunkFunction,
  ): unknown[] {
    checkLimits(spec);
    const team = this.#teamFor(threads);
    const workers = threads - 1;
    const { ctl, data, sharedSlots } = team.block;
    const gen = Atomics.load(ctl, I.GEN) + 1;

    const arrayReductions = spec.arrayReductions ?? [];
    // The body, once per worker.
    const entry = this.#loopEntry(spec);
    for (let t = 1; t < threads; t++) {
      if (team.hasLoop(t, entry.slot)) continue;
      entry.shipment ??= this.#bodyShipment(spec, body)();
      team.post(t, { type: 'loop', slot: entry.slot, id: spec.id, shipment: entry.shipment, privates: arrayReductions });
      team.markLoop(t, entry.slot);
    }

    // Captured values: numbers in the control block, long-lived objects by handle, the rest by message.
    let env = captured;
    const moved: Moved[] = [];
    const byMessage: [number, unknown][] = [];
    const reduced: { target: TypedArray; all: TypedArray; op: (typeof arrayReductions)[number]['op'] }[] = [];
    for (let k = 0; k < spec.names.length; k++) {
      const v = captured[k];
      let tag: number = Tag.Number;
      const clause = arrayReductions.find((r) => r.k === k);
      if (clause) {
        // Declared a reduction: every thread gets its own slice of one shared buffer.
        checkArrayReduction(clause.op, [v]);
        const target = v as TypedArray;
        const all = this.#reductionBuffers.for(spec.id, k, target, threads);
        if (env === captured) env = captured.slice();
        env[k] = all;
        reduced.push({ target, all, op: clause.op });
        ctl[I.ENV_TAG + k] = Tag.Handle;
        data[F.ENV + k] = this.#sendHandle(team, workers, all, (id) => ({ type: 'handle', id, value: all }));
        continue;
      }
      switch (typeof v) {
        case 'number':
          data[F.ENV + k] = v;
          break;
        case 'undefined':
          tag = Tag.Undefined;
          break;
        case 'boolean':
          tag = v ? Tag.True : Tag.False;
          break;
        case 'function': {
          const name = spec.names[k]!;
          const shipment = this.#shipFunction(spec, name, v);
          tag = Tag.Handle;
          data[F.ENV + k] = this.#sendHandle(team, workers, shipment, (id) => ({ type: 'handle', id, value: undefined, shipment, entry: name }));
          break;
        }
        case 'object':
          if (v === null) {
            tag = Tag.Null;
          } else if (ArrayBuffer.isView(v)) {
            let view = v;
            if (!isSharedView(v)) {
              // Workers cannot see this memory: the loop runs on a shadow, copied back after it.
              view = this.#shadows.copyIn(v);
              if (env === captured) env = captured.slice();
              env[k] = view;
              moved.push({ k, original: v, copy: view });
              this.#noteMoved(spec, k, v);
            }
            tag = Tag.Handle;
            data[F.ENV + k] = this.#sendHandle(team, workers, view, (id) => ({ type: 'handle', id, value: view }));
          } else if (isPlainData(v)) {
            if (Array.isArray(v) && spec.writes.includes(k)) throw Errors.PlainArrayWrite(spec.names[k]!, spec.line);
            tag = Tag.Message;
            byMessage.push([k, v]);
          } else {
            // A class instance would lose its methods in structured clone: src/ship re-creates it, or says why not.
            const name = spec.names[k]!;
            const shipment = this.#shipByName(spec, name);
            if (!shipment) throw Errors.Unsendable(name, spec.line, `it is ${describeValue(v)}, whose methods would be lost in a copy`);
            tag = Tag.Handle;
            data[F.ENV + k] = this.#sendHandle(team, workers, shipment, (id) => ({ type: 'handle', id, value: undefined, shipment, entry: 'value', call: true }));
          }
          break;
        default: // string, bigint, symbol
          tag = Tag.Message;
          byMessage.push([k, v]);
      }
      ctl[I.ENV_TAG + k] = tag;
    }

    // Reductions: each thread starts from the identity.
    const identities = spec.reductions.map((r, k) => identityOf(r.op, reductionInit[k], r.name, spec.line));
    const numeric = identities.every((x) => typeof x === 'number');
    if (numeric) {
      for (let t = 1; t < threads; t++) identities.forEach((x, r) => (data[F.RED + t * kMaxReductions + r] = x as number));
    } else {
      identities.forEach((x, r) => byMessage.push([-1 - r, x]));
    }
    spec.shared.forEach((name, s) => (sharedSlots[s] = toSlot(sharedInit[s], name, spec.line)));

    if (byMessage.length > 0) this.#sendValues(team, spec, workers, gen, byMessage);

    ctl[I.SLOT] = entry.slot;
    ctl[I.NTHREADS] = threads;
    ctl[I.SCHEDULE] = spec.schedule === 'dynamic' ? 1 : 0;
    ctl[I.NENV] = spec.names.length;
    ctl[I.NRED] = spec.reductions.length;
    ctl[I.NSHARED] = spec.shared.length;
    ctl[I.RED_NUMERIC] = numeric ? 1 : 0;
    data[F.START] = start;
    data[F.STEP] = step;
    data[F.COUNT] = count;
    data[F.CHUNK] = spec.chunk ?? 0;

    const red = identities.slice();
    const mainEnv = arrayReductions.length > 0 ? env.slice() : env;
    privatize(mainEnv, arrayReductions, 0, threads);
    let mainError: unknown;
    let mainFailed = false;
    const recorder = activeTrace();
    const area = recorder ? chunkArea(threads) : undefined;
    if (area) for (let t = 1; t < threads; t++) team.post(t, { type: 'trace', gen, area });
    const t0 = recorder ? traceNow() : 0;
    this.#enterLoop(threads);
    try {
      team.start();
      try {
        const share = { thread: 0, threads, count, start, step, dynamic: spec.schedule === 'dynamic', chunk: spec.chunk ?? 0 };
        const run = (b: ChunkFunction) => runShare(b, share, mainEnv, red, sharedSlots, this.#ctx, ctl, area);
        this.#copies.run(spec.id, body, mainEnv, count / threads, this.#bodyShipment(spec, body), run, privatePositions(arrayReductions));
      } catch (err) {
        mainError = err;
        mainFailed = true;
        Atomics.store(ctl, I.FAILED, 1);
      }
      team.waitForWorkers(workers);
      if (recorder) recordLoop(recorder, area!, { line: spec.line, threads, iterations: count, start: t0, barrier: traceNow() });
    } catch (err) {
      // The team itself failed (a worker did not start): start afresh next time.
      this.#abandonTeam();
      throw err;
    } finally {
      this.#leaveLoop();
    }

    // Workers post only errors and non-number partials: read their ports only then.
    const partials: unknown[][] = [red];
    let workerError: Extract<FromWorker, { type: 'error' }> | undefined;
    if (!numeric || Atomics.load(ctl, I.FAILED) !== 0) {
      for (let t = 1; t < threads; t++) {
        for (const m of team.drain(t)) {
          if (m.gen !== gen) continue;
          if (m.type === 'error') workerError ??= m;
          else partials[t] = [...m.values];
        }
      }
    }
    // The caller's arrays see the loop's writes (also those made before an error).
    for (const m of moved) {
      if (spec.writes.includes(m.k) || spec.escapes.includes(m.k)) this.#shadows.copyOut(m.copy, m.original);
    }
    const died = team.deaths()[0];
    if (died) {
      // The kernel and its data are fine; the team is not: the next loop starts a new one.
      this.#abandonTeam();
      throw Errors.ThreadDied(died.thread, spec.line, died.code === 'ERR_WORKER_OUT_OF_MEMORY' ? undefined : died.message, this.#threadHeapMb);
    }
    if (mainFailed) throw mainError;
    if (workerError) {
      const at = workerError.iteration === undefined ? '' : `iteration ${workerError.iteration} of `;
      throw new RemoteError(workerError.error, `thread ${workerError.thread}`, `${at}${describeLoop(spec.line)}`);
    }

    for (const r of reduced) combineInto(r.target, r.all, threads, r.op);
    const results: unknown[] = [];
    spec.reductions.forEach((r, k) => {
      let acc = reductionInit[k];
      for (let t = 0; t < threads; t++) {
        const p = t === 0 ? red[k] : numeric ? data[F.RED + t * kMaxReductions + k] : partials[t]?.[k];
        acc = combine(r.op, acc, p);
      }
      results.push(acc);
    });
    spec.shared.forEach((_, s) => results.push(fromSlot(sharedSlots[s]!, sharedInit[s])));
    return results;
  }

  #enterLoop(threads: number): void {
    this.#inLoop = true;
    this.#loopTurn = this.#turn;
    threadState.loopThreads = threads;
    threadState.inLoop = true;
    this.#ctx.at = undefined;
  }

  #leaveLoop(): void {
    this.#inLoop = false;
    threadState.inLoop = false;
  }

  #tick(): void {
    if (this.#tickQueued) return;
    this.#tickQueued = true;
    queueMicrotask(() => {
      this.#turn++;
      this.#tickQueued = false;
    });
  }

  #teamFor(threads: number): Team {
    let team = this.#team;
    if (team?.broken) {
      this.#retire(team);
      team = undefined;
    }
    if (!team) this.#team = team = new Team({ spinMicros: this.#spinMicros, resourceLimits: { maxOldGenerationSizeMb: this.#threadHeapMb } });
    team.grow(threads);
    return team;
  }

  #abandonTeam(): void {
    const team = this.#team;
    this.#team = undefined;
    this.#leaveLoop();
    if (team) this.#retire(team);
  }

  /** Terminates a team in the background; shutdown() waits for it. */
  #retire(team: Team): void {
    const done = team.terminate().catch(() => undefined);
    this.#retiring.add(done);
    void done.then(() => this.#retiring.delete(done));
  }

  #loopEntry(spec: LoopSpec): LoopEntry {
    let entry = this.#loops.get(spec.id);
    if (!entry) this.#loops.set(spec.id, (entry = { slot: this.#nextSlot++, shipment: undefined }));
    return entry;
  }

  /** The body's shipment, made when first asked for (workers are sent the same one). */
  #bodyShipment(spec: LoopSpec, body: ChunkFunction): () => Shipment {
    return () => {
      const entry = this.#loopEntry(spec);
      return (entry.shipment ??= this.#ship(spec, () => shipLoopBody(spec, body, this.#lookup())));
    };
  }

  #shipFunction(spec: LoopSpec, name: string, fn: Function): Shipment {
    const hit = this.#shipped.get(fn);
    if (hit && hit.turn === this.#turn) return hit.shipment;
    const shipment = this.#ship(spec, () => shipFunction(name, fn, this.#lookup()));
    this.#shipped.set(fn, { shipment, turn: this.#turn });
    return shipment;
  }

  #ship(spec: LoopSpec, make: () => Shipment): Shipment {
    try {
      return make();
    } catch (err) {
      // src/ship's messages name the variable, its cell and the fix: show them as they are.
      if (isUnshippable(err)) throw err;
      throw Errors.Unsendable(spec.names.join(', ') || 'the loop body', spec.line, err instanceof Error ? err.message : String(err));
    }
  }

  #sendHandle(team: Team, workers: number, key: object, message: (id: number) => ToWorker): number {
    let id = 0;
    for (let t = 1; t <= workers; t++) id = team.handleFor(t, key, message);
    return id;
  }

  /** Values that travel by structured clone; those it cannot carry are shipped by name (imports…). */
  #sendValues(team: Team, spec: LoopSpec, workers: number, gen: number, values: [number, unknown][]): void {
    try {
      for (let t = 1; t <= workers; t++) team.post(t, { type: 'values', gen, values });
      return;
    } catch {
      // Some value cannot be cloned: find it below.
    }
    const sendable: [number, unknown][] = [];
    for (const [k, v] of values) {
      try {
        structuredClone(v);
        sendable.push([k, v]);
      } catch (err) {
        const name = spec.names[k] ?? '?';
        const shipment = this.#shipByName(spec, name);
        if (!shipment) throw Errors.Unsendable(name, spec.line, err instanceof Error ? err.message : String(err));
        team.block.ctl[I.ENV_TAG + k] = Tag.Handle;
        team.block.data[F.ENV + k] = this.#sendHandle(team, workers, shipment, (id) => ({ type: 'handle', id, value: undefined, shipment, entry: 'value', call: true }));
      }
    }
    for (let t = 1; t <= workers; t++) team.post(t, { type: 'values', gen, values: sendable });
  }

  #shipByName(spec: LoopSpec, name: string): Shipment | undefined {
    const hit = this.#shippedByName.get(name);
    if (hit && hit.turn === this.#turn) return hit.shipment;
    const shipment = this.#ship(spec, () => shipByName(name, this.#lookup()) as Shipment);
    if (shipment) this.#shippedByName.set(name, { shipment, turn: this.#turn });
    return shipment;
  }

  #noteMoved(spec: LoopSpec, k: number, original: ArrayBufferView): void {
    const key = `${spec.id}:${k}`;
    if (this.#noted.has(key)) return;
    this.#noted.add(key);
    const name = spec.names[k]!;
    const written = spec.writes.includes(k) || spec.escapes.includes(k);
    this.#note(
      `note: '${name}' is not in shared memory, so ${describeLoop(spec.line)} copies it ${written ? 'in and out' : 'in'} on every run ` +
        `(${formatBytes(original.byteLength)}${written ? ` each way); the loop's writes reach '${name}' as usual` : ')'}. ` +
        `Allocate it with shared(${original.constructor.name}, n) or shared.from(${name}) to avoid the ${written ? 'copies' : 'copy'}.`,
    );
  }
}

const kDataPrototypes = new Set<object | null>([
  null,
  Object.prototype,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  SharedArrayBuffer.prototype,
  Error.prototype,
]);

/** Values structured clone copies faithfully (class instances lose their prototype). */
function isPlainData(v: object): boolean {
  return kDataPrototypes.has(Object.getPrototypeOf(v) as object | null) || v instanceof Error;
}

function checkLimits(spec: LoopSpec): void {
  if (spec.names.length > kMaxEnv || spec.reductions.length > kMaxReductions || spec.shared.length > kMaxShared) {
    throw new RangeError(
      `${describeLoop(spec.line)} uses too many outer variables (at most ${kMaxEnv} values, ` +
        `${kMaxReductions} reductions and ${kMaxShared} shared scalars); group them into typed arrays.`,
    );
  }
}

function defaultThreadHeapMb(): number {
  const fromEnv = Number(process.env['TSLAB_PARALLEL_THREAD_HEAP_MB']);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const mainLimit = v8.getHeapStatistics().heap_size_limit / 2 ** 20;
  return Math.max(64, Math.floor(Math.min(mainLimit, os.totalmem() / 2 ** 20 / 4)));
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
