/**
 * Attribution: which batch (and, when known, which input) a worker was running — when it died,
 * so that the error names it and the other batches go back to the queue, and when a call timed
 * out, so that the timeout names the input that took too long. Threads record the item they run in the control block; for processes a batch
 * of one input is exact and a longer one is reported as a range.
 */
import type { Backend } from './options.js';
import { Errors, type RunningInput, type WorkerLoss } from './errors.js';

/** A batch in flight, as attribution sees it. */
export interface LostBatch {
  readonly seq: number;
  readonly start: number;
  readonly end: number;
  readonly pid: number | undefined;
}

export interface Blame<R extends LostBatch> {
  /** The batch the worker was running. */
  readonly culprit: R;
  /** The input it was running, when known exactly. */
  readonly index: number | undefined;
}

/**
 * The batch to blame among `batches` (what went to the worker that stopped, oldest first), or
 * undefined when the stop was ours (terminate) and nothing is to blame.
 * `progress` is what the worker last recorded as running (threads), if anything.
 */
export function blame<R extends LostBatch>(
  batches: readonly R[],
  progress: { readonly seq: number; readonly index: number } | undefined,
  expected: boolean,
): Blame<R> | undefined {
  if (expected) return undefined;
  const culprit = batches.find((r) => r.seq === progress?.seq) ?? batches[0];
  if (!culprit) return undefined;
  const index =
    progress && progress.seq === culprit.seq ? culprit.start + progress.index : culprit.end - culprit.start === 1 ? culprit.start : undefined;
  return { culprit, index };
}

/** The WorkerDiedError for a blamed batch. */
export function deathError<R extends LostBatch>(
  found: Blame<R>,
  worker: number,
  backend: Backend,
  loss: WorkerLoss,
  inputAt: (index: number) => unknown,
  memoryLimitMb: number | undefined,
): Error {
  const { culprit, index } = found;
  return Errors.WorkerDied({
    worker,
    pid: culprit.pid,
    backend,
    loss,
    ...(index !== undefined ? { index, input: inputAt(index) } : { range: [culprit.start, culprit.end] as const }),
    ...(memoryLimitMb !== undefined ? { memoryLimitMb } : {}),
  });
}

/** What a busy worker is running (its oldest batch in flight), for a call's timeout. */
export function runningInput<R extends LostBatch>(
  running: R,
  worker: number,
  progress: { readonly seq: number; readonly index: number } | undefined,
  inputAt: (index: number) => unknown,
): RunningInput {
  const index = blame([running], progress, false)?.index;
  return {
    worker,
    pid: running.pid,
    ...(index !== undefined ? { index, input: inputAt(index) } : { range: [running.start, running.end] as const }),
  };
}
