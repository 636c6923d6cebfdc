/**
 * prange outside compiled code, and the iteration arithmetic everything shares: a prange is a
 * Python range (start, stop, step), with iteration k at start + k * step.
 */
import { Errors } from './errors.js';

/** Number of iterations of range(start, stop, step). */
export function iterationCount(start: number, stop: number, step: number): number {
  if (!Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step)) throw Errors.RangeNotFinite(start, stop, step);
  if (step === 0) throw Errors.ZeroStep();
  return Math.max(0, Math.ceil((stop - start) / step));
}

/** [start, count, step] of prange(stop) / prange(start, stop) / prange(start, stop, step). */
export function rangeOf(start: number, stop?: number, step?: number): [number, number, number] {
  const [a, b, s] = stop === undefined ? [0, start, 1] : [start, stop, step ?? 1];
  return [a, iterationCount(a, b, s), s];
}

/**
 * The iterations of a range. In a %%parallel cell, `for (const i of prange(…))` is compiled into
 * a parallel loop; anywhere else prange is a plain serial range, like Python's range.
 */
export function prange(stop: number): Iterable<number>;
export function prange(start: number, stop: number, step?: number): Iterable<number>;
export function* prange(start: number, stop?: number, step?: number): Iterable<number> {
  const [a, n, s] = rangeOf(start, stop, step);
  for (let k = 0; k < n; k++) yield a + k * s;
}
