/**
 * Reduction operations. An Op combines two values, `left` coming from lower ranks than `right`,
 * so non-commutative user operations see ranks in order. Objects (reduce/allreduce/scan) are
 * combined whole; typed arrays (Reduce/Allreduce) element by element, in place.
 */
import type { TypedArray } from './buffers.js';
import { Errors } from './errors.js';

export type OpName = 'SUM' | 'PROD' | 'MIN' | 'MAX' | 'LAND' | 'LOR' | 'BAND' | 'BOR' | 'MAXLOC' | 'MINLOC';

/** Elements of any typed array, read and written as numbers (bigint arrays work the same at run time). */
type Elems = { [i: number]: number; readonly length: number };
type Scalar = (a: number, b: number) => number;

export class Op {
  readonly name: string;
  /** Whether the operation is commutative; only then may reductions reorder operands. */
  readonly commute: boolean;
  readonly #scalar: Scalar;
  readonly #object: (left: unknown, right: unknown) => unknown;
  readonly #buffer: ((acc: Elems, other: Elems, otherIsLeft: boolean) => void) | undefined;

  private constructor(
    name: string,
    commute: boolean,
    scalar: Scalar,
    object?: (left: unknown, right: unknown) => unknown,
    buffer?: (acc: Elems, other: Elems, otherIsLeft: boolean) => void,
  ) {
    this.name = name;
    this.commute = commute;
    this.#scalar = scalar;
    this.#object = object ?? ((a, b) => combineObjects(name, scalar, a, b));
    this.#buffer = buffer;
  }

  /**
   * A user-defined operation. `fn(left, right)` combines two values (whole objects for
   * reduce/allreduce, single elements for Reduce/Allreduce on typed arrays); `left` comes from
   * the lower rank. Say `commute = false` when order matters.
   */
  static create<T>(fn: (left: T, right: T) => T, commute = true): Op {
    if (typeof fn !== 'function') throw Errors.BadArgument('Op.create', 'fn must be a function', 'pass (left, right) => result');
    const f = fn as unknown as Scalar;
    return new Op(fn.name || 'user-defined op', commute, f, (a, b) => fn(a as T, b as T));
  }

  /**
   * mpi4py's `Op.Create(function, commute=False)`: `function(invec, inoutvec, datatype)` as in
   * MPI. On typed arrays (Reduce, Allreduce, Scan ...) it gets whole arrays, `invec` from the
   * lower ranks, and leaves `invec op inoutvec` in `inoutvec` (or returns it); on objects
   * (reduce, allreduce ...) it gets the two values and returns the result, as mpi4py calls it.
   */
  static Create(fn: (invec: any, inoutvec: any, datatype?: string) => unknown, commute = false): Op {
    if (typeof fn !== 'function') throw Errors.BadArgument('Op.Create', 'function must be a function', 'pass (invec, inoutvec, datatype) => { ... }');
    const apply = (left: Elems, right: Elems): void => {
      const out = fn(left, right, (right as unknown as TypedArray).constructor.name) as Elems | undefined;
      if (out !== undefined && out !== right) for (let i = 0; i < right.length; i++) right[i] = out[i]!;
    };
    const buffer = (acc: Elems, other: Elems, otherIsLeft: boolean) => {
      if (otherIsLeft) return apply(other, acc);
      // MPI writes into the right operand; here the right one is `other`, which must stay as received.
      const right = (other as unknown as TypedArray).slice() as unknown as Elems;
      apply(acc, right);
      for (let i = 0; i < acc.length; i++) acc[i] = right[i]!;
    };
    return new Op(fn.name || 'user-defined op', commute, (a) => a, (a, b) => fn(a, b, undefined), buffer);
  }

  /** Combines two objects: `left op right`. */
  combine(left: unknown, right: unknown): unknown {
    return this.#object(left, right);
  }

  /** Combines typed arrays element by element into `acc`: acc = other op acc, or acc op other. */
  combineInto(acc: TypedArray, other: TypedArray, otherIsLeft: boolean): void {
    if (acc.length !== other.length) {
      throw Errors.BadArgument(this.name, `buffers of ${acc.length} and ${other.length} elements`, 'give every rank buffers of the same length');
    }
    const a = acc as unknown as Elems;
    const b = other as unknown as Elems;
    if (this.#buffer) return this.#buffer(a, b, otherIsLeft);
    const f = this.#scalar;
    if (otherIsLeft) for (let i = 0; i < a.length; i++) a[i] = f(b[i]!, a[i]!);
    else for (let i = 0; i < a.length; i++) a[i] = f(a[i]!, b[i]!);
  }

  toString(): string {
    return this.name;
  }

  /** @internal */
  static builtin(name: OpName, scalar: Scalar, buffer: (acc: Elems, other: Elems) => void, object?: (l: unknown, r: unknown) => unknown): Op {
    return new Op(name, true, scalar, object, buffer);
  }
}

const isNum = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';

function combineObjects(name: string, f: Scalar, a: unknown, b: unknown): unknown {
  if (isNum(a) && isNum(b)) return f(a as number, b as number);
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.map((x, i) => combineObjects(name, f, x, b[i]));
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && !(a instanceof DataView) && a.constructor === b.constructor) {
    const out = (a as TypedArray).slice() as TypedArray;
    const o = out as unknown as Elems;
    const r = b as unknown as Elems;
    for (let i = 0; i < o.length; i++) o[i] = f(o[i]!, r[i]!);
    return out;
  }
  if ((name === 'SUM' || name === 'MIN' || name === 'MAX') && typeof a === 'string' && typeof b === 'string') return f(a as never, b as never);
  if (!(isNum(a) || Array.isArray(a) || ArrayBuffer.isView(a))) {
    throw Errors.OpNotApplicable(name, a, 'reduce numbers, bigints, arrays or typed arrays of them, or pass your own Op.create(fn)');
  }
  throw Errors.OpNotApplicable(name, b, 'every rank must contribute a value of the same kind and length');
}

function loop(f: Scalar) {
  return (acc: Elems, other: Elems) => {
    for (let i = 0; i < acc.length; i++) acc[i] = f(acc[i]!, other[i]!);
  };
}

/** MAXLOC/MINLOC: pairs (value, location); the better value wins, ties go to the lower location. */
function locOp(name: 'MAXLOC' | 'MINLOC'): Op {
  const better = name === 'MAXLOC' ? (x: number, y: number) => x > y : (x: number, y: number) => x < y;
  const pick = (av: number, al: number, bv: number, bl: number): [number, number] =>
    better(bv, av) || (bv === av && bl < al) ? [bv, bl] : [av, al];
  const buffer = (acc: Elems, other: Elems) => {
    if (acc.length % 2 !== 0) throw Errors.BadArgument(name, 'a buffer of odd length', 'interleave pairs: [value0, loc0, value1, loc1, ...]');
    for (let i = 0; i < acc.length; i += 2) {
      const [v, l] = pick(acc[i]!, acc[i + 1]!, other[i]!, other[i + 1]!);
      acc[i] = v;
      acc[i + 1] = l;
    }
  };
  const object = (a: unknown, b: unknown) => {
    if (!isPair(a)) throw Errors.OpNotApplicable(name, a, 'contribute a pair [value, location], e.g. [x, rank]');
    if (!isPair(b)) throw Errors.OpNotApplicable(name, b, 'contribute a pair [value, location], e.g. [x, rank]');
    return pick(a[0], a[1], b[0], b[1]);
  };
  return Op.builtin(name, (a) => a, buffer, object);
}

function isPair(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && isNum(v[0]) && isNum(v[1]);
}

function bitwise(name: 'BAND' | 'BOR', f: Scalar): Op {
  const object = (a: unknown, b: unknown) => {
    for (const v of [a, b]) {
      if (typeof v === 'number' && !Number.isInteger(v)) throw Errors.OpNotApplicable(name, v, 'use integers (or bigints)');
    }
    return combineObjects(name, f, a, b);
  };
  return Op.builtin(name, f, loop(f), object);
}

const logical = (f: (a: boolean, b: boolean) => boolean) => (a: unknown, b: unknown) => f(Boolean(a), Boolean(b));

export const SUM = Op.builtin('SUM', (a, b) => a + b, (acc, o) => {
  for (let i = 0; i < acc.length; i++) acc[i] += o[i]!;
});
export const PROD = Op.builtin('PROD', (a, b) => a * b, (acc, o) => {
  for (let i = 0; i < acc.length; i++) acc[i] *= o[i]!;
});
export const MIN = Op.builtin('MIN', (a, b) => (b < a ? b : a), loop((a, b) => (b < a ? b : a)));
export const MAX = Op.builtin('MAX', (a, b) => (b > a ? b : a), loop((a, b) => (b > a ? b : a)));
/** 1 or 0 of the element's own kind: a BigInt64Array takes 1n/0n, a Float64Array 1/0. */
const truth = (like: number, value: boolean): number => (typeof like === 'bigint' ? (value ? 1n : 0n) : value ? 1 : 0) as number;
const land: Scalar = (a, b) => truth(a, Boolean(a) && Boolean(b));
const lor: Scalar = (a, b) => truth(a, Boolean(a) || Boolean(b));
export const LAND = Op.builtin('LAND', land, loop(land), logical((a, b) => a && b));
export const LOR = Op.builtin('LOR', lor, loop(lor), logical((a, b) => a || b));
export const BAND = bitwise('BAND', (a, b) => a & b);
export const BOR = bitwise('BOR', (a, b) => a | b);
export const MAXLOC = locOp('MAXLOC');
export const MINLOC = locOp('MINLOC');

const kByName: Readonly<Record<OpName, Op>> = { SUM, PROD, MIN, MAX, LAND, LOR, BAND, BOR, MAXLOC, MINLOC };

export type OpLike = Op | OpName;

/** The Op for an Op or its name ('SUM', 'MAX', ...). */
export function toOp(op: OpLike | undefined): Op {
  if (op === undefined) return SUM;
  if (op instanceof Op) return op;
  const found = typeof op === 'string' ? kByName[op.toUpperCase() as OpName] : undefined;
  if (!found) throw Errors.UnknownOp(op);
  return found;
}
