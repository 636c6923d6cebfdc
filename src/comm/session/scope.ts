/**
 * A session rank's namespace: the top-level names its cells declared, kept from cell to cell
 * as the kernel keeps a notebook's. Each cell's shipped module has its own `exports` (the
 * notebook definitions it shipped); bindScope turns that object into a view on the session's
 * scope: reads find the scope's names first, then what the cell shipped; every write (a
 * declaration, an assignment to an earlier cell's name) goes to the scope.
 */
import type { Communicator } from '../communicator.js';

export type Scope = Record<string, unknown>;

export function createScope(comm: Communicator): Scope {
  const scope = Object.create(null) as Scope;
  Object.assign(scope, { comm, rank: comm.rank, size: comm.size });
  return scope;
}

/** Makes `exports` (a shipped module's) read through to `scope` and write into it. */
export function bindScope(exports: Record<string, unknown>, scope: Scope): void {
  const shipped = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(exports)) {
    shipped[key] = exports[key];
    delete exports[key];
  }
  // `exports` has no own names left, so every read and write reaches this prototype's traps.
  const view = new Proxy(shipped, {
    get: (target, key) => (typeof key === 'string' && key in scope ? scope[key] : Reflect.get(target, key)),
    set(_target, key, value) {
      if (typeof key === 'string') scope[key] = value;
      return true;
    },
    has: (target, key) => (typeof key === 'string' && key in scope) || Reflect.has(target, key),
  });
  Object.setPrototypeOf(exports, view);
}
