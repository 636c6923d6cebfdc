/**
 * A team worker. It idles on the control block's generation word: it polls for a short while
 * after each loop (back-to-back loops such as %timeit then start in about a microsecond), then
 * sleeps on the word with Atomics.wait, in slices that return to the event loop so that its
 * console output keeps flowing to the main thread. On each new generation it reads what the
 * main thread posted (receiveMessageOnPort), runs its share of the loop and counts itself done.
 */
import { receiveMessageOnPort, workerData as rawWorkerData } from 'node:worker_threads';
import { loadShipment, mapShippedStack } from '../../../ship/load.js';
import type { Shipment } from '../../../ship/shipment.js';
import { serializeError } from '../../../util/remote-error.js';
import type { ArrayReduction, ChunkFunction } from '../../spec.js';
import { privatePositions, privatize } from '../array-reduce.js';
import { accountForGc } from '../../shared.js';
import { F, I, kMaxReductions, Tag, viewControlBlock } from '../control.js';
import type { FromWorker, ToWorker, WorkerData } from '../protocol.js';
import { BodyCopies, kMaxPositions } from '../body-copies.js';
import { runShare } from '../schedule.js';
import { createThreadContext, threadState } from '../thread-state.js';
import { installSerialRuntime } from '../serial-runtime.js';

const workerData = rawWorkerData as WorkerData;
const { ctl, data, sharedSlots } = viewControlBlock(workerData.ctlBuffer, workerData.dataBuffer);
const thread = workerData.thread;
const port = workerData.port;
const spinMs = workerData.spinMicros / 1000;

threadState.id = thread;
// Loops nested in a body (a %%parallel function called from a prange) run serially here.
installSerialRuntime();

const bodies = new Map<number, { body: ChunkFunction; shipment: Shipment; privates: readonly ArrayReduction[] }>();
const copies = new BodyCopies();
const handles = new Map<number, unknown>();
let values = new Map<number, unknown>();
let traceArea: Float64Array | undefined;
const env: unknown[] = [];
const red: unknown[] = [];
const ctx = createThreadContext();
let seen = 0;

function receive(gen: number): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const msg = m.message as ToWorker;
    switch (msg.type) {
      case 'loop':
        bodies.set(msg.slot, { body: loadShipment(msg.shipment)['body'] as ChunkFunction, shipment: msg.shipment, privates: msg.privates });
        copies.forget(msg.slot);
        break;
      case 'handle':
        // This worker's copy of a shared array keeps its memory alive until this heap collects it.
        if (ArrayBuffer.isView(msg.value)) accountForGc(msg.value.buffer);
        handles.set(msg.id, msg.shipment ? resolveShipped(msg.shipment, msg.entry!, msg.call === true) : msg.value);
        break;
      case 'drop':
        for (const id of msg.ids) handles.delete(id);
        break;
      case 'values':
        if (msg.gen === gen) values = new Map(msg.values);
        break;
      case 'trace':
        if (msg.gen === gen) traceArea = msg.area;
        break;
    }
  }
}

function resolveShipped(shipment: Parameters<typeof loadShipment>[0], entry: string, call: boolean): unknown {
  const fn = loadShipment(shipment)[entry];
  return call ? (fn as () => unknown)() : fn;
}

function runGeneration(gen: number): void {
  values.clear();
  traceArea = undefined;
  let iteration: number | undefined;
  const threads = ctl[I.NTHREADS]!;
  if (thread >= threads) return; // not in this loop's team
  try {
    receive(gen);
    const loop = bodies.get(ctl[I.SLOT]!);
    if (!loop) throw new Error(`internal: loop body ${ctl[I.SLOT]} was not sent to thread ${thread}`);
    const nenv = ctl[I.NENV]!;
    env.length = nenv;
    for (let k = 0; k < nenv; k++) env[k] = decode(ctl[I.ENV_TAG + k]!, data[F.ENV + k]!, k);
    privatize(env, loop.privates, thread, threads);
    const nred = ctl[I.NRED]!;
    const numeric = ctl[I.RED_NUMERIC] === 1;
    red.length = nred;
    const base = F.RED + thread * kMaxReductions;
    for (let r = 0; r < nred; r++) red[r] = numeric ? data[base + r] : values.get(-1 - r);
    threadState.loopThreads = threads;
    threadState.inLoop = true;
    ctx.at = undefined;
    const share = {
      thread,
      threads,
      count: data[F.COUNT]!,
      start: data[F.START]!,
      step: data[F.STEP]!,
      dynamic: ctl[I.SCHEDULE] === 1,
      chunk: data[F.CHUNK]!,
    };
    const run = (body: ChunkFunction) => runShare(body, share, env, red, sharedSlots, ctx, ctl, traceArea);
    copies.run(ctl[I.SLOT]!, loop.body, env, share.count / threads, () => loop.shipment, run, freshPositions(nenv, loop.privates));
    if (numeric) for (let r = 0; r < nred; r++) data[base + r] = red[r] as number;
    else if (nred > 0) port.postMessage({ type: 'partials', gen, values: [...red] } satisfies FromWorker);
  } catch (err) {
    iteration = ctx.at;
    const error = serializeError(err);
    const mapped = error.stack ? { ...error, stack: userFrames(mapShippedStack(error.stack)) } : error;
    port.postMessage({ type: 'error', gen, thread, ...(iteration === undefined ? {} : { iteration }), error: mapped } satisfies FromWorker);
    Atomics.store(ctl, I.FAILED, 1);
  } finally {
    threadState.inLoop = false;
    env.fill(undefined);
    Atomics.add(ctl, I.DONE, 1);
    Atomics.notify(ctl, I.DONE);
  }
}

/** Env positions whose objects are new on every loop: copies of values sent by message, this thread's slice of an array reduction. */
function freshPositions(nenv: number, privates: readonly ArrayReduction[]): number {
  let mask = 0;
  for (let k = 0; k < nenv && k < kMaxPositions; k++) if (ctl[I.ENV_TAG + k] !== Tag.Handle) mask |= 1 << k;
  return mask | privatePositions(privates);
}

/** The stack up to the loop body: frames of this runtime (how the body was called) say nothing to the user. */
function userFrames(stack: string): string {
  const lines = stack.split('\n');
  const cut = lines.findIndex((l) => /^\s+at /.test(l) && /[\\/]parallel[\\/]runtime[\\/]/.test(l));
  return (cut === -1 ? lines : lines.slice(0, cut)).join('\n');
}

function decode(tag: number, value: number, k: number): unknown {
  switch (tag) {
    case Tag.Number:
      return value;
    case Tag.Undefined:
      return undefined;
    case Tag.Null:
      return null;
    case Tag.True:
      return true;
    case Tag.False:
      return false;
    case Tag.Handle:
      return handles.get(value);
    default:
      return values.get(k);
  }
}

/** Sleep slices grow from 5 ms to 1 s while the team is idle; each ends with an event loop turn. */
const kFirstSliceMs = 5;
const kLongestSliceMs = 1000;

/**
 * Poll for `spinMs` (back-to-back loops start within a microsecond), then sleep on the
 * generation word. A sleep slice that times out returns to the event loop, so the worker's
 * console output (acknowledged there) keeps flowing; the slices then grow, so an idle team
 * costs next to nothing.
 */
function idle(spin: boolean, sliceMs: number): void {
  for (;;) {
    let gen = Atomics.load(ctl, I.GEN);
    if (spin) {
      const deadline = performance.now() + spinMs;
      while (gen === seen && performance.now() < deadline) gen = Atomics.load(ctl, I.GEN);
    }
    if (gen === seen) {
      if (Atomics.wait(ctl, I.GEN, seen, sliceMs) === 'timed-out') {
        setImmediate(() => idle(false, Math.min(kLongestSliceMs, sliceMs * 2)));
        return;
      }
      gen = Atomics.load(ctl, I.GEN);
      if (gen === seen) continue;
    }
    seen = gen;
    runGeneration(gen);
    spin = true;
    sliceMs = kFirstSliceMs;
  }
}

// Messages are only ever read synchronously; the interval keeps the event loop alive between sleeps.
setInterval(() => undefined, 1 << 30);
Atomics.store(ctl, I.READY + thread, 1);
idle(true, kFirstSliceMs);
