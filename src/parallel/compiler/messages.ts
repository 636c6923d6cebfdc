/**
 * What the %%parallel compiler tells the user. Each message names the line and, where the code
 * cannot work as written, the alternative. Errors stop the cell; warnings and notes are printed
 * and the cell runs.
 */
export type Severity = 'error' | 'warning' | 'note';

export type MessageCode =
  | 'shared-scalar-write'
  | 'reduction-also-read'
  | 'mixed-reduction'
  | 'invariant-index-write'
  | 'scatter-update'
  | 'plain-array-write'
  | 'property-write'
  | 'await-in-body'
  | 'yield-in-body'
  | 'return-in-body'
  | 'break-out-of-body'
  | 'this-in-body'
  | 'arguments-in-body'
  | 'index-assigned'
  | 'index-pattern'
  | 'for-await'
  | 'prange-arguments'
  | 'reduction-clause'
  | 'nested-prange'
  | 'no-prange';

export interface CompileMessage {
  readonly severity: Severity;
  readonly code: MessageCode;
  /** Line in the cell (the compiler's lineOffset applied), 1-based. */
  readonly line: number;
  readonly column: number;
  /** The variable concerned, where there is one. */
  readonly variable?: string;
  readonly text: string;
}

/** The label printed before a message, in the manner of Python's warning categories. */
export function categoryOf(message: CompileMessage): string {
  if (message.severity === 'error') return 'ParallelCompileError';
  if (message.code === 'nested-prange') return 'NestedPrangeWarning';
  if (message.code === 'no-prange') return 'ParallelPerformanceWarning';
  return 'ParallelSafetyWarning';
}

/** `line 7: ParallelSafetyWarning: …` */
export function formatMessage(message: CompileMessage): string {
  return `line ${message.line}: ${categoryOf(message)}: ${message.text}`;
}

type At = { line: number; column: number };

function make(severity: Severity, code: MessageCode, at: At, text: string, variable?: string): CompileMessage {
  return { severity, code, line: at.line, column: at.column, text, ...(variable === undefined ? {} : { variable }) };
}

export const Messages = {
  sharedScalarWrite: (at: At, name: string, loopLine: number) =>
    make(
      'warning',
      'shared-scalar-write',
      at,
      `variable '${name}' used in the prange loop on line ${loopLine} may be written simultaneously by several ` +
        `threads: they share it and the last writer wins, so the result is non-deterministic. Declare it inside ` +
        `the loop if each iteration needs its own, or update it only with +=, -=, *=, /=, Math.max or Math.min ` +
        `to make it a reduction.`,
      name,
    ),
  reductionAlsoRead: (at: At, name: string, updateLine: number, loopLine: number) =>
    make(
      'warning',
      'reduction-also-read',
      at,
      `variable '${name}' is accumulated on line ${updateLine} but also read here, so it cannot be a private ` +
        `reduction: threads share it in the prange loop on line ${loopLine} and race on it. Read only the final ` +
        `value, after the loop.`,
      name,
    ),
  mixedReduction: (at: At, name: string, loopLine: number) =>
    make(
      'warning',
      'mixed-reduction',
      at,
      `variable '${name}' is updated with operators that do not combine (e.g. += and *=) in the prange loop on ` +
        `line ${loopLine}, so it cannot be a reduction: threads share it and race on it. Use one operator per ` +
        `reduction variable.`,
      name,
    ),
  invariantIndexWrite: (at: At, name: string, index: string, loopVar: string) =>
    make(
      'warning',
      'invariant-index-write',
      at,
      `${name}[${index}] is written at an index that does not depend on the loop variable '${loopVar}': every ` +
        `thread updates the same element of the shared array and updates are lost (Numba stays silent here). ` +
        `Declare the array a reduction, prange(…).reduction('+', ${name}) (each thread updates its own copy, ` +
        `added into ${name} after the loop, like OpenMP's reduction(+: ${name}[:n])), accumulate into a scalar ` +
        `reduction (let s = 0; … s += …; ${name}[${index}] = s after the loop), or index by threadId().`,
      name,
    ),
  scatterUpdate: (at: At, name: string, index: string) =>
    make(
      'warning',
      'scatter-update',
      at,
      `${name}[${index}] is updated in place at a computed index, which several iterations may share: when two ` +
        `threads update the same element at once, one update is lost (a histogram's race). Declare the array a ` +
        `reduction, prange(…).reduction('+', ${name}) (each thread updates its own copy, combined into ${name} ` +
        `after the loop, like OpenMP's reduction(+: ${name}[:n])), or index by the loop variable.`,
      name,
    ),
  plainArrayWrite: (at: At, name: string, declLine: number | undefined) =>
    make(
      'error',
      'plain-array-write',
      at,
      `'${name}' is a plain JS array${declLine === undefined ? '' : ` (declared on line ${declLine})`}: every ` +
        `thread gets its own copy, so writes from the prange body would be lost. Allocate it in shared memory ` +
        `instead, e.g. shared(Float64Array, n) or shared.from(Float64Array.from(${name})).`,
      name,
    ),
  propertyWrite: (at: At, name: string, property: string) =>
    make(
      'error',
      'property-write',
      at,
      `the prange body assigns ${name}.${property}, but every thread gets its own copy of '${name}', so the ` +
        `write would be lost. Write results into a shared typed array, or make '${name}.${property}' a ` +
        `reduction on a local variable and assign it after the loop.`,
      name,
    ),
  awaitInBody: (at: At) =>
    make(
      'error',
      'await-in-body',
      at,
      `await is not allowed in a prange body: the body runs synchronously on worker threads. Await the values ` +
        `you need before the loop.`,
    ),
  yieldInBody: (at: At) =>
    make(
      'error',
      'yield-in-body',
      at,
      `yield is not allowed in a prange body: iterations run on several threads at once. Collect the values ` +
        `in a shared typed array and yield them after the loop.`,
    ),
  returnInBody: (at: At, loopLine: number) =>
    make(
      'error',
      'return-in-body',
      at,
      `return inside the prange loop on line ${loopLine}: iterations run on different threads and cannot end ` +
        `the loop or the function (Numba does not allow it either). Store the result in an array or a reduction ` +
        `variable and return after the loop; use continue to skip the rest of one iteration.`,
    ),
  breakOutOfBody: (at: At, keyword: 'break' | 'continue', loopLine: number) =>
    make(
      'error',
      'break-out-of-body',
      at,
      keyword === 'break'
        ? `break out of the prange loop on line ${loopLine}: every iteration of a parallel loop runs, so it ` +
            `cannot stop early. Use a serial for loop, or skip the remaining iterations with continue.`
        : `continue to a label outside the prange loop on line ${loopLine} cannot be done from a thread; use a ` +
            `plain continue to end the current iteration.`,
    ),
  thisInBody: (at: At) =>
    make(
      'error',
      'this-in-body',
      at,
      `'this' cannot be used in a prange body: the body runs on worker threads, which do not have the object. ` +
        `Copy the fields you need into local constants before the loop.`,
    ),
  argumentsInBody: (at: At) =>
    make(
      'error',
      'arguments-in-body',
      at,
      `'arguments' cannot be used in a prange body: the body runs as its own function on worker threads. Copy ` +
        `what you need into local constants before the loop.`,
    ),
  indexAssigned: (at: At, loopVar: string) =>
    make(
      'error',
      'index-assigned',
      at,
      `the prange loop variable '${loopVar}' is assigned in the body: each thread owns a block of iterations ` +
        `and cannot skip or repeat them. Use another variable, or a step: prange(start, stop, step).`,
      loopVar,
    ),
  indexPattern: (at: At) =>
    make(
      'error',
      'index-pattern',
      at,
      `a prange loop needs a single loop variable: for (const i of prange(n)). Destructure inside the body.`,
    ),
  forAwait: (at: At) =>
    make(
      'error',
      'for-await',
      at,
      `for await cannot run over prange: the loop body runs synchronously on threads. Use for (const i of ` +
        `prange(n)).`,
    ),
  prangeArguments: (at: At, count: number) =>
    make(
      'error',
      'prange-arguments',
      at,
      `prange takes (stop), (start, stop) or (start, stop, step) as plain arguments, got ${count === -1 ? 'a spread argument' : `${count} arguments`}.`,
    ),
  reductionClause: (at: At, problem: string) =>
    make(
      'error',
      'reduction-clause',
      at,
      `${problem}; write the clause as prange(…).reduction(op, a, b, …) with op one of '+', '*', 'max', 'min' ` +
        `and the typed arrays the loop updates, named by their variables.`,
    ),
  nestedPrange: (at: At, outerLine: number) =>
    make(
      'warning',
      'nested-prange',
      at,
      `this prange is nested in the prange loop on line ${outerLine} and runs serially inside it (as in Numba): ` +
        `only the outermost prange is split across threads. Use a plain for loop to say so, or parallelise the ` +
        `inner loop instead if it is the longer one.`,
    ),
  noPrange: (at: At) =>
    make(
      'note',
      'no-prange',
      at,
      `%%parallel found no loop of the form for (const i of prange(…)) in this cell, so nothing in it runs in ` +
        `parallel (Numba says the same when parallel=True finds nothing to transform). Write the loops to split ` +
        `across threads with prange.`,
    ),
};
