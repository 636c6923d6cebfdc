/**
 * What the shipping layer needs to know about the notebook, and what it produces.
 *
 * The kernel keeps a registry of every top-level declaration a cell made (functions, classes,
 * variables, imports, enums). Shipping asks it, by name, for the things a piece of code refers
 * to, and turns them into a self-contained module that a worker thread, a child process or an
 * MPI rank can load. Outside a notebook (a plain Node program) there is no registry: code is
 * shipped by source and must not refer to anything but globals and its own arguments.
 */

/** How a worker re-creates an imported binding. `module` is absolute when the import was relative. */
export interface ImportSpec {
  readonly module: string;
  /** namespace: `import * as m`; default: `import m from`; named: `import { x as m }`; require: `import m = require()` */
  readonly form: 'namespace' | 'default' | 'named' | 'require';
  /** For `named`: the exported name that is imported. */
  readonly imported?: string;
}

/** A position in generated JavaScript: 1-based line, 0-based column, in the file named `file`. */
export interface SourceOrigin {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type DefinitionKind = 'function' | 'class' | 'variable' | 'import' | 'enum';

/** A top-level declaration of the notebook. */
export interface Definition {
  readonly name: string;
  readonly kind: DefinitionKind;
  /** The cell that made it, as users see it in messages: "cell In[3]". */
  readonly cell: string;
  /** The current value in the notebook namespace. */
  value(): unknown;
  /** Set for imports: how a worker re-creates the binding. */
  readonly importSpec?: ImportSpec;
  /**
   * Where `code` (normally `String(value())` of a function or class) starts in the generated
   * JavaScript of the cell that defined it, so that stack frames of shipped code map back to
   * the cell's lines. Undefined when the code cannot be found there.
   */
  locate(code: string): SourceOrigin | undefined;
}

/** The notebook's definitions, as the kernel exposes them to magics and to shipping. */
export interface DefinitionLookup {
  lookup(name: string): Definition | undefined;
  /**
   * Where `code` sits in any code the notebook compiled (the newest match), for functions that
   * are not definitions — an arrow written inline in `pool.map((x) => …, xs)`.
   */
  locate?(code: string): SourceOrigin | undefined;
  /** Directory that relative imports of the notebook are resolved against. */
  readonly cwd: string;
}

/**
 * Compiled code that is not a live function value: the body of a %%mpirun cell, a prange loop
 * body. `code` is a JavaScript function expression; `origin` says where it came from.
 */
export interface CodeTarget {
  readonly code: string;
  readonly origin?: SourceOrigin;
  /** Names the code refers to that are bound by the receiver (e.g. comm, rank, size). */
  readonly provided?: readonly string[];
}
