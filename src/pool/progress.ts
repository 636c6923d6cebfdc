/**
 * Progress of long calls: after `progressAfter` seconds a call reports done/total, rate and ETA
 * every half second, and once more when it ends. The kernel renders the reports as one
 * updatable display; outside a kernel nothing listens by default.
 */

export interface ProgressReport {
  /** The call's number in this pool, so that a display can follow one call. */
  readonly call: number;
  /** 'map', 'imap', 'starmap', … */
  readonly method: string;
  readonly done: number;
  readonly total: number;
  readonly elapsedSeconds: number;
  /** Tasks per second so far. */
  readonly rate: number;
  /** Seconds left at the current rate; undefined before the first task ends. */
  readonly etaSeconds: number | undefined;
  /** The last report of this call. */
  readonly finished: boolean;
  /** How it ended, in the last report. */
  readonly outcome?: 'completed' | 'failed' | 'cancelled';
}

export type ProgressCallback = (report: ProgressReport) => void;

const kReportEveryMs = 500;

export class ProgressReporter {
  readonly #start = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #reported = false;

  constructor(
    private readonly call: number,
    private readonly method: string,
    private readonly snapshot: () => { done: number; total: number },
    private readonly callback: ProgressCallback | undefined,
    afterSeconds: number,
  ) {
    if (!callback || afterSeconds < 0) return;
    this.#timer = setTimeout(() => {
      this.#report(false);
      this.#timer = setInterval(() => this.#report(false), kReportEveryMs);
      this.#timer.unref();
    }, afterSeconds * 1000);
    this.#timer.unref();
  }

  /** Stops reporting; sends a final report if any was sent. */
  finish(outcome: 'completed' | 'failed' | 'cancelled'): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#reported) this.#report(true, outcome);
  }

  #report(finished: boolean, outcome?: 'completed' | 'failed' | 'cancelled'): void {
    this.#reported = true;
    const { done, total } = this.snapshot();
    const elapsedSeconds = (performance.now() - this.#start) / 1000;
    const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
    const report: ProgressReport = {
      call: this.call,
      method: this.method,
      done,
      total,
      elapsedSeconds,
      rate,
      etaSeconds: rate > 0 ? (total - done) / rate : undefined,
      finished,
      ...(outcome ? { outcome } : {}),
    };
    try {
      this.callback?.(report);
    } catch {
      // A failing display must not fail the call.
    }
  }
}

/** One line for text displays: `map: 40/100 tasks (40%), 12.5 tasks/s, 4.8 s left`. */
export function formatProgress(r: ProgressReport): string {
  const pct = r.total > 0 ? Math.floor((100 * r.done) / r.total) : 100;
  const rate = r.rate >= 100 ? r.rate.toFixed(0) : r.rate.toPrecision(3);
  const tail = r.finished
    ? `${r.outcome ?? 'completed'} in ${r.elapsedSeconds.toFixed(1)} s`
    : r.etaSeconds === undefined
      ? 'estimating time left'
      : `${r.etaSeconds.toFixed(1)} s left`;
  return `${r.method}: ${r.done}/${r.total} tasks (${pct}%), ${rate} tasks/s, ${tail}`;
}
