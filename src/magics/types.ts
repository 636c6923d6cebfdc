/**
 * The contract between the kernel and a magic. A magic is one file in src/magics/ that exports
 * a MagicSpec: its name, kind, declared arguments and handler. The same spec drives parsing,
 * `%name?` help, `%lsmagic` and completion. A handler reaches the kernel only through the
 * MagicContext it is given.
 */
import type { DisplayHandle, MimeBundle } from '../display/types.js';
import type { CodeTarget, DefinitionLookup } from '../ship/types.js';

export type MagicKind = 'line' | 'cell';

interface ArgBase {
  /** Long name without dashes (`np` for `-np`/`--np`, `out` for `--out`). Also the key in `args`. */
  readonly name: string;
  /** One-dash aliases, e.g. ['n'] for `-n`, or ['np'] for mpirun's `-np`. */
  readonly aliases?: readonly string[];
  readonly help: string;
  /** Shown in usage for options that take a value: `--timeout S`. */
  readonly metavar?: string;
  /** Key under which the value is stored, when several flags write one setting (--threads/--processes). */
  readonly dest?: string;
}

/** `--name VALUE` (or `-n VALUE`, `--name=VALUE`). */
export interface ValueOption extends ArgBase {
  readonly kind: 'option';
  readonly type: 'integer' | 'number' | 'string';
  /** Allowed values, checked after conversion; errors list them with a did-you-mean. */
  readonly choices?: readonly string[];
  /** Inclusive bounds for numbers. */
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: ValuePattern;
  readonly default?: string | number;
  /** `--out A --out B` collects ['A', 'B']. */
  readonly repeatable?: boolean;
  readonly required?: boolean;
}

/** `--flag`: stores `value` (default true) under `dest ?? name`. */
export interface FlagOption extends ArgBase {
  readonly kind: 'flag';
  readonly value?: string | boolean;
}

/** A positional argument: `%pool 4`. */
export interface Positional extends ArgBase {
  readonly kind: 'positional';
  readonly type: 'integer' | 'number' | 'string';
  readonly optional?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: ValuePattern;
  readonly choices?: readonly string[];
}

/**
 * The form a string value must have. A value that does not match fails with
 * `%name: --opt VALUE is not <expected>; <fix>`.
 */
export interface ValuePattern {
  readonly regex: RegExp;
  /** What the value should be: 'a variable name'. */
  readonly expected: string;
  /** How to write it instead: 'use --out NAME or --out NAME@all'. */
  readonly fix: string;
}

/**
 * Everything after the options, verbatim: the statement of `%time stmt`, or the file and its
 * arguments of `%mpirun -np 2 file.ts a b`. Stored as a string.
 */
export interface RestArgument extends ArgBase {
  readonly kind: 'rest';
  readonly optional?: boolean;
}

export type ArgumentSpec = ValueOption | FlagOption | Positional | RestArgument;

export type ParsedArgs = Record<string, string | number | boolean | string[] | undefined>;

export interface MagicSpec {
  readonly name: string;
  readonly kind: MagicKind;
  /** First sentence: the `%lsmagic` line. The rest: the body of `%name?`. */
  readonly description: string;
  /** Examples shown by `%name?`, one per line. */
  readonly examples?: readonly string[];
  readonly args: readonly ArgumentSpec[];
  /**
   * Cell magics: whether an empty body is refused (one message, checked before the arguments).
   * Default: 'required', unless the magic takes a rest argument (%%timeit's setup).
   */
  readonly body?: 'required' | 'optional';
  /** What the body holds, for that message: 'the code every rank runs' (default 'the code'). */
  readonly bodyHolds?: string;
  /** The TypeScript type of the handler's value, for `x = %name …` (default `any`). */
  readonly resultType?: string;
  /**
   * Runs the magic. A returned value other than undefined becomes the cell's execute_result,
   * as IPython's `%time expr` returns the value of expr.
   */
  handler(ctx: MagicContext): Promise<unknown> | unknown;
}

/** A name of the notebook namespace, for %who, %whos and `$name` in shell commands. */
export interface NotebookVariable {
  readonly name: string;
  readonly value: unknown;
  /** Bound by the prelude (display, prange, ...) or starting with `_`: not shown by %who. */
  readonly hidden: boolean;
}

/** Code compiled for another thread or process: a function expression plus where it came from. */
export interface CompiledCode extends CodeTarget {
  /** Whether the function is async (it contains a top-level await). */
  readonly isAsync: boolean;
}

/** What a scope outside the notebook has declared: its names, and their declarations as .d.ts text. */
export interface ScopeDeclarations {
  readonly names: readonly string[];
  readonly declarations: string;
}

/** A cell compiled by compileScoped. */
export interface ScopedCode extends CodeTarget {
  /** Value names the cell declares at its top level. */
  readonly declared: readonly string[];
  readonly scope: ScopeDeclarations;
}

export interface MagicContext {
  readonly spec: MagicSpec;
  readonly args: ParsedArgs;
  /** The argument text as typed after the magic name. */
  readonly line: string;
  /** The cell body below the `%%name` line ('' for line magics). */
  readonly body: string;
  /** 1-based line of the cell where `body` starts, so errors point at the cell's own lines. */
  readonly bodyLine: number;
  /** Aborted when the user interrupts the kernel. Long-running work must stop on it. */
  readonly signal: AbortSignal;
  readonly cwd: string;
  /** Notebook definitions, for shipping code that refers to earlier cells. */
  readonly definitions: DefinitionLookup;
  stdout(text: string): void;
  stderr(text: string): void;
  display(value: unknown, options?: { id?: string; metadata?: Record<string, unknown> }): DisplayHandle;
  displayBundle(bundle: MimeBundle, options?: { id?: string; metadata?: Record<string, unknown> }): DisplayHandle;
  /**
   * Runs TypeScript in the notebook namespace as if it were a cell: declarations persist,
   * the last expression's value is returned. `lineOffset` is added to reported line numbers.
   * `label` and `text` name and quote another source in errors (%run's file instead of the cell);
   * `javascript` reports only syntax errors, not type errors.
   */
  execute(source: string, options?: { lineOffset?: number; label?: string; text?: string; javascript?: boolean }): Promise<unknown>;
  /**
   * The value of a TypeScript expression in the notebook namespace (`{expr}` in shell
   * commands). Throws the compile error for an unknown name or bad syntax.
   */
  evaluate(expression: string): Promise<unknown>;
  /** Every name in the notebook namespace, oldest first; `hidden` for those every notebook starts with. */
  variables(): readonly NotebookVariable[];
  /** What the type checker knows of a name: its quick info (`function f(x: number): number`). */
  describe(name: string): Promise<string | undefined>;
  /**
   * Compiles TypeScript that runs in the notebook namespace, without running it, as a
   * function that can be called many times (%timeit). Throws the same errors a cell would.
   */
  compile(source: string, options?: { lineOffset?: number }): Promise<() => unknown>;
  /**
   * Compiles TypeScript to a function expression for another thread or process. `params` are
   * bound by the receiver (e.g. ['comm', 'rank', 'size']) and are declared to the type checker
   * with `paramTypes`. References to earlier cells remain as free names for shipping to resolve.
   */
  compileForShipping(
    source: string,
    options: { params: readonly string[]; paramTypes?: Readonly<Record<string, string>>; lineOffset?: number },
  ): Promise<CompiledCode>;
  /**
   * Compiles a cell for a scope kept outside the notebook (an %mpirun session's ranks): checked
   * against the notebook's declarations plus `scope`'s, top-level names written to and earlier
   * ones read from `exports`. Returns the code (`(async function () { … })`) and the scope
   * after the cell.
   */
  compileScoped(source: string, options: { scope: ScopeDeclarations; lineOffset?: number }): Promise<ScopedCode>;
  /**
   * Binds a name in the notebook namespace, declared to the type checker with `type`
   * (a TypeScript type, e.g. `import("tslab-parallel").Pool`).
   */
  setVariable(name: string, value: unknown, type?: string): void;
  /** Removes a name that setVariable bound (e.g. `%pool --close`). */
  deleteVariable(name: string): void;
  /** Kernel-lifetime state of this magic, created on first use (the pool of %pool). */
  state<T>(key: string, create: () => T): T;
  /** Runs when the kernel shuts down or restarts; resources must be released there. */
  onShutdown(cleanup: () => Promise<void> | void): void;
}

/** Thrown for wrong usage; the kernel shows it as one line `UsageError: …`, never a stack. */
export { UsageError } from '../util/user-facing.js';
