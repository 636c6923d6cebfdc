/**
 * Which thread this is, and how many threads the running loop has. One copy per thread (each
 * worker loads its own modules): threadId() and numThreads() read it wherever they are called.
 */
import { availableParallelism } from 'node:os';
import type { ThreadContext } from '../spec.js';
import { rangeOf, prange } from '../range.js';
import { shared } from '../shared.js';

export const threadState = {
  /** 0 on the main thread; 1… on team workers. */
  id: 0,
  /** Threads of the loop that is running, when one is. */
  loopThreads: 1,
  inLoop: false,
  /** Team size of loops that do not say (`%%parallel` without -n, parallelFor without threads). */
  defaultThreads: Math.max(1, availableParallelism()),
  /** Set by %scaling: every loop runs on this many threads, whatever its -n (0: not set). */
  forcedThreads: 0,
};

/** This thread's number in the running loop: 0 is the main (kernel) thread. */
export function threadId(): number {
  return threadState.id;
}

/** Threads of the running loop; outside a loop, the team size a loop would get. */
export function numThreads(): number {
  return threadState.inLoop ? threadState.loopThreads : threadState.forcedThreads || threadState.defaultThreads;
}

/** Runs every loop on `threads` threads until the returned function is called (%scaling). */
export function forceThreads(threads: number): () => void {
  const previous = threadState.forcedThreads;
  threadState.forcedThreads = threads;
  return () => {
    threadState.forcedThreads = previous;
  };
}

/** What a compiled body gets as its thread context (one object per thread, reused). */
export function createThreadContext(): ThreadContext {
  return { threadId, numThreads, shared, prange, range: rangeOf, at: undefined };
}
