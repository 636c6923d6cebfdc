/**
 * The process-wide trace slot. Tracing is off unless a recorder is installed; the hooks in the
 * pool, the parallel runtime and the communicator read `activeTrace()` once and do nothing when
 * it is null. The slot is one of the process context (util/process-context.ts), so every copy of
 * this package in the process (a cell's require('tslab-parallel')) records into the same trace.
 */
import { currentContext, defineSlot } from '../util/process-context.js';
import { traceNow } from './clock.js';
import type { TraceRecord } from './records.js';

export class TraceRecorder {
  readonly records: TraceRecord[] = [];
  readonly startedAt = traceNow();
  stoppedAt: number | undefined;
  /** When each pool call was made (call id → trace time), for its tasks' queued time. */
  readonly callStarts = new Map<number, number>();
  #loops = 0;
  readonly #deferred: (() => void)[] = [];

  add(record: TraceRecord): void {
    this.records.push(record);
  }

  /** Work that can wait until recording stops (turning raw timings into records), off the traced run's clock. */
  defer(work: () => void): void {
    this.#deferred.push(work);
  }

  /** Runs the deferred work; `records` is complete afterwards. */
  finish(): void {
    for (const work of this.#deferred.splice(0)) work();
  }

  /** The next loop number (1, 2, …). */
  nextLoop(): number {
    return ++this.#loops;
  }
}

const kTraceSlot = defineSlot<TraceRecorder | null>('trace.recorder', () => null);

export function activeTrace(): TraceRecorder | null {
  return currentContext().peek(kTraceSlot) ?? null;
}

/** Starts recording; a trace already running keeps running (nested %%timeline). */
export function startTrace(): { recorder: TraceRecorder; stop: () => TraceRecorder } {
  const context = currentContext();
  const previous = context.peek(kTraceSlot) ?? null;
  const recorder = previous ?? new TraceRecorder();
  const restore = context.set(kTraceSlot, recorder);
  return {
    recorder,
    stop: () => {
      recorder.stoppedAt = traceNow();
      restore();
      if (!previous) recorder.finish();
      return recorder;
    },
  };
}
