/**
 * Errors of the parallel layer, each from a named factory; each message ends with the fix.
 */
import type { CompileMessage } from './compiler/messages.js';
import { kMaxThreads } from './runtime/control.js';
import { UserFacingError } from '../util/user-facing.js';

/** A %%parallel cell that cannot run as written; the message lists every problem with its line. */
export class ParallelCompileError extends UserFacingError {
  override readonly name = 'ParallelCompileError';
  readonly messages: readonly CompileMessage[];

  constructor(messages: readonly CompileMessage[]) {
    const errors = messages.filter((m) => m.severity === 'error');
    // The error's name already says what it is: each line is `line N: what and the fix`.
    super(errors.map((m) => `line ${m.line}: ${m.text}`).join('\n'));
    this.messages = messages;
    // Our stack is of no use to the user: the message already points at their lines.
    this.stack = `${this.name}: ${this.message}`;
  }
}

function withCode<E extends Error>(error: E, code: string): E {
  return Object.assign(error, { code });
}

export const Errors = {
  ZeroStep: () => withCode(new RangeError('prange() step must not be zero; use a positive step to count up, a negative one to count down.'), 'ERR_PRANGE_STEP'),
  RangeNotFinite: (start: number, stop: number, step: number) =>
    withCode(
      new RangeError(`prange(${start}, ${stop}, ${step}) needs finite numbers; check the loop bounds.`),
      'ERR_PRANGE_RANGE',
    ),
  BadArrayReductionOp: (op: string) =>
    withCode(
      new TypeError(`prange(…).reduction('${op}', …): the operator must be '+', '*', 'max' or 'min'.`),
      'ERR_PRANGE_REDUCTION',
    ),
  ArrayReductionNotTyped: (position: number, value: unknown) =>
    withCode(
      new TypeError(
        `prange(…).reduction(op, …): argument ${position} is ${describeValue(value)}, but array reductions need a typed array ` +
          `(Float64Array, Int32Array, …); a number updated with += is a reduction without a clause.`,
      ),
      'ERR_PRANGE_REDUCTION',
    ),
  ThreadDied: (thread: number, line: number, why: string | undefined, heapMb: number) =>
    withCode(
      new Error(
        why === undefined
          ? `thread ${thread} ran out of memory in ${describeLoop(line)} (its JS heap is limited to ${heapMb} MiB), so it stopped. ` +
              `The kernel and its variables are fine and the next loop starts a new team. Allocate less inside the loop ` +
              `(typed arrays do not count against the limit), or raise it with TSLAB_PARALLEL_THREAD_HEAP_MB.`
          : `thread ${thread} stopped during ${describeLoop(line)}: ${why}. The kernel and its variables are fine and the next loop starts a new team.`,
      ),
      'ERR_PRANGE_THREAD_DIED',
    ),
  PlainArrayWrite: (name: string, line: number) =>
    withCode(
      new TypeError(
        `'${name}' is a plain JS array, which ${describeLoop(line)} writes: every thread would write ` +
          `its own copy and the results would be lost. Allocate it in shared memory instead: ` +
          `shared(Float64Array, n), or shared.from(Float64Array.from(${name})).`,
      ),
      'ERR_PRANGE_PLAIN_ARRAY',
    ),
  UnshareableScalar: (name: string, what: string, line: number) =>
    withCode(
      new TypeError(
        `'${name}' is written by several threads in ${describeLoop(line)}, so it lives in a shared ` +
          `slot, but it holds ${what}: only numbers, booleans, undefined and null can be shared. Declare it ` +
          `inside the loop, or accumulate a number with +=.`,
      ),
      'ERR_PRANGE_SHARED_SCALAR',
    ),
  BadReduction: (name: string, op: string, what: string, line: number) =>
    withCode(
      new TypeError(
        `'${name}' is a ${op === '+' ? 'sum' : op === '*' ? 'product' : op} reduction in ${describeLoop(line)}, but it holds ${what}: reductions need a number${op === '+' || op === '*' ? ' or a bigint' : ''}` +
          `${op === '+' ? ' (or a string, concatenated in iteration order under the static schedule)' : ''}. ` +
          `Initialise it before the loop, e.g. let ${name} = 0.`,
      ),
      'ERR_PRANGE_REDUCTION',
    ),
  Unsendable: (name: string, line: number, why: string) =>
    withCode(
      new TypeError(
        `'${name}', which ${describeLoop(line)} uses, cannot be sent to the worker threads: ${why}. ` +
          `Create it inside the loop body, or pass the plain numbers and typed arrays it holds.`,
      ),
      'ERR_PRANGE_UNSENDABLE',
    ),
  TeamStartFailed: (why: string) =>
    withCode(
      new Error(`the parallel thread team could not start: ${why}. Run the cell again; if it persists, restart the kernel.`),
      'ERR_PRANGE_TEAM',
    ),
  BadThreads: (value: unknown) =>
    withCode(new TypeError(`threads must be a positive integer (at most ${kMaxThreads}), got ${String(value)}`), 'ERR_PRANGE_OPTION'),
  BadSchedule: (value: unknown) =>
    withCode(
      new TypeError(`schedule must be 'static' or 'dynamic', optionally with a chunk size ('dynamic,64'), got ${String(value)}`),
      'ERR_PRANGE_OPTION',
    ),
};

/** The one check of a team size: an integer from 1 to kMaxThreads (the control block's size). */
export function checkThreads(value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > kMaxThreads) throw Errors.BadThreads(value);
}

/** "the prange loop on line 7", or for loops from parallelFor (line 0) "the parallel loop". */
export function describeLoop(line: number): string {
  return line > 0 ? `the prange loop on line ${line}` : 'the parallel loop';
}

/** How a value reads in a message: "a string", "an object (Map)". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object': {
      const ctor = (value as object).constructor?.name;
      return ctor && ctor !== 'Object' ? `an object (${ctor})` : 'an object';
    }
    case 'undefined':
      return 'undefined';
    default:
      return `a ${typeof value}`;
  }
}
