/**
 * The pool's trace: what core.ts hands over when a traced batch comes back, turned into one
 * record per task plus the time the batch spent travelling each way. The worker's clock is its
 * own process's for the processes backend, so its run is placed inside [sent, received].
 */
import type { TraceRecorder } from './recorder.js';

export interface TracedBatch {
  readonly worker: number;
  readonly call: number;
  readonly method: string;
  readonly batch: number;
  /** Input index of the batch's first item. */
  readonly first: number;
  readonly sent: number;
  readonly received: number;
  /** The call's input at an index (for the task's label), and whether inputs are argument lists. */
  readonly inputOf: (index: number) => unknown;
  readonly star: boolean;
  /** Worker clock: when the first item started, and when each item ended. */
  readonly startedAt: number;
  readonly itemEnds: ArrayLike<number>;
}

/** Keeps the batch's raw timings; its records are made when recording stops. */
export function recordPoolBatch(recorder: TraceRecorder, b: TracedBatch): void {
  recorder.defer(() => addBatchRecords(recorder, b));
}

function addBatchRecords(recorder: TraceRecorder, b: TracedBatch): void {
  const n = b.itemEnds.length;
  const lastEnd = n > 0 ? b.itemEnds[n - 1]! : b.startedAt;
  let shift = 0;
  if (b.startedAt < b.sent) shift = b.sent - b.startedAt;
  if (lastEnd + shift > b.received) shift = b.received - lastEnd;
  const started = Math.max(b.sent, b.startedAt + shift);
  const row = `worker ${b.worker}`;
  const common = { row, worker: b.worker, call: b.call, batch: b.batch };
  recorder.add({ kind: 'transfer', direction: 'send', ...common, items: n, label: `send ${n} task${n === 1 ? '' : 's'}`, start: b.sent, end: started });
  const queued = recorder.callStarts.get(b.call) ?? b.sent;
  let at = started;
  for (let i = 0; i < n; i++) {
    const end = Math.min(b.received, Math.max(at, b.itemEnds[i]! + shift));
    const index = b.first + i;
    recorder.add({ kind: 'task', ...common, method: b.method, index, queued, label: taskLabel(b, index), start: at, end });
    at = end;
  }
  recorder.add({ kind: 'transfer', direction: 'return', ...common, items: n, label: `return ${n} result${n === 1 ? '' : 's'}`, start: at, end: b.received });
}

const kLabelChars = 24;

/** "grind, 2" for apply(doStep, 'grind', 2); "#17: 3.5" for an item of a map. */
function taskLabel(b: TracedBatch, index: number): string {
  const input = b.inputOf(index);
  const parts = b.star && Array.isArray(input) ? input : [input];
  const shown = parts.map(short).join(', ');
  const text = shown.length > kLabelChars ? `${shown.slice(0, kLabelChars - 1)}…` : shown;
  return b.method === 'apply' || b.method === 'submit' ? text : `#${index}: ${text}`;
}

function short(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v == null) return String(v);
  if (Array.isArray(v)) return `[${v.length}]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length?: number }).length ?? v.byteLength})`;
  return typeof v === 'function' ? 'ƒ' : '{…}';
}
