/**
 * Runs compiled cells in the kernel process. Cells share one namespace object (`exports`, as in
 * tslab): a cell's top-level names are stored there and later cells read them from it.
 */
import { createRequire } from 'node:module';
import Module from 'node:module';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { Script } from 'node:vm';

/** The wrapper puts the generated code on the line after its own, so maps shift by one line. */
export const kWrapperLines = 1;

export type CellFunction = (
  exports: Record<string, unknown>,
  require: NodeJS.Require,
  module: { exports: Record<string, unknown> },
  filename: string,
  dirname: string,
) => unknown;

/** Wraps generated code the way the executor runs it. */
export function wrapCell(js: string, isAsync: boolean): string {
  return `(${isAsync ? 'async ' : ''}function (exports, require, module, __filename, __dirname) {\n${js}\n})`;
}

/** Compiles wrapped code into a function; stack frames inside it name `file`. */
export function compileCell(script: string, file: string): CellFunction {
  return new Script(script, { filename: file }).runInThisContext() as CellFunction;
}


/**
 * `require` for cells: resolves from the notebook's directory, gives this package for
 * 'tslab-parallel' (so cells need not install it), and serves local .ts modules the checker
 * compiled (`import { f } from './helpers'` with helpers.ts beside the notebook).
 */
export class CellRequire {
  readonly #base: NodeJS.Require;
  readonly #cwd: string;
  readonly #aliases: ReadonlyMap<string, string>;
  readonly #local = new Map<string, string>();
  readonly #loaded = new Map<string, Module>();
  readonly require: NodeJS.Require;

  constructor(cwd: string, aliases: ReadonlyMap<string, string>) {
    this.#cwd = cwd;
    this.#base = createRequire(join(cwd, '__notebook__.js'));
    this.#aliases = aliases;
    const req = ((id: string) => this.#require(id, this.#cwd)) as NodeJS.Require;
    Object.assign(req, { resolve: this.#base.resolve, cache: this.#base.cache, main: this.#base.main, extensions: this.#base.extensions });
    this.require = req;
  }

  /** Local .ts modules compiled by the checker: absolute .js path → JavaScript. */
  updateLocalModules(modules: ReadonlyMap<string, string>): void {
    for (const [path, js] of modules) {
      if (this.#local.get(path) !== js) this.#loaded.delete(path);
      this.#local.set(path, js);
    }
  }

  #require(id: string, fromDir: string): unknown {
    const alias = this.#aliases.get(id);
    if (alias) return this.#base(alias);
    if (id.startsWith('.')) {
      const local = this.#loadLocal(id, fromDir);
      if (local) return local.exports;
      return createRequire(join(fromDir, '__notebook__.js'))(id);
    }
    return this.#base(id);
  }

  #loadLocal(id: string, fromDir: string): Module | undefined {
    let path = resolvePath(fromDir, id);
    if (!path.endsWith('.js')) path += '.js';
    const cached = this.#loaded.get(path);
    if (cached) return cached;
    const js = this.#local.get(path);
    if (js === undefined) return undefined;
    const mod = new Module(path, module);
    mod.filename = path;
    mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(path));
    const dir = dirname(path);
    mod.require = ((childId: string) => this.#require(childId, dir)) as NodeJS.Require;
    this.#loaded.set(path, mod);
    (mod as unknown as { _compile(code: string, filename: string): void })._compile(js, path);
    return mod;
  }
}
