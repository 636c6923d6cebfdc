/**
 * Array reductions, `prange(…).reduction('+', h)` (OpenMP's `reduction(+: h[:n])`): every
 * thread updates a private copy of the array that starts at the operator's identity; after the
 * loop the copies are combined into the array, in thread order:
 *   h[j] = h₀[j] ⊕ p₀[j] ⊕ p₁[j] ⊕ …
 * The copies are slices of one shared buffer (threads × length), kept per loop, so a loop that
 * runs again reuses it and each thread fills its own slice itself.
 */
import type { TypedArray } from '../../util/typed-array.js';
import type { ArrayReduction, ReductionOp } from '../spec.js';

type Constructor = new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => TypedArray;

export class ReductionBuffers {
  readonly #buffers = new Map<string, TypedArray>();

  /** The shared buffer of thread copies for array `k` of loop `id`. */
  for(id: string, k: number, target: TypedArray, threads: number): TypedArray {
    const key = `${id}:${k}`;
    const ctor = target.constructor as Constructor;
    const length = target.length * threads;
    let buf = this.#buffers.get(key);
    if (!buf || buf.constructor !== ctor || buf.length !== length) {
      buf = new ctor(new SharedArrayBuffer(length * target.BYTES_PER_ELEMENT), 0, length);
      this.#buffers.set(key, buf);
    }
    return buf;
  }
}

/** Thread `thread`'s private copy in `env`, set to the identity (each thread does its own). */
export function privatize(env: unknown[], reductions: readonly ArrayReduction[], thread: number, threads: number): void {
  for (const { k, op } of reductions) {
    const all = env[k] as TypedArray;
    const n = all.length / threads;
    const mine = all.subarray(thread * n, (thread + 1) * n);
    (mine.fill as (v: number | bigint) => void)(identityFor(mine, op));
    env[k] = mine;
  }
}

/** The env positions privatize() replaces on every loop, as a bit mask (for runtime/body-copies.ts). */
export function privatePositions(reductions: readonly ArrayReduction[]): number {
  let mask = 0;
  for (const { k } of reductions) if (k < 31) mask |= 1 << k; // (a body with more positions is never copied)
  return mask;
}

/** Combines the threads' copies into the array, in thread order. */
export function combineInto(target: TypedArray, all: TypedArray, threads: number, op: ReductionOp): void {
  const n = target.length;
  const t = target as unknown as number[];
  const p = all as unknown as number[];
  for (let th = 0; th < threads; th++) {
    const base = th * n;
    switch (op) {
      case '+':
        for (let j = 0; j < n; j++) t[j] += p[base + j]!;
        break;
      case '*':
        for (let j = 0; j < n; j++) t[j] *= p[base + j]!;
        break;
      case 'max':
        for (let j = 0; j < n; j++) if (!(t[j]! >= p[base + j]!)) t[j] = greater(t[j]!, p[base + j]!);
        break;
      case 'min':
        for (let j = 0; j < n; j++) if (!(t[j]! <= p[base + j]!)) t[j] = lesser(t[j]!, p[base + j]!);
        break;
    }
  }
}

/** Math.max's answer (NaN wins) for numbers, the larger for bigints. */
function greater(a: number, b: number): number {
  return typeof a === 'number' ? Math.max(a, b) : b > a ? b : a;
}

function lesser(a: number, b: number): number {
  return typeof a === 'number' ? Math.min(a, b) : b < a ? b : a;
}

/** The identity of `op` in the array's element type: 0, 1, or the type's lowest / highest value. */
export function identityFor(view: TypedArray, op: ReductionOp): number | bigint {
  const big = view instanceof BigInt64Array || view instanceof BigUint64Array;
  switch (op) {
    case '+':
      return big ? 0n : 0;
    case '*':
      return big ? 1n : 1;
    case 'max':
      return lowest(view);
    case 'min':
      return highest(view);
  }
}

function lowest(view: TypedArray): number | bigint {
  if (view instanceof Float64Array || view instanceof Float32Array) return -Infinity;
  if (view instanceof BigInt64Array) return -(2n ** 63n);
  if (view instanceof BigUint64Array) return 0n;
  if (view instanceof Int8Array) return -(2 ** 7);
  if (view instanceof Int16Array) return -(2 ** 15);
  if (view instanceof Int32Array) return -(2 ** 31);
  return 0; // unsigned integers
}

function highest(view: TypedArray): number | bigint {
  if (view instanceof Float64Array || view instanceof Float32Array) return Infinity;
  if (view instanceof BigInt64Array) return 2n ** 63n - 1n;
  if (view instanceof BigUint64Array) return 2n ** 64n - 1n;
  const bits = view.BYTES_PER_ELEMENT * 8;
  if (view instanceof Int8Array || view instanceof Int16Array || view instanceof Int32Array) return 2 ** (bits - 1) - 1;
  return 2 ** bits - 1;
}
