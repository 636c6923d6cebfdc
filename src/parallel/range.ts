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

/** Operators of an array reduction, `prange(n).reduction(op, h)`. */
export type ArrayReductionOp = '+' | '*' | 'max' | 'min';

const kArrayReductionOps: readonly string[] = ['+', '*', 'max', 'min'];

/** What prange returns: the iterations, and the loop's reduction clauses. */
export interface PrangeIterable extends Iterable<number> {
  /**
   * Declares typed arrays reductions of the loop, as OpenMP's `reduction(+: h[:n])`: each thread
   * updates a private copy that starts at the operator's identity, and the copies are combined
   * into the array after the loop, in thread order. In a %%parallel cell only; elsewhere the
   * loop is serial and updates the array in place.
   */
  reduction(op: ArrayReductionOp, ...arrays: ArrayBufferView[]): PrangeIterable;
}

/**
 * The iterations of a range. In a %%parallel cell, `for (const i of prange(…))` is compiled into
 * a parallel loop; anywhere else prange is a plain serial range, like Python's range.
 */
export function prange(stop: number): PrangeIterable;
export function prange(start: number, stop: number, step?: number): PrangeIterable;
export function prange(start: number, stop?: number, step?: number): PrangeIterable {
  const [a, n, s] = rangeOf(start, stop, step);
  const range: PrangeIterable = {
    *[Symbol.iterator]() {
      for (let k = 0; k < n; k++) yield a + k * s;
    },
    reduction(op, ...arrays) {
      checkArrayReduction(op, arrays);
      return range;
    },
  };
  return range;
}

/** The clause's arguments, checked the same way in serial and parallel loops. */
export function checkArrayReduction(op: unknown, arrays: readonly unknown[]): void {
  if (!kArrayReductionOps.includes(op as string)) {
    throw Errors.BadArrayReductionOp(String(op));
  }
  arrays.forEach((a, k) => {
    if (!ArrayBuffer.isView(a) || a instanceof DataView) throw Errors.ArrayReductionNotTyped(k + 1, a);
  });
}
