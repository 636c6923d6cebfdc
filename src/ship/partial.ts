/**
 * partial(): Python's functools.partial for functions that workers run.
 *
 *   partial(integrate, Math.exp, 0.001)        // binds the first parameters by position
 *   partial(gauss, { x0, sigma })              // binds parameters by name, like partial(gauss, x0=x0, sigma=sigma)
 *
 * The result is an ordinary function (`myfun(1.5)` works here), and shipping sends it by its
 * parts: the function by source, the bound values as data. Named binding reads parameter names
 * from the function's source, so it only applies when every key of the single object argument is
 * a parameter name of `fn`; otherwise the object is bound by position like any other value.
 *
 * This file is loaded in workers too (to rebuild partials), so it must not load typescript
 * eagerly: parameter names are read through a lazily loaded parser.
 */

import { sharedSymbol } from '../util/global-object.js';

const kPartial = sharedSymbol('partial');

/** What a partial is made of; enough to rebuild it in a worker. */
export interface PartialParts {
  readonly fn: Function;
  /** Bound by position: the first parameters. */
  readonly args: readonly unknown[];
  /** Bound by name. */
  readonly named: Readonly<Record<string, unknown>>;
  /** Parameter position of each named argument. */
  readonly positions: Readonly<Record<string, number>>;
}

/** Parameter names of a function, in order; undefined for a destructured one. Reads the source. */
export type ParameterReader = (fn: Function) => readonly { name: string | undefined; rest: boolean }[];

let readParameters: ParameterReader | undefined;

function parameterReader(): ParameterReader {
  // Lazy: ./params loads the typescript parser, which workers rebuilding partials never need.
  return (readParameters ??= (require('./params.js') as { parameterList: ParameterReader }).parameterList);
}

export function isPartial(value: unknown): boolean {
  return typeof value === 'function' && kPartial in value;
}

export function partialParts(fn: Function): PartialParts | undefined {
  return (fn as unknown as Record<symbol, PartialParts | undefined>)[kPartial];
}

/** Builds the callable from its parts (used here and by workers). */
export function makePartial(
  fn: Function,
  args: readonly unknown[],
  named: Readonly<Record<string, unknown>>,
  positions: Readonly<Record<string, number>>,
): Function {
  const boundAt = new Map<number, unknown>();
  for (const key of Object.keys(named)) boundAt.set(positions[key] as number, named[key]);
  const lastBound = boundAt.size > 0 ? Math.max(...boundAt.keys()) : -1;
  const fixed = args.slice();
  const bound = function (this: unknown, ...rest: unknown[]): unknown {
    const full = fixed.slice();
    let r = 0;
    for (let pos = full.length; pos <= lastBound; pos++) full.push(boundAt.has(pos) ? boundAt.get(pos) : rest[r++]);
    while (r < rest.length) full.push(rest[r++]);
    return fn.apply(this, full);
  };
  const parts: PartialParts = { fn, args: fixed, named: { ...named }, positions: { ...positions } };
  Object.defineProperty(bound, kPartial, { value: parts });
  Object.defineProperty(bound, 'name', { value: `partial(${fn.name || 'anonymous'})` });
  return bound;
}

/** Parameter list of `fn`, seen through partials (bound parameters removed). */
export function parametersOf(fn: Function): readonly { name: string | undefined; rest: boolean }[] {
  const parts = partialParts(fn);
  if (!parts) return parameterReader()(fn);
  const inner = parametersOf(parts.fn);
  const taken = new Set(Object.values(parts.positions));
  return inner.filter((_, i) => i >= parts.args.length && !taken.has(i));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Positions of `keys` among the parameters of `fn`, or undefined if some key is not a parameter. */
function namedPositions(fn: Function, keys: readonly string[]): Record<string, number> | undefined {
  let params: readonly { name: string | undefined; rest: boolean }[];
  try {
    params = parametersOf(fn);
  } catch {
    return undefined; // source unavailable or unparsable: bind by position
  }
  const positions: Record<string, number> = {};
  for (const key of keys) {
    const index = params.findIndex((p) => p.name === key && !p.rest);
    if (index < 0) return undefined;
    positions[key] = index;
  }
  return positions;
}

/** Binds leading arguments by position. */
export function partial<A extends unknown[], B extends unknown[], R>(fn: (...args: [...A, ...B]) => R, ...bound: A): (...rest: B) => R;
/** Binds parameters by name, like Python's partial(f, x0=1, sigma=2). */
export function partial<R>(fn: (...args: never[]) => R, named: Readonly<Record<string, unknown>>): (...rest: unknown[]) => R;
export function partial(fn: Function, ...bound: unknown[]): Function {
  if (typeof fn !== 'function') throw new TypeError('partial(fn, ...) needs a function as its first argument');
  const only = bound[0];
  if (bound.length === 1 && isPlainObject(only) && Object.keys(only).length > 0) {
    const positions = namedPositions(fn, Object.keys(only));
    if (positions) return nest(fn, [], only, positions);
  }
  return nest(fn, bound, {}, {});
}

/**
 * A partial of a partial binds into the inner one's remaining parameters; flattening keeps one
 * level of parts to ship. Positions given relative to the outer parameter list are translated.
 */
function nest(
  fn: Function,
  args: readonly unknown[],
  named: Readonly<Record<string, unknown>>,
  positions: Readonly<Record<string, number>>,
): Function {
  const inner = partialParts(fn);
  if (!inner) return makePartial(fn, args, named, positions);
  // Free positions of the inner partial, in order: what the outer list of parameters indexes.
  const taken = new Set(Object.values(inner.positions));
  const free: number[] = [];
  const needed = Math.max(args.length, ...Object.values(positions).map((p) => p + 1), 0);
  for (let pos = inner.args.length; free.length < needed; pos++) if (!taken.has(pos)) free.push(pos);
  const innerNamed: Record<string, unknown> = { ...inner.named };
  const innerPositions: Record<string, number> = { ...inner.positions };
  args.forEach((value, i) => {
    const key = `#${free[i]}`;
    innerNamed[key] = value;
    innerPositions[key] = free[i] as number;
  });
  for (const [key, value] of Object.entries(named)) {
    innerNamed[key] = value;
    innerPositions[key] = free[positions[key] as number] as number;
  }
  return makePartial(inner.fn, inner.args, innerNamed, innerPositions);
}
