/**
 * tslab's TypeScript engine, as this kernel uses it: type checking, the declarations that
 * carry a cell's names to the next cell, completion, inspection and completeness. This is the
 * only module that loads tslab (pinned exactly in package.json; reached through deep imports).
 * Loading it takes most of a second, so it happens on first use, not at kernel start.
 */
import { createHash } from 'node:crypto';
import type * as TS from 'typescript';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { codeCacheDir, requireWithCodeCache, type SourcePatch } from './code-cache.js';
import { kTypescriptPatchTag, patchTypescriptSource } from './typescript-patch.js';
import { installVirtualPaths, typesDirOf } from './virtual-paths.js';

export interface CheckDiagnostic {
  /** 0-based line and character in the checked source. */
  readonly line: number;
  readonly character: number;
  readonly message: string;
  readonly code: number;
  /** Set when the diagnostic is in another file the cell imports. */
  readonly fileName?: string;
}

/**
 * tslab's converter ends each check by converting its own JavaScript of the cell to CommonJS
 * (`ts.transpileModule`: a program and a checker of its own, as costly as our whole emit), and
 * that output is never used here (src/engine/emit.ts emits the code that runs). The converter
 * is given a compiler whose transpileModule only remembers its input and answers a placeholder;
 * the placeholders that reach a used result (the JavaScript of local modules the cell imports)
 * are converted then, by the real transpileModule. tslab itself is untouched.
 */
class DeferredConversions {
  /** What the converter loads as TypeScript: the compiler, but with a deferring transpileModule. */
  readonly compiler: object;
  #pending: Parameters<typeof TS.transpileModule>[] = [];
  #deferring = false;

  constructor(private readonly ts: typeof TS) {
    const compiler: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    // The compiler's exports are getters: forwarded one by one, as the converter imports them.
    for (const key of Object.keys(ts)) if (key !== 'transpileModule') Object.defineProperty(compiler, key, { enumerable: true, get: () => (ts as unknown as Record<string, unknown>)[key] });
    Object.defineProperty(compiler, 'transpileModule', { enumerable: true, value: (...args: Parameters<typeof TS.transpileModule>) => this.#transpile(args) });
    this.compiler = compiler;
  }

  /** Runs `convert` with transpileModule deferred; its placeholders stay resolvable until the next call. */
  during<T>(convert: () => T): T {
    this.#pending = [];
    this.#deferring = true;
    try {
      return convert();
    } finally {
      this.#deferring = false;
    }
  }

  /** The real conversion behind a placeholder (any other text is returned as it is). */
  resolve(text: string): string {
    const m = kPlaceholder.exec(text);
    const args = m ? this.#pending[Number(m[1])] : undefined;
    return args ? this.ts.transpileModule(...args).outputText : text;
  }

  #transpile(args: Parameters<typeof TS.transpileModule>): TS.TranspileOutput {
    if (!this.#deferring) return this.ts.transpileModule(...args);
    this.#pending.push(args);
    return { outputText: `\0tsp-deferred-conversion:${this.#pending.length - 1}\0`, diagnostics: [] };
  }
}

const kPlaceholder = /^\0tsp-deferred-conversion:(\d+)\0$/;

/**
 * Loads a module of tslab with `compiler` as the TypeScript it (and the tslab modules it loads
 * first) import; the compiler's own module entry is restored afterwards.
 */
function requireWithCompiler(file: string, compiler: object): unknown {
  const tsFile = require.resolve(checkerTypescriptDir());
  checkerTypescript(); // in require.cache from here on
  const entry = require.cache[tsFile]!;
  const real: unknown = entry.exports;
  entry.exports = compiler;
  try {
    return require(file);
  } finally {
    entry.exports = real;
  }
}

export interface CheckResult {
  readonly diagnostics: readonly CheckDiagnostic[];
  /** Declarations of every name known after this cell, for the next cell. */
  readonly declarations: string;
  /** JavaScript of local .ts files the cell imports, by absolute .js path. */
  readonly localModules: ReadonlyMap<string, string>;
}

export interface Completion {
  readonly start: number;
  readonly end: number;
  readonly matches: readonly string[];
}

interface TslabConverter {
  convert(prevDecl: string, src: string): {
    declOutput?: string;
    diagnostics: { start: { line: number; character: number }; messageText: string; code: number; fileName?: string; category: number }[];
    sideOutputs?: { path: string; data: string }[];
  };
  complete(prevDecl: string, src: string, position: number): { start: number; end: number; candidates: string[] };
  inspect(prevDecl: string, src: string, position: number): { displayParts?: { text: string }[]; documentation?: { text: string }[] } | undefined;
  close(): void;
}

interface TslabConverterModule {
  createConverter(): TslabConverter;
  isCompleteCode(src: string): { completed: boolean; indent?: string };
}

const kPackageRoot = join(__dirname, '..', '..', '..');
const kCategoryError = 1;

function tslabDir(): string {
  return dirname(require.resolve('tslab/package.json'));
}

function checkerTypescriptDir(): string {
  return dirname(require.resolve('@tslab/typescript-for-tslab/package.json', { paths: [tslabDir()] }));
}

/** The builder's references of unchanged declaration files, remembered (src/engine/typescript-patch.ts). */
const kTypescriptPatch: SourcePatch = { tag: kTypescriptPatchTag, apply: (source) => patchTypescriptSource(source).source };

/**
 * tslab's TypeScript (a fork of 5.0), the one compiler the engine loads: the checker's, and
 * also what emits cells (src/engine/emit.ts), so that the kernel does not load a second one.
 */
export function checkerTypescript(): typeof import('typescript') {
  return requireWithCodeCache(require.resolve(checkerTypescriptDir()), codeCacheDir(), kTypescriptPatch) as typeof import('typescript');
}

/** The TypeScript version that checks cells, read without loading the compiler. */
export function checkerTypescriptVersion(): string {
  return (JSON.parse(readFileSync(join(checkerTypescriptDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

export function tslabVersion(): string {
  return (JSON.parse(readFileSync(join(tslabDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Checks remembered by declarations and source (re-running an unchanged cell checks nothing). */
const kCheckCacheSize = 128;
/** A relative import reads files that may change between two runs of the same text. */
const kLocalModule = /\b(?:from|import|require)\s*\(?\s*["']\.{1,2}[/\\]/;

export class Checker {
  #converter: TslabConverter | null = null;
  #module: TslabConverterModule | null = null;
  readonly #checked = new Map<string, CheckResult>();
  #conversions: DeferredConversions | null = null;

  #load(): { converter: TslabConverter; module: TslabConverterModule; conversions: DeferredConversions } {
    if (!this.#converter || !this.#module || !this.#conversions) {
      const tsDir = checkerTypescriptDir();
      const ts = checkerTypescript() as unknown as { sys: Parameters<typeof installVirtualPaths>[0] };
      installVirtualPaths(ts.sys, {
        packageRoot: kPackageRoot,
        tslabTypesDir: join(tslabDir(), 'node_modules', '@types'),
        typesDir: typesDirOf((id) => require.resolve(id)),
        libDir: join(tsDir, 'lib'),
      });
      this.#conversions = new DeferredConversions(checkerTypescript());
      this.#module = requireWithCompiler(join(tslabDir(), 'dist', 'converter.js'), this.#conversions.compiler) as TslabConverterModule;
      this.#converter = this.#module.createConverter();
    }
    return { converter: this.#converter, module: this.#module, conversions: this.#conversions };
  }

  /** Loads the compiler now (it is otherwise loaded by the first call). */
  warmUp(): void {
    this.#load();
  }

  check(declarations: string, source: string): CheckResult {
    const cacheable = !kLocalModule.test(source) && !kLocalModule.test(declarations);
    const key = cacheable ? `${createHash('sha1').update(declarations).digest('base64')}\0${source}` : '';
    const cached = cacheable ? this.#checked.get(key) : undefined;
    if (cached) return cached;
    const result = this.#convert(declarations, source);
    if (cacheable) {
      if (this.#checked.size >= kCheckCacheSize) this.#checked.delete(this.#checked.keys().next().value as string);
      this.#checked.set(key, result);
    }
    return result;
  }

  #convert(declarations: string, source: string): CheckResult {
    const { converter, conversions } = this.#load();
    const r = conversions.during(() => converter.convert(declarations, source));
    const diagnostics = r.diagnostics
      .filter((d) => d.category === kCategoryError)
      .map((d) => ({ line: d.start.line, character: d.start.character, message: d.messageText, code: d.code, fileName: d.fileName }));
    return {
      diagnostics,
      declarations: r.declOutput ?? declarations,
      localModules: new Map((r.sideOutputs ?? []).map((o) => [o.path, conversions.resolve(o.data)])),
    };
  }

  complete(declarations: string, source: string, position: number): Completion {
    const c = this.#load().converter.complete(declarations, source, position);
    return { start: c.start, end: c.end, matches: c.candidates };
  }

  /** The quick info (type and documentation) at a position, as text, or undefined. */
  inspect(declarations: string, source: string, position: number): string | undefined {
    const info = this.#load().converter.inspect(declarations, source, position);
    if (!info?.displayParts) return undefined;
    const signature = info.displayParts.map((p) => p.text).join('');
    const docs = (info.documentation ?? []).map((p) => p.text).join('');
    return docs ? `${signature}\n\n${docs}` : signature;
  }

  /**
   * Whether a cell is ready to run (a console sends it on Enter) or needs more lines; `invalid`
   * when it is complete but has a syntax error that more lines cannot fix (is_complete "invalid").
   */
  isComplete(source: string): { complete: boolean; indent: string; invalid: boolean } {
    const r = this.#load().module.isCompleteCode(source);
    if (!r.completed) return { complete: false, indent: r.indent ?? '', invalid: false };
    const ts = checkerTypescript();
    const file = ts.createSourceFile('cell.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const parseErrors = (file as unknown as { parseDiagnostics?: readonly unknown[] }).parseDiagnostics ?? [];
    return { complete: true, indent: '', invalid: parseErrors.length > 0 };
  }

  close(): void {
    this.#converter?.close();
    this.#converter = null;
  }
}
