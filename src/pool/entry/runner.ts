/**
 * The worker side of both backends: keeps the shipments a worker was sent and runs batches of
 * items through them, one item after the other (a worker runs one task at a time, like a
 * Python pool process), stopping early when the call is cancelled or an item throws.
 */
import { ensureSerialRuntime } from '../../parallel/runtime/serial-runtime.js';
import { loadShipment, mapShippedStack } from '../../ship/load.js';
import { ItemClock } from '../../trace/item-clock.js';
import { serializeError, type SerializedError } from '../../util/remote-error.js';
import {
  kFailedLoading,
  kInitializerFailed,
  type BatchReply,
  type BatchRequest,
  type InitReply,
  type InitRequest,
  type PingReply,
  type WorkerRequest,
} from '../protocol.js';
import { kShipmentsPerWorker } from '../shipment-cache.js';

export interface RunnerHooks {
  readonly workerId: number;
  isCancelled(req: BatchRequest): boolean;
  /** Records the item being run (threads: in the shared control block). */
  setProgress?(seq: number, index: number): void;
  /** Yield to the event loop this often during a batch (processes: to read cancel messages). */
  readonly yieldEveryMs?: number;
  outputSeq(): number;
}

export interface RunResult {
  readonly reply: BatchReply | PingReply | InitReply;
  /** ArrayBuffers to transfer with the reply. */
  readonly transfer: ArrayBuffer[];
}

// A %%parallel function sent to the pool runs its loops serially in the worker.
ensureSerialRuntime();


export class Runner {
  readonly #hooks: RunnerHooks;
  readonly #shipments = new Map<string, Record<string, Function>>();
  /** The initializer threw: this worker runs no batch (the pool is broken). */
  #initError: SerializedError | undefined;

  constructor(hooks: RunnerHooks) {
    this.#hooks = hooks;
  }

  async run(req: WorkerRequest): Promise<RunResult> {
    if (req.kind === 'ping') {
      return {
        reply: { kind: 'ping', seq: req.seq, workerId: this.#hooks.workerId, pid: process.pid, outputSeq: this.#hooks.outputSeq() },
        transfer: [],
      };
    }
    if (req.kind === 'init') return this.#init(req);
    return this.#batch(req);
  }

  async #init(req: InitRequest): Promise<RunResult> {
    try {
      const { initializer } = loadShipment(req.shipment) as { initializer: (...args: unknown[]) => unknown };
      const value = initializer(...req.args);
      if (isThenable(value)) await value;
    } catch (err) {
      this.#initError = toMain(err);
    }
    const error = this.#initError;
    return { reply: { kind: 'init', seq: req.seq, outputSeq: this.#hooks.outputSeq(), ...(error ? { error } : {}) }, transfer: [] };
  }

  async #batch(req: BatchRequest): Promise<RunResult> {
    const hooks = this.#hooks;
    // Traced (%%timeline): when each item ended.
    const clock = req.trace ? new ItemClock(req.items.length) : undefined;
    const reply = (fields: Omit<BatchReply, 'kind' | 'seq' | 'outputSeq' | 'elapsedMs'>, elapsedMs = 0): RunResult => ({
      reply: { kind: 'batch', seq: req.seq, elapsedMs, outputSeq: hooks.outputSeq(), ...fields, ...(clock ? { trace: clock.finish() } : {}) },
      transfer: [],
    });
    if (this.#initError) return reply({ results: [], error: { index: kInitializerFailed, error: this.#initError } });
    for (const key of req.release ?? []) this.#shipments.delete(key);
    if (req.shipment) {
      try {
        this.#remember(req.key, loadShipment(req.shipment));
      } catch (err) {
        // The module itself failed (e.g. a require of a missing module): no item ran.
        return reply({ results: [], error: { index: kFailedLoading, error: toMain(err) } });
      }
    }
    const fns = this.#shipments.get(req.key);
    if (!fns) return reply({ results: [], missingShipment: true });
    const fn = fns[req.entry] as (...args: unknown[]) => unknown;
    const { items, star } = req;
    const n = items.length;
    const results = new Array<unknown>(n);
    const start = performance.now();
    const yieldEvery = hooks.yieldEveryMs;
    let lastYield = start;
    for (let i = 0; i < n; i++) {
      if (hooks.isCancelled(req)) return reply({ results: results.slice(0, i), cancelled: true }, performance.now() - start);
      hooks.setProgress?.(req.seq, i);
      let value: unknown;
      try {
        value = star ? fn(...(items[i] as unknown[])) : fn(items[i]);
        if (isThenable(value)) value = await value;
        const where = unsendablePart(value);
        if (where !== undefined) throw unsendable(where);
      } catch (err) {
        return reply({ results: results.slice(0, i), error: { index: i, error: toMain(err) } }, performance.now() - start);
      }
      results[i] = value;
      clock?.ended();
      if (yieldEvery !== undefined && (i & 63) === 63 && performance.now() - lastYield > yieldEvery) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    const packed = packNumbers(results);
    const done = reply({ results: packed ?? results }, performance.now() - start);
    if (!req.transferResults) return done;
    return { reply: done.reply, transfer: packed ? [packed.buffer as ArrayBuffer] : transferablesOf(results) };
  }

  #remember(key: string, fns: Record<string, Function>): void {
    this.#shipments.delete(key);
    this.#shipments.set(key, fns);
    if (this.#shipments.size > kShipmentsPerWorker) this.#shipments.delete(this.#shipments.keys().next().value as string);
  }
}

/** All-number results travel as one Float64Array (a block copy instead of one value at a time). */
function packNumbers(results: readonly unknown[]): Float64Array | undefined {
  if (results.length < kPackAtLeast) return undefined;
  const packed = new Float64Array(results.length);
  for (let i = 0; i < results.length; i++) {
    const v = results[i];
    if (typeof v !== 'number') return undefined;
    packed[i] = v;
  }
  return packed;
}

/** Below this many results, packing is not worth its check. */
const kPackAtLeast = 64;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

function unsendable(where: string): TypeError {
  return new TypeError(`the task returned ${where}, which cannot be sent back to the main thread; return plain data instead`);
}

/**
 * What in a result structured clone would reject (a function or symbol, possibly inside plain
 * objects and arrays), described for the message; undefined when it can be sent. Checked here
 * because a clone failure while replying would take the whole worker down.
 */
function unsendablePart(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'function' || typeof value === 'symbol') return path ? `a ${typeof value} at ${path}` : `a ${typeof value}`;
  if (value === null || typeof value !== 'object' || depth > 32 || ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unsendablePart(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  for (const key of Object.keys(value)) {
    const found = unsendablePart((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The error as the main side should see it: frames mapped to cells, ours cut off. */
function toMain(err: unknown): SerializedError {
  const s = serializeError(err);
  if (!s.stack) return s;
  const lines = mapShippedStack(s.stack).split('\n');
  const ours = lines.findIndex((line) => line.includes(__dirname));
  return { ...s, stack: (ours > 0 ? lines.slice(0, ours) : lines).join('\n') };
}

/** Non-shared ArrayBuffers of top-level results (typed arrays or buffers), each once. */
function transferablesOf(results: readonly unknown[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const r of results) {
    if (r instanceof ArrayBuffer) buffers.add(r);
    else if (ArrayBuffer.isView(r) && r.buffer instanceof ArrayBuffer) buffers.add(r.buffer);
  }
  return [...buffers];
}
