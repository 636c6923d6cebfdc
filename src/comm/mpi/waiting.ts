/**
 * How a rank of the Open MPI backend waits. First it spins: the addon tests the requests in a
 * tight native loop (progressSpin) for up to `spinNs`, which is what a small message's round
 * trip needs. If the wait lasts longer, it parks: the addon's progress thread takes over the
 * polling (backing off from spinning to sleeping) and wakes the event loop when a request
 * completes, so the rank's loop is free to forward output, run timers and be stopped.
 *
 * Waits that depend on a message arriving rather than on a request (probe()) cannot be seen
 * by testing requests: the probes their `ready()` makes are recorded and handed to the progress
 * thread, which watches for those messages with MPI_Iprobe.
 */
import { holdLoop, releaseLoop } from '../keep-alive.js';

export interface ProgressEngine {
  /** Tests every request once and handles what completed. */
  poll(): void;
  /** Tests until something completes (handled; true) or `ns` pass (false). */
  progressFor(ns: number): boolean;
  /** Hands polling to the progress thread; `watches` are (comm, source, tag) triples to probe. */
  park(watches: Int32Array | null): void;
  unpark(): void;
}

export interface WaitHooks {
  /** A wait has lasted a while (blocked, in `waitingIn`), or the rank runs again. */
  state?(blocked: boolean, waitingIn: string): void;
}

/** A wait longer than this is reported as blocked; shorter ones are normal hand-overs. */
const kReportBlockedMs = 50;

const kNoProbes: number[] = [];

interface Sleeper {
  readonly ready: () => boolean;
  readonly waitingIn: () => string;
  readonly resolve: () => void;
}

export class Waiters {
  readonly #engine: ProgressEngine;
  readonly #spinNs: number;
  readonly #hooks: WaitHooks;
  readonly #sleeping: Sleeper[] = [];
  /** Probes made while a `ready()` runs, as (comm, source, tag) triples. */
  #recording = false;
  /** Probes recorded in the current evaluation (only non-empty while a probe wait runs). */
  #recorded: number[] = [];
  /** A spin just ran out: the wait() that follows it (the comm layer's pattern) parks at once. */
  #spunOut = false;
  #blockedTimer: NodeJS.Timeout | undefined;
  #reportedBlocked = false;

  constructor(engine: ProgressEngine, spinNs: number, hooks: WaitHooks) {
    this.#engine = engine;
    this.#spinNs = spinNs;
    this.#hooks = hooks;
  }

  /** Called by probe(): a waiter may be waiting for this message. */
  watching(comm: number, source: number, tag: number): void {
    if (this.#recording) this.#recorded.push(comm, source, tag);
  }

  /** Polls for up to the spin time without yielding; true when `ready()` became true. */
  spin(ready: () => boolean): boolean {
    if (this.#spinNs === 0) return ready();
    const done = this.#spin(ready);
    this.#spunOut = !done;
    return done;
  }

  async wait(ready: () => boolean, waitingIn: () => string): Promise<void> {
    if (ready()) return;
    const spun = this.#spunOut;
    this.#spunOut = false;
    if (this.#spinNs > 0 && !spun && this.#spin(ready)) return;
    const woken = new Promise<void>((resolve) => this.#sleeping.push({ ready, waitingIn, resolve }));
    this.#check();
    holdLoop();
    try {
      await woken;
    } finally {
      releaseLoop();
    }
  }

  /** Something completed (or the progress thread woke us): resolve the waits that are ready. */
  check(): void {
    // Not from inside a ready() (probe() polls): that check is already running.
    if (this.#sleeping.length > 0 && !this.#recording) this.#check();
  }

  get sleeping(): number {
    return this.#sleeping.length;
  }

  #spin(ready: () => boolean): boolean {
    let watches = this.#evaluate(ready);
    if (watches === true) return true;
    const end = performance.now() + this.#spinNs / 1e6;
    let left = this.#spinNs;
    for (;;) {
      // A probe wait needs a message to arrive, which no request shows: poll from here.
      if (watches.length > 0) this.#engine.poll();
      else this.#engine.progressFor(left);
      watches = this.#evaluate(ready);
      if (watches === true) return true;
      left = (end - performance.now()) * 1e6;
      if (left <= 0) return false;
    }
  }

  /** true when ready; else the probes `ready()` made (kNoProbes, shared, when it made none). */
  #evaluate(ready: () => boolean): true | number[] {
    this.#recording = true;
    try {
      if (ready()) return true;
      if (this.#recorded.length === 0) return kNoProbes;
      const probes = this.#recorded;
      this.#recorded = [];
      return probes;
    } finally {
      this.#recording = false;
    }
  }

  #check(): void {
    const watches: number[] = [];
    let resolved = false;
    for (let i = 0; i < this.#sleeping.length; ) {
      const w = this.#sleeping[i]!;
      const result = this.#evaluate(w.ready);
      if (result === true) {
        this.#sleeping.splice(i, 1);
        w.resolve();
        resolved = true;
      } else {
        watches.push(...result);
        i++;
      }
    }
    if (resolved) this.#running();
    if (this.#sleeping.length === 0) {
      this.#engine.unpark();
      clearTimeout(this.#blockedTimer);
      this.#blockedTimer = undefined;
      return;
    }
    this.#engine.park(watches.length > 0 ? Int32Array.from(watches) : null);
    this.#armBlockedReport();
  }

  #running(): void {
    if (!this.#reportedBlocked) return;
    this.#reportedBlocked = false;
    this.#hooks.state?.(false, '');
  }

  #armBlockedReport(): void {
    if (this.#blockedTimer || this.#reportedBlocked || !this.#hooks.state) return;
    this.#blockedTimer = setTimeout(() => {
      this.#blockedTimer = undefined;
      const first = this.#sleeping[0];
      if (!first) return;
      this.#reportedBlocked = true;
      this.#hooks.state?.(true, first.waitingIn());
    }, kReportBlockedMs).unref();
  }
}
