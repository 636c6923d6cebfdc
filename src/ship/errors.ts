/**
 * Errors of the shipping layer. A value that cannot be sent to a worker is reported with the
 * variable, the cell it came from, why it cannot travel and what to do instead.
 */
import { UserFacingError } from '../util/user-facing.js';

/** Why a value cannot be shipped, and the fix, in the user's terms. */
export interface UnshippableReason {
  readonly why: string;
  readonly fix: string;
}

/** Callers (the kernel, magics) test for this to show a one-line message instead of a stack. */
export class UnshippableError extends UserFacingError {
  override readonly name = 'UnshippableError';
  readonly code = 'ERR_UNSHIPPABLE';

  constructor(
    readonly variable: string,
    readonly cell: string | undefined,
    readonly reason: UnshippableReason,
    /** The shipped names that lead to this one, outermost first (`task` → `helper` → `conn`). */
    readonly via: readonly string[],
  ) {
    const from = cell ? ` (from ${cell})` : '';
    const chain = via.length > 0 ? `, which ${via.map((v) => `'${v}'`).join(' → ')} refers to,` : '';
    super(`Cannot send '${variable}'${from}${chain} to workers: ${reason.why}. Fix: ${reason.fix}.`);
  }
}

export const Errors = {
  Unshippable: (variable: string, cell: string | undefined, reason: UnshippableReason, via: readonly string[] = []) =>
    new UnshippableError(variable, cell, reason, via),
};

/** The reasons, one factory per kind of value. */
export const Reasons = {
  socket: (what: string): UnshippableReason => ({
    why: `it is a socket (${what}); sockets, streams and other OS handles belong to the process that opened them and cannot be copied to a worker`,
    fix: 'create it inside the task (open the connection in the function the workers run) and pass only plain data such as a host and port',
  }),
  stream: (what: string): UnshippableReason => ({
    why: `it is a stream (${what}); streams are tied to the thread and process that created them`,
    fix: 'create the stream inside the task, or read the data first and pass the data',
  }),
  handle: (what: string): UnshippableReason => ({
    why: `it is a handle (${what}) owned by this process; handles cannot be copied to a worker`,
    fix: 'create it inside the task, or pass the plain data it holds',
  }),
  promise: (): UnshippableReason => ({
    why: 'it is a Promise, which only has meaning in the thread that created it',
    fix: 'await it first and pass the result',
  }),
  weak: (what: string): UnshippableReason => ({
    why: `it is a ${what}, whose contents cannot be enumerated or copied`,
    fix: 'use a Map, a Set or a plain object',
  }),
  symbol: (): UnshippableReason => ({
    why: 'it is a symbol; symbols are unique to one thread or process',
    fix: 'use a string instead',
  }),
  classInstance: (className: string): UnshippableReason => ({
    why: `it is an instance of class ${className}, which has methods; a copy would keep only its fields`,
    fix: `use a plain object (e.g. { ...value }) and call functions on it inside the task, or construct the ${className} inside the task`,
  }),
  containerOfFunctions: (what: string): UnshippableReason => ({
    why: `it is a ${what} that holds functions; only plain objects and arrays may hold functions`,
    fix: 'use a plain object, or define the functions at the top level of a cell and refer to them by name',
  }),
  closure: (captured: string): UnshippableReason => ({
    why: `it is a closure over live state: it refers to '${captured}', a variable of an enclosing function that workers cannot see`,
    fix: `pass '${captured}' as an argument (or bind it with partial), or define '${captured}' at the top level of a cell`,
  }),
  freeName: (captured: string): UnshippableReason => ({
    why: `it refers to '${captured}', which is neither a global nor one of its parameters`,
    fix: `pass '${captured}' as an argument or bind it with partial(fn, ...)`,
  }),
  undefinedExport: (name: string): UnshippableReason => ({
    why: `it refers to exports.${name}, but no cell defines '${name}' (was it deleted, or the kernel restarted?)`,
    fix: `define '${name}' at the top level of a cell and run that cell again`,
  }),
  dynamicExports: (): UnshippableReason => ({
    why: 'it reads notebook variables dynamically (exports[...]), so the names it needs cannot be known',
    fix: 'refer to notebook variables by name, or pass the values as arguments',
  }),
  noSource: (): UnshippableReason => ({
    why: 'it is a function whose source is not available (a bound function, or a native function that is not a property of a well-known global)',
    fix: 'use partial(fn, ...) instead of fn.bind(...), or wrap it in a function defined at the top level of a cell',
  }),
  unparsable: (): UnshippableReason => ({
    why: "its source text is not a function or class expression that can be evaluated on its own (e.g. a getter or a class's static method)",
    fix: 'define it as a plain function at the top level of a cell',
  }),
  badImport: (module: string): UnshippableReason => ({
    why: `it is an import of '${module}' that cannot be re-created in a worker`,
    fix: 'import the module inside the task with require()',
  }),
  partialNames: (detail: string): UnshippableReason => ({
    why: `it is a partial whose named arguments cannot be matched to parameters: ${detail}`,
    fix: 'bind those arguments by position: partial(fn, a, b)',
  }),
};
