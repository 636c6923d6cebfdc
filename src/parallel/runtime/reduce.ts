/**
 * Reductions, OpenMP style: each thread's private accumulator starts at the identity of the
 * operator (0 for + and -, 1 for * and /, -Infinity for max, +Infinity for min), and the
 * variable's value from before the loop is combined exactly once, after the loop:
 *   tot = tot₀ + p₀ + p₁ + … (partials in thread order).
 * So a non-zero starting value is counted once. (The lecture notes that Numba instead copies the
 * starting value into every private copy.)
 */
import type { ReductionOp } from '../spec.js';
import { describeValue, Errors } from '../errors.js';

export function identityOf(op: ReductionOp, initial: unknown, name: string, line: number): unknown {
  switch (op) {
    case '+':
      if (typeof initial === 'number') return 0;
      if (typeof initial === 'bigint') return 0n;
      if (typeof initial === 'string') return '';
      break;
    case '*':
      if (typeof initial === 'number') return 1;
      if (typeof initial === 'bigint') return 1n;
      break;
    case 'max':
      if (typeof initial === 'number') return -Infinity;
      break;
    case 'min':
      if (typeof initial === 'number') return Infinity;
      break;
  }
  throw Errors.BadReduction(name, op, describeValue(initial), line);
}

export function combine(op: ReductionOp, acc: unknown, partial: unknown): unknown {
  switch (op) {
    case '+':
      return (acc as number) + (partial as number);
    case '*':
      return (acc as number) * (partial as number);
    case 'max':
      return Math.max(acc as number, partial as number);
    case 'min':
      return Math.min(acc as number, partial as number);
  }
}

/** Shared scalars live in Float64 slots: booleans as 1/0, undefined as NaN. */
export function toSlot(value: unknown, name: string, line: number): number {
  switch (typeof value) {
    case 'number':
      return value;
    case 'boolean':
      return value ? 1 : 0;
    case 'undefined':
      return NaN;
    default:
      if (value === null) return 0;
      throw Errors.UnshareableScalar(name, describeValue(value), line);
  }
}

/** The slot's value in the variable's original type. */
export function fromSlot(slot: number, initial: unknown): unknown {
  if (typeof initial === 'boolean') return slot !== 0;
  if (initial === undefined && Number.isNaN(slot)) return undefined;
  if (initial === null && slot === 0) return null;
  return slot;
}
