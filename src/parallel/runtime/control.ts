/**
 * The team's shared control block. Dispatching a loop and collecting its end go through these
 * words (Atomics on a SharedArrayBuffer), never through a message round trip: an empty loop
 * costs a few microseconds instead of a postMessage per thread and back.
 */
export const kMaxThreads = 256;
export const kMaxEnv = 256;
export const kMaxReductions = 32;
export const kMaxShared = 64;

/** Int32 words. Words that threads poll or update concurrently sit on their own 64-byte line. */
export const I = {
  /** Bumped by the main thread to start a loop. */
  GEN: 0,
  /** Workers that finished the current loop. */
  DONE: 16,
  /** Next chunk of a dynamic schedule. */
  NEXT: 32,
  /** Set when any thread failed: dynamic schedules stop handing out chunks. */
  FAILED: 48,
  /** Loop body slot (workers cache bodies by slot). */
  SLOT: 64,
  NTHREADS: 65,
  /** 0 static, 1 dynamic. */
  SCHEDULE: 66,
  NENV: 67,
  NRED: 68,
  NSHARED: 69,
  /** 1: reduction partials are numbers, in the data block; 0: workers post them. */
  RED_NUMERIC: 70,
  /** Workers that died (counted by the supervisor thread); never reset: the team is then replaced. */
  DEAD: 71,
  /** One word per worker, set once its entry script runs. */
  READY: 128,
  ENV_TAG: 128 + kMaxThreads,
  LENGTH: 128 + kMaxThreads + kMaxEnv,
} as const;

/** Float64 words. */
export const F = {
  START: 0,
  STEP: 1,
  COUNT: 2,
  CHUNK: 3,
  ENV: 8,
  SHARED: 8 + kMaxEnv,
  RED: 8 + kMaxEnv + kMaxShared,
  LENGTH: 8 + kMaxEnv + kMaxShared + kMaxThreads * kMaxReductions,
} as const;

/** How each captured value travels: in the data block, or by handle, or in this loop's message. */
export const Tag = {
  Number: 0,
  Undefined: 1,
  Null: 2,
  True: 3,
  False: 4,
  /** A handle the worker already holds (a shared array, a shipped function); its id is in the data block. */
  Handle: 5,
  /** Sent with this loop's `values` message. */
  Message: 6,
} as const;

export interface ControlBlock {
  readonly ctl: Int32Array;
  readonly data: Float64Array;
  /** The shared-scalar slots, as the bodies see them. */
  readonly sharedSlots: Float64Array;
}

export function createControlBlock(): { ctlBuffer: SharedArrayBuffer; dataBuffer: SharedArrayBuffer } {
  return {
    ctlBuffer: new SharedArrayBuffer(I.LENGTH * Int32Array.BYTES_PER_ELEMENT),
    dataBuffer: new SharedArrayBuffer(F.LENGTH * Float64Array.BYTES_PER_ELEMENT),
  };
}

export function viewControlBlock(ctlBuffer: SharedArrayBuffer, dataBuffer: SharedArrayBuffer): ControlBlock {
  return {
    ctl: new Int32Array(ctlBuffer),
    data: new Float64Array(dataBuffer),
    sharedSlots: new Float64Array(dataBuffer, F.SHARED * Float64Array.BYTES_PER_ELEMENT, kMaxShared),
  };
}

/** Iterations of chunk c under a schedule: [lo, hi). Static blocks: one per thread. */
export function staticBlock(thread: number, threads: number, count: number): [number, number] {
  return [Math.floor((thread * count) / threads), Math.floor(((thread + 1) * count) / threads)];
}
