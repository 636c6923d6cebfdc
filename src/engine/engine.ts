/**
 * The TypeScript engine of the kernel: compiles cells (type check with tslab, emit with source
 * maps), runs them in the notebook namespace, and keeps what later cells need — declarations
 * for the checker, names in the namespace, source maps for tracebacks.
 */
import { Checker, checkerTypescript, type CheckDiagnostic, type Completion } from './checker.js';
import type { Declaration } from './declarations.js';
import type { EmitOptions, EmitResult } from './emit.js';
import type { LineMap } from './source-map.js';
import { hasTopLevelAwait } from '../util/top-level-await.js';
import { CellRequire, compileCell, kWrapperLines, wrapCell, type CellFunction } from './executor.js';
import { declarationsFor, topLevelNames } from './scoped.js';
import { SourceRegistry } from './sources.js';

const kEmitCacheSize = 256;
/** TypeScript's diagnostic codes below this are syntax errors (1xxx); from it on, type errors. */
const kFirstTypeErrorCode = 2000;

export class CompileError extends Error {
  override readonly name = 'CompileError';
  constructor(
    readonly label: string,
    readonly diagnostics: readonly (CheckDiagnostic & { cellLine: number; cellColumn: number })[],
    /** The cell as typed, to quote the lines in the message. */
    readonly cellText: string,
  ) {
    super(diagnostics.map((d) => `${label}:${d.cellLine}:${d.cellColumn} - ${d.message}`).join('\n'));
  }
}

export interface CompileOptions {
  /** Unique name of this compilation, as stack frames show it: "In[3]", "In[3].1". */
  readonly file: string;
  /** The cell as users know it: "In[3]". */
  readonly label: string;
  /** The whole text of the cell the code comes from, to quote lines in errors. */
  readonly cellText: string;
  /** Lines of the cell above `source` (a magic's body starts on line 2). */
  readonly lineOffset?: number;
  /** JavaScript (%run file.js): only syntax errors fail it, type errors are not reported (as `node FILE`). */
  readonly untyped?: boolean;
}

export interface CompiledCell {
  readonly file: string;
  readonly label: string;
  readonly declarations: readonly Declaration[];
  readonly hasValue: boolean;
  readonly script: string;
  readonly run: () => Promise<unknown>;
}

export interface ShippableFunction {
  readonly code: string;
  readonly file: string;
  /** 1-based line and 0-based column of `code` in the registered script. */
  readonly line: number;
  readonly column: number;
  readonly isAsync: boolean;
}

/** What a scope outside the notebook namespace has declared so far (see compileScoped). */
export interface ScopeDeclarations {
  /** Every name the scope has, values and types. */
  readonly names: readonly string[];
  /** Their declarations, as the checker writes them (a .d.ts text). */
  readonly declarations: string;
}

export interface ScopedFunction extends ShippableFunction {
  /** Value names the cell declares at its top level. */
  readonly declared: readonly string[];
  /** The scope after this cell, for the next one. */
  readonly scope: ScopeDeclarations;
}

export interface EngineOptions {
  readonly cwd: string;
  /** Module ids served by a given path (e.g. 'tslab-parallel' → this package). */
  readonly aliases: ReadonlyMap<string, string>;
  /** A first cell that binds the names every notebook starts with (imports from this package). */
  readonly prelude: string;
  /** Called with every compiled cell before it runs (the definitions registry listens). */
  readonly onCompile?: (cell: CompiledCell) => void;
}

export class Engine {
  readonly namespace: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  readonly sources = new SourceRegistry();
  readonly cwd: string;
  readonly #checker = new Checker();
  /**
   * Emits by source and earlier names: re-running a cell unchanged reuses its JavaScript, as
   * tslab's checker reuses its program when a cell's text has not changed.
   */
  readonly #emitted = new Map<string, EmitResult>();
  readonly #require: CellRequire;
  readonly #module: { exports: Record<string, unknown> };
  readonly #prelude: string;
  readonly #onCompile?: (cell: CompiledCell) => void;
  #declarations = '';
  /** The prelude's run: every compilation waits for it (the first cell may come during warm-up). */
  #preluding: Promise<void> | null = null;
  /**
   * The prelude's names are declared to the checker only when code first mentions one (or on a
   * completion or inspection): declaring them imports the package's whole .d.ts graph into every
   * later cell's program, which costs start time, time per cell and memory in notebooks that
   * never use them. Set while they are not declared yet; see #declarePreludeIfUsed.
   */
  #preludePending: PendingPrelude | null = null;

  constructor(options: EngineOptions) {
    this.cwd = options.cwd;
    this.#require = new CellRequire(options.cwd, options.aliases);
    this.#module = { exports: this.namespace };
    this.#prelude = options.prelude;
    this.#onCompile = options.onCompile;
  }

  /** Loads the compiler (tslab's, which also emits; synchronously, most of a second); otherwise the first cell does it. */
  loadCompiler(): void {
    this.#checker.warmUp();
  }

  /** Loads the compiler and runs the prelude; otherwise the first cell does it. */
  async warmUp(): Promise<void> {
    this.#checker.warmUp();
    await this.#ensurePrelude();
  }

  /** Type-checks and compiles a cell. Throws CompileError for type and syntax errors. */
  async compile(source: string, options: CompileOptions): Promise<CompiledCell> {
    await this.#ensurePrelude();
    this.#declarePreludeIfUsed(source);
    return await this.#compile(source, options, true);
  }

  async #compile(source: string, options: CompileOptions, typeCheck: boolean): Promise<CompiledCell> {
    const lineOffset = options.lineOffset ?? 0;
    const preludePending = this.#preludePending;
    const [emitted, checked] = this.#checkAndEmit(
      source,
      { fileName: options.file, previous: this.#names(), captureLastExpression: true },
      () => (typeCheck ? this.#check(source, options, lineOffset, 0) : undefined),
    );
    const script = wrapCell(emitted.js, emitted.isAsync);
    this.#register(options, emitted.map, script, lineOffset);
    const fn = compileCell(script, options.file);
    const cell: CompiledCell = {
      file: options.file,
      label: options.label,
      declarations: emitted.declarations,
      hasValue: emitted.hasValue,
      script,
      run: () => {
        // Declarations are kept even if the cell then fails: what ran before the error exists.
        if (checked) {
          this.#declarations = checked.declarations;
          this.#require.updateLocalModules(checked.localModules);
          // Checked before the prelude was declared (by a completion since): these declarations lack it.
          if (preludePending && !this.#preludePending) this.#preludePending = preludePending;
        }
        return this.#call(fn, options.file);
      },
    };
    this.#onCompile?.(cell);
    return cell;
  }

  /**
   * Compiles code into a function that runs in the notebook namespace each time it is called
   * (%timeit), without keeping its declarations.
   */
  async compileFunction(source: string, options: CompileOptions): Promise<() => unknown> {
    await this.#ensurePrelude();
    this.#declarePreludeIfUsed(source);
    const isAsync = this.#isAsync(source);
    const head = `(${isAsync ? 'async ' : ''}function () { `;
    const text = `${head}${source}\n})`;
    const [emitted] = this.#checkAndEmit(text, { fileName: options.file, previous: this.#names(), captureLastExpression: true }, () =>
      this.#check(`${isAsync ? 'async ' : ''}function tsp$timed() { ${source}\n}`, options, options.lineOffset ?? 0, head.length),
    );
    const script = wrapCell(emitted.js, false);
    this.#register(options, emitted.map, script, options.lineOffset ?? 0);
    return (await this.#call(compileCell(script, options.file), options.file)) as () => unknown;
  }

  /**
   * Compiles code to a function expression for another thread or process. `params` are bound
   * by the receiver; earlier cells' names stay free (`exports.NAME`) for shipping to resolve.
   */
  async compileForShipping(
    source: string,
    options: CompileOptions & { params: readonly string[]; paramTypes?: Readonly<Record<string, string>> },
  ): Promise<ShippableFunction> {
    await this.#ensurePrelude();
    this.#declarePreludeIfUsed(source, ...Object.values(options.paramTypes ?? {}));
    const params = options.params.join(', ');
    const typed = options.params.map((p) => `${p}: ${options.paramTypes?.[p] ?? 'any'}`).join(', ');
    const head = `(async function (${params}) { `;
    const [emitted] = this.#checkAndEmit(`${head}${source}\n})`, { fileName: options.file, previous: this.#names(), captureLastExpression: false }, () =>
      this.#check(`async function tsp$shipped(${typed}) { ${source}\n}`, options, options.lineOffset ?? 0, `async function tsp$shipped(${typed}) { `.length),
    );
    const script = wrapCell(emitted.js, false);
    this.#register(options, emitted.map, script, options.lineOffset ?? 0);
    // The emitted code is the function expression as a statement (`(async function … });`),
    // possibly after helpers; the function is that statement without its semicolon.
    const code = emitted.js.slice(emitted.js.indexOf(head.trimEnd())).trimEnd().replace(/;$/, '');
    const at = script.indexOf(code);
    const before = script.slice(0, at);
    const line = before.split('\n').length;
    const column = at - (before.lastIndexOf('\n') + 1);
    return { code, file: options.file, line, column, isAsync: true };
  }

  /**
   * Compiles a cell for a scope of its own on another thread or process (an %mpirun session's
   * ranks): checked against the notebook's declarations with `scope.declarations` laid over
   * them; emitted like a notebook cell, so its top-level names are written to `exports` (the
   * scope) and earlier names, the scope's and the notebook's, are read from it. The code is
   * `(async function () { … })`; the notebook's names in it stay free for shipping to resolve.
   */
  async compileScoped(source: string, options: CompileOptions & { scope: ScopeDeclarations }): Promise<ScopedFunction> {
    await this.#ensurePrelude();
    const { scope } = options;
    this.#declarePreludeIfUsed(source, scope.declarations);
    const base = this.#checker.check(this.#declarations, scope.declarations).declarations;
    const previous = new Set([...this.#names(), ...scope.names]);
    const [emitted, checked] = this.#checkAndEmit(source, { fileName: options.file, previous, captureLastExpression: false }, () =>
      this.#check(source, options, options.lineOffset ?? 0, 0, base),
    );
    const script = wrapCell(emitted.js, true);
    this.#register(options, emitted.map, script, options.lineOffset ?? 0);
    const declared = topLevelNames(source);
    const names = [...new Set([...scope.names, ...declared])];
    return {
      code: `(async function () {\n${emitted.js}\n})`,
      file: options.file,
      line: 1,
      column: 0,
      isAsync: true,
      declared: emitted.declarations.map((d) => d.name),
      scope: { names, declarations: declarationsFor(checked.declarations, new Set(names)) },
    };
  }

  /** Binds a name in the namespace and declares its type to the checker. */
  bind(name: string, value: unknown, type = 'any'): void {
    this.namespace[name] = value;
    this.#declarePreludeIfUsed(type);
    this.#declarations = this.#checker.check(this.#declarations, `declare const ${name}: ${type};`).declarations;
  }

  unbind(name: string): void {
    delete this.namespace[name];
    this.#declarations = this.#checker.check(this.#declarations, `declare const ${name}: undefined;`).declarations;
  }

  async complete(source: string, position: number): Promise<Completion> {
    await this.#ensurePrelude();
    this.#declarePrelude();
    return this.#checker.complete(this.#declarations, source, position);
  }

  async inspect(source: string, position: number): Promise<string | undefined> {
    await this.#ensurePrelude();
    this.#declarePrelude();
    return this.#checker.inspect(this.#declarations, source, position);
  }

  isComplete(source: string): { complete: boolean; indent: string; invalid: boolean } {
    return this.#checker.isComplete(source);
  }

  mapStack(stack: string): string {
    return this.sources.mapStack(stack);
  }

  close(): void {
    this.#checker.close();
  }

  /**
   * Type-checks (`check`), then emits: a failed check wins. Both run here, with the same
   * compiler: an emit worker with a compiler of its own cost as much memory again as tslab's
   * whole kernel, and on a busy machine it took the core from the check.
   */
  #checkAndEmit<T>(text: string, options: EmitOptions, check: () => T): [EmitResult, T] {
    const checked = check();
    const key = `${options.captureLastExpression ? 1 : 0}\0${[...options.previous].sort().join(',')}\0${text}`;
    let emitted = this.#emitted.get(key);
    if (!emitted) {
      emitted = (require('./emit.js') as typeof import('./emit.js')).emitCell(text, options); // loaded with the first cell
      if (this.#emitted.size >= kEmitCacheSize) this.#emitted.delete(this.#emitted.keys().next().value as string);
      this.#emitted.set(key, emitted);
    }
    return [emitted, checked];
  }

  #names(): ReadonlySet<string> {
    return new Set(Object.keys(this.namespace));
  }

  #isAsync(source: string): boolean {
    const ts = checkerTypescript();
    // As a module (the `export {}`), so that a top-level `await (…)` reads as an await.
    return hasTopLevelAwait(ts.createSourceFile('x.ts', `${source}\n;export {};\n`, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS), ts);
  }

  /** Type-checks; `firstLineShift` columns of a wrapper precede the source on its first line. */
  #check(text: string, options: CompileOptions, lineOffset: number, firstLineShift: number, declarations = this.#declarations) {
    const checked = this.#checker.check(declarations, text);
    const diagnostics = options.untyped ? checked.diagnostics.filter((d) => d.code < kFirstTypeErrorCode) : checked.diagnostics;
    if (diagnostics.length > 0) {
      throw new CompileError(
        options.label,
        diagnostics.map((d) => ({
          ...d,
          cellLine: d.fileName ? d.line + 1 : d.line + 1 + lineOffset,
          cellColumn: d.line === 0 && !d.fileName ? Math.max(1, d.character + 1 - firstLineShift) : d.character + 1,
        })),
        options.cellText,
      );
    }
    return checked;
  }

  #register(options: CompileOptions, map: LineMap, script: string, lineOffset: number): void {
    this.sources.register(options.file, {
      map,
      wrapperLines: kWrapperLines,
      lineOffset,
      label: options.label,
      cellLines: options.cellText.split('\n'),
      script,
    });
  }

  #call(fn: CellFunction, file: string): Promise<unknown> {
    // The kernel runs this in a task of its own (see Kernel.#runUser and protocol/interrupter.ts).
    return (async () => fn(this.namespace, this.#require.require, this.#module, file, this.cwd))();
  }

  #ensurePrelude(): Promise<void> {
    this.#preluding ??= this.#runPrelude().catch((err: unknown) => {
      // Those waiting now see why; later cells run without the prelude's names.
      this.#preluding = Promise.resolve();
      throw err;
    });
    return this.#preluding;
  }

  /** Runs the prelude cell; its names are declared to the checker later (#declarePreludeIfUsed). */
  async #runPrelude(): Promise<void> {
    const cell = await this.#compile(this.#prelude, { file: 'In[prelude]', label: 'prelude', cellText: this.#prelude }, false);
    await cell.run();
    this.#preludePending = pendingPrelude(cell.declarations, this.namespace);
  }

  /** Declares the prelude's names if any of `texts` (code about to be checked) mentions one. */
  #declarePreludeIfUsed(...texts: string[]): void {
    const pending = this.#preludePending;
    if (pending && texts.some((t) => pending.mentioned.test(t))) this.#declarePrelude();
  }

  /**
   * Declares the prelude's imports, as the prelude cell would have had it been checked, for
   * the names that still hold the prelude's values (a cell may have redefined `display`).
   */
  #declarePrelude(): void {
    const pending = this.#preludePending;
    if (!pending) return;
    this.#preludePending = null;
    const imports = importStatements(pending.imports.filter((d) => d.name in this.namespace && this.namespace[d.name] === pending.values.get(d.name)));
    if (imports) this.#declarations = this.#checker.check(this.#declarations, imports).declarations;
  }
}

interface PendingPrelude {
  readonly imports: readonly Declaration[];
  /** What the prelude bound, by name. */
  readonly values: ReadonlyMap<string, unknown>;
  /** Matches text that mentions any of the names as a word (a string or comment too: that only declares early). */
  readonly mentioned: RegExp;
}

function pendingPrelude(declarations: readonly Declaration[], namespace: Record<string, unknown>): PendingPrelude | null {
  const imports = declarations.filter((d) => d.importSpec?.form === 'named');
  if (!imports.length) return null;
  const values = new Map(imports.map((d) => [d.name, namespace[d.name]]));
  const words = imports.map((d) => d.name.replace(/[$]/g, '\\$')).join('|');
  return { imports, values, mentioned: new RegExp(`(?<![\\w$])(?:${words})(?![\\w$])`) };
}

/** `import { a, b as c } from "m";` for named imports, one statement per module. */
function importStatements(imports: readonly Declaration[]): string {
  const byModule = new Map<string, string[]>();
  for (const d of imports) {
    const spec = d.importSpec;
    if (spec?.form !== 'named') continue;
    const list = byModule.get(spec.module) ?? [];
    list.push(spec.imported === d.name ? d.name : `${spec.imported} as ${d.name}`);
    byModule.set(spec.module, list);
  }
  return [...byModule].map(([module, names]) => `import { ${names.join(', ')} } from ${JSON.stringify(module)};\n`).join('');
}
