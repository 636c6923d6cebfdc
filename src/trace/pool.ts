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
  /** Worker clock: when the first item started, and when each item ended. */
  readonly startedAt: number;
  readonly itemEnds: readonly number[];
}

export function recordPoolBatch(recorder: TraceRecorder, b: TracedBatch): void {
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
    recorder.add({ kind: 'task', ...common, method: b.method, index, queued, label: `${b.method} #${index}`, start: at, end });
    at = end;
  }
  recorder.add({ kind: 'transfer', direction: 'return', ...common, items: n, label: `return ${n} result${n === 1 ? '' : 's'}`, start: at, end: b.received });
}
